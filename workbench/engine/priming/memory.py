"""Memory files: the ``CLAUDE.md`` and ``AGENTS.md`` a project and its user already have, loaded as a standing primer.

Found as Claude Code finds them (code.claude.com/docs/en/memory), then ``AGENTS.md``
(what Codex and other agents read) beside each ``CLAUDE.md``:

- ``~/.claude/CLAUDE.md``: the user's instructions for every project;
- from the topmost folder above the workspace down to the workspace itself:
  ``CLAUDE.md``, ``.claude/CLAUDE.md``, ``CLAUDE.local.md``, ``AGENTS.md``;
  the more specific come later, and a file reached twice (a symlink, an import) is read once.

A file imports others with ``@path`` (relative to the importing file, ``~/`` for the
home folder, or absolute), up to four hops deep; ``@`` inside code spans and fenced
blocks is text. An import that leads outside the workspace is followed only from the
user's own memory file (a project's file could otherwise pull in any file of the
user's: Claude Code asks first, the workbench does not follow it). Block-level HTML
comments are left out. A file over 4 MiB is skipped; if all of it together is more
than the configured token limit, none is loaded. Every file left out is named with
the reason, and what is loaded is loaded whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

from workbench.engine.config import MemorySettings
from workbench.engine.context.fold import primer_text
from workbench.engine.context.tokens import MEMORY_PRIMER, TokenCounter
from workbench.engine.priming.syntax import segments
from workbench.protocol.events import Event, Primed

MAX_IMPORT_HOPS = 4
MAX_FILE_BYTES = 4 * 1024 * 1024
PROJECT_FILES = ("CLAUDE.md", ".claude/CLAUDE.md", "CLAUDE.local.md", "AGENTS.md")
INTRODUCTION = (
    "The memory files of this workspace and of its user follow: standing instructions for every task. "
    "Where they conflict, the more specific (later) file wins."
)


@dataclass
class MemoryLoad:
    """The standing primer to inject (None when there is none), the files in it, and what was left out and why."""

    primed: Primed | None = None
    files: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class _Source:
    path: Path
    scope: str  # how the file is introduced to the model
    text: str


def standing_primer(settings: MemorySettings, workspace: Path, counter: TokenCounter) -> MemoryLoad:
    """The memory files of ``workspace`` and the user's (nothing when switched off in the config)."""
    if not settings.enabled:
        return MemoryLoad()
    return load_memory(workspace, Path.home(), counter, settings.max_tokens)


def logged_standing_primer(events: list[Event]) -> Primed | None:
    """The standing primer a session started with (what its agents keep getting, byte for byte, after a resume)."""
    found = next((e for e in events if isinstance(e, Primed) and e.primer == MEMORY_PRIMER), None)
    return found.model_copy(update={"seq": 0, "agent": ""}) if found is not None else None


def load_memory(workspace: Path, home: Path, counter: TokenCounter, max_tokens: int) -> MemoryLoad:
    """Read every memory file and its imports; the ``primed`` event that carries them."""
    loader = _Loader(workspace.resolve(), home, counter)
    user_file = home / ".claude" / "CLAUDE.md"
    if user_file.is_file():
        loader.read(user_file, "the user's own instructions, for every project", trusted=True)
    for folder in [*reversed(workspace.resolve().parents[:-1]), workspace.resolve()]:
        for name in PROJECT_FILES:
            candidate = folder / name
            if candidate.is_file():
                scope = (
                    "the user's private project instructions" if name == "CLAUDE.local.md" else "project instructions"
                )
                loader.read(candidate, scope, trusted=False)
    result = MemoryLoad(files=[s.path for s in loader.sources], problems=loader.problems)
    if not loader.sources:
        return result
    text = "\n\n".join(
        [INTRODUCTION, *(f"Contents of {s.path} ({s.scope}):\n\n{s.text.strip()}" for s in loader.sources)]
    )
    event = Primed(primer=MEMORY_PRIMER, text=text, sha256=hashlib.sha256(text.encode()).hexdigest())
    tokens = counter.count(primer_text(event))
    if tokens > max_tokens:
        biggest = sorted(loader.sources, key=lambda s: -len(s.text))[:3]
        named = ", ".join(f"{s.path} ({counter.count(s.text):,})" for s in biggest)
        result.problems.append(
            f"The memory files hold {tokens:,} tokens, more than the limit of {max_tokens:,} "
            f"([memory] max_tokens): none was loaded. The largest: {named}."
        )
        result.files = []
        return result
    result.primed = event.model_copy(update={"tokens": tokens})
    return result


class _Loader:
    def __init__(self, workspace: Path, home: Path, counter: TokenCounter) -> None:
        self.workspace = workspace
        self.home = home
        self.counter = counter
        self.sources: list[_Source] = []
        self.problems: list[str] = []
        self._seen: set[Path] = set()

    def read(self, path: Path, scope: str, *, trusted: bool, hops: int = 0) -> None:
        resolved = path.resolve()
        if resolved in self._seen:
            return
        self._seen.add(resolved)
        try:
            size = resolved.stat().st_size
            if size > MAX_FILE_BYTES:
                self.problems.append(f"{path}: {size:,} bytes, over the 4 MiB a memory file may hold: not loaded.")
                return
            text = resolved.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.problems.append(f"{path}: not UTF-8 text: not loaded.")
            return
        except OSError as exc:
            self.problems.append(f"{path}: cannot be read ({exc.strerror}): not loaded.")
            return
        text = without_comments(text)
        self.sources.append(_Source(path, scope, text))
        for imported in imports_of(text):
            self._follow(imported, path, trusted=trusted, hops=hops + 1)

    def _follow(self, written: str, importer: Path, *, trusted: bool, hops: int) -> None:
        target = self.home / written[2:] if written.startswith("~/") else importer.parent / written
        if not target.is_file():
            return  # not a file: left as text, as in Claude Code (an e-mail, a decorator, a handle)
        if hops > MAX_IMPORT_HOPS:
            self.problems.append(
                f"{importer}: @{written} is more than {MAX_IMPORT_HOPS} imports deep from a memory file: not loaded."
            )
            return
        resolved = target.resolve()
        if not trusted and not (
            resolved.is_relative_to(self.workspace) or resolved.is_relative_to(self.home / ".claude")
        ):
            self.problems.append(
                f"{importer}: @{written} leads outside the workspace ({resolved}): a project's memory file "
                "may not import it (your own ~/.claude/CLAUDE.md may)."
            )
            return
        self.read(target, f"imported by {importer}", trusted=trusted, hops=hops)


def imports_of(text: str) -> list[str]:
    """The ``@path`` imports of a memory file, in order (none inside code spans or fenced blocks)."""
    return [piece.value for piece in segments(text) if piece.kind == "include"]


def without_comments(text: str) -> str:
    """The text without its block-level HTML comments (``<!-- … -->`` standing as blocks of their own)."""
    lines = text.splitlines(keepends=True)
    dropped: set[int] = set()
    for token in MarkdownIt("commonmark").parse(text):
        if token.type == "html_block" and token.content.lstrip().startswith("<!--") and token.map is not None:
            dropped.update(range(*token.map))
    return "".join(line for i, line in enumerate(lines) if i not in dropped)
