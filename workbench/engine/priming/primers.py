"""Primers: reusable, parameterised context loaders.

A primer is a Markdown file with YAML front matter — ``description``,
``argument-hint``, ``tools`` (Claude Code's ``allowed-tools`` means the same),
``checkpoints``, ``model``, ``timeout`` (seconds per command) — and a body:

- Arguments as Claude Code 2.1 gives them: ``$ARGUMENTS`` is everything after the
  primer's name, as typed; ``$ARGUMENTS[0]``/``$0``, ``$ARGUMENTS[1]``/``$1`` … are its
  words, counted from 0 (shell-style quoting groups words; a missing one is empty).
  A body with no placeholder at all gets the arguments appended as ``ARGUMENTS: …``.
- ``@path`` includes a workspace file. ``@$0`` includes the file the first
  argument names; ``@$ARGUMENTS`` includes every argument that names a file in
  the workspace and skips the other words (``src/app.py:42`` counts as
  ``src/app.py``). ``@`` inside a code span or a fenced block is just text. An
  ``@`` that names no file of the workspace (missing, a folder, an import alias
  like ``@/components``) is left as written, with a note saying so.
- ``!`command``` includes the command's output. Arguments inside a command are
  shell-quoted, so they are always data. A command runs only if the permission
  policy allows it: a deny is an error; an "ask" is settled by the primer's own
  ``Bash`` entries in ``tools``/``allowed-tools`` (as in Claude Code, they
  pre-approve its commands: ``Bash(git diff:*)`` those commands, a bare ``Bash``
  every command), else by the approver, else is an error.
  A non-zero exit or a timeout is an error: a command that may fail on purpose
  says so itself (``git status 2>/dev/null || echo "(not a git repository)"``).

An included Markdown file may include further files with ``@path`` (relative to
it): a name that is not a file there is left as text (included files are prose
written by others), a cycle or nesting deeper than five is an error. Included
files never run commands and never see the arguments.

Resolution is all or nothing: it returns the whole text with its hash and
token count, or raises a :class:`PrimerError` saying what is wrong.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from workbench.engine.config import user_config_path
from workbench.engine.context.fold import primer_text
from workbench.engine.context.tokens import TokenCounter
from workbench.engine.models import resolve_model
from workbench.engine.policy.permissions import PermissionPolicy, PermissionRuleError, Rule
from workbench.engine.policy.session_policy import SessionPolicy
from workbench.engine.priming.checkpoints import checkpoint_instructions
from workbench.engine.priming.front_matter import FrontMatterError, list_field, split_front_matter, string_field
from workbench.engine.priming.syntax import has_placeholder, segments, split_arguments, substitute, unparse
from workbench.engine.runtime.requests import Approvals
from workbench.protocol.events import Primed
from workbench.tools.base import ToolContext, ToolFailure
from workbench.tools.bash import MAX_TIMEOUT_S, Bash, BashInput
from workbench.tools.sandbox import open_file, resolve_in_workspace, workspace_relative

Origin = Literal["project", "claude", "user", "builtin"]

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "primers"
DEFAULT_COMMAND_TIMEOUT_S = 10.0
MAX_INCLUDE_BYTES = 1 << 20
MAX_INCLUDE_DEPTH = 5
# `/prime-feature` runs the primer named `feature`
COMMAND_PREFIX = "prime-"


class PrimerError(Exception):
    """A primer that cannot be used; the message is written for the user."""


class PrimerFormatError(PrimerError):
    """The primer file itself is broken (front matter, field types)."""


class UnknownPrimer(PrimerError):
    pass


class PrimerIncludeError(PrimerError):
    """An ``@path`` that cannot be included."""


class IncludeCycle(PrimerIncludeError):
    pass


class PrimerCommandError(PrimerError):
    """A ``!`command``` that failed (non-zero exit)."""


class CommandDenied(PrimerCommandError):
    pass


class CommandTimedOut(PrimerCommandError):
    pass


class PrimerTooLarge(PrimerError):
    def __init__(self, message: str, tokens: int, budget_left: int) -> None:
        super().__init__(message)
        self.tokens = tokens
        self.budget_left = budget_left


# --- the model ---------------------------------------------------------------------------


class PrimerDir(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: Path
    origin: Origin


class PrimerFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # subfolders are namespaces: frontend/component.md is frontend:component
    path: Path
    origin: Origin


class Primer(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    path: Path
    origin: Origin
    description: str = ""
    argument_hint: str = ""
    tools: list[str] | None = None  # as written: Read, Bash(git diff:*); None: not restricted
    checkpoints: list[str] = []
    model: str | None = None
    timeout: float | None = None
    body: str

    @property
    def tool_names(self) -> list[str] | None:
        """The tools a primed agent is offered (specifiers dropped); None: every tool."""
        if self.tools is None:
            return None
        return list(dict.fromkeys(entry.split("(", 1)[0].strip() for entry in self.tools))

    def offered_tools(self, available: list[str]) -> list[str]:
        """The tools an agent spawned with this primer gets, out of those its level may have."""
        names = self.tool_names
        return list(available) if names is None else [name for name in available if name in names]

    def command_rules(self) -> list[Rule]:
        """The ``Bash`` entries of ``tools``: they pre-approve this primer's commands (a bare one, all)."""
        rules = []
        for entry in self.tools or ():
            try:
                rule = Rule.parse(_modern_bash_rule(entry))
            except PermissionRuleError:
                continue  # a syntax we cannot read approves nothing; the command is asked about
            if rule.tool == "Bash":
                rules.append(rule)
        return rules


def _modern_bash_rule(entry: str) -> str:
    """Claude Code's newer ``Bash(npm run *)`` is our ``Bash(npm run:*)``."""
    return re.sub(r"^(Bash\(.*?)\s+\*\)$", r"\1:*)", entry.strip())


class ResolvedPrimer(BaseModel):
    """What a primer injects: exactly the text of its ``primed`` event."""

    primer: Primer
    arguments: str
    text: str
    sha256: str
    tokens: int  # equals what the TokenLedger counts for event()
    includes: list[str] = []  # workspace-relative paths, in order
    commands: list[str] = []  # the commands run, as run
    notes: list[str] = []  # what was left as written, and why (an @ that names no file)

    def event(self) -> Primed:
        return Primed(
            primer=self.primer.name, arguments=self.arguments, text=self.text, sha256=self.sha256, tokens=self.tokens
        )


# --- parsing -----------------------------------------------------------------------------


def parse_primer(text: str, *, name: str, path: Path, origin: Origin) -> Primer:
    try:
        data, body = split_front_matter(text)
        tools = list_field(data, "tools")
        claude_tools = list_field(data, "allowed-tools")  # Claude Code's name for the same list
        if tools is not None or claude_tools is not None:
            tools = list(dict.fromkeys([*(tools or []), *(claude_tools or [])]))
        checkpoints = list_field({"checkpoints": _arrows_to_commas(data.get("checkpoints"))}, "checkpoints") or []
        _check_checkpoints(checkpoints)
        return Primer(
            name=name,
            path=path,
            origin=origin,
            description=string_field(data, "description") or _first_line(body),
            argument_hint=string_field(data, "argument-hint") or "",
            tools=tools,
            checkpoints=checkpoints,
            model=_model(string_field(data, "model")),
            timeout=_timeout(data.get("timeout")),
            body=body.strip("\n"),
        )
    except FrontMatterError as exc:
        raise PrimerFormatError(f"Primer {name!r} ({path}): {exc}") from None


def _model(value: str | None) -> str | None:
    """A primer's ``model``: an alias (``haiku``) or an id; ``inherit`` or none, the agent's own."""
    return None if value in (None, "", "inherit") else resolve_model(value)


def _arrows_to_commas(value: object) -> object:
    return value.replace("->", ",").replace("→", ",") if isinstance(value, str) else value


def _timeout(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT_S:
        raise FrontMatterError(f"'timeout' must be a number of seconds above 0 and at most {MAX_TIMEOUT_S}")
    return float(value)


def _check_checkpoints(checkpoints: list[str]) -> None:
    seen: set[str] = set()
    for checkpoint in checkpoints:
        if "\n" in checkpoint:
            raise FrontMatterError(f"the checkpoint {checkpoint!r} must fit on one line")
        if checkpoint.lower() in seen:
            raise FrontMatterError(f"the checkpoint {checkpoint!r} is listed twice")
        seen.add(checkpoint.lower())


def _first_line(body: str) -> str:
    line = next((line.strip() for line in body.splitlines() if line.strip()), "")
    return line.lstrip("#").strip()[:120]


def load_primer(file: PrimerFile) -> Primer:
    try:
        text = file.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PrimerFormatError(f"Primer {file.name!r} cannot be read ({file.path}): {exc}") from None
    return parse_primer(text, name=file.name, path=file.path, origin=file.origin)


# --- lookup ------------------------------------------------------------------------------


def primer_dirs(workspace: Path, environ: dict[str, str] | None = None) -> list[PrimerDir]:
    """Where primers are looked up, first match wins."""
    return [
        PrimerDir(path=workspace / ".workbench" / "primers", origin="project"),
        PrimerDir(path=workspace / ".claude" / "commands", origin="claude"),
        PrimerDir(path=user_config_path(environ).parent / "primers", origin="user"),
        PrimerDir(path=BUILTIN_DIR, origin="builtin"),
    ]


def primer_files(dirs: list[PrimerDir]) -> list[PrimerFile]:
    """Every primer file, in lookup order (so a name's first file is the one that counts)."""
    files = []
    for folder in dirs:
        if not folder.path.is_dir():
            continue
        for path in sorted(folder.path.rglob("*.md")):
            relative = path.relative_to(folder.path)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            name = ":".join((*relative.parent.parts, relative.stem))
            files.append(PrimerFile(name=name, path=path, origin=folder.origin))
    return files


def find_primer(name: str, dirs: list[PrimerDir]) -> Primer:
    """The primer called ``name`` (``prime-feature`` also finds ``feature``)."""
    files = primer_files(dirs)
    names = [name.removeprefix("/")]
    if names[0].startswith(COMMAND_PREFIX):
        names.append(names[0].removeprefix(COMMAND_PREFIX))
    for wanted in names:
        found = next((file for file in files if file.name == wanted), None)
        if found is not None:
            return load_primer(found)
    known = sorted({file.name for file in files})
    hint = f" Known primers: {', '.join(known)}." if known else " No primers were found."
    raise UnknownPrimer(f"No primer named {name!r}.{hint}")


class PrimerEntry(BaseModel):
    """One name of the catalogue: the file that wins, and those it shadows."""

    file: PrimerFile
    primer: Primer | None = None
    error: str | None = None  # why the winning file cannot be used
    shadows: list[PrimerFile] = []


def primer_catalog(dirs: list[PrimerDir]) -> list[PrimerEntry]:
    entries: dict[str, PrimerEntry] = {}
    for file in primer_files(dirs):
        if file.name in entries:
            entries[file.name].shadows.append(file)
            continue
        try:
            entries[file.name] = PrimerEntry(file=file, primer=load_primer(file))
        except PrimerError as exc:
            entries[file.name] = PrimerEntry(file=file, error=str(exc))
    return sorted(entries.values(), key=lambda entry: entry.file.name)


# --- resolution --------------------------------------------------------------------------

# what follows a file name in "src/app.py:42" or "tests/test_app.py::test_login"
_LOCATION_SUFFIX = re.compile(r"(?::\d+(?::\d+)?|::.*)$")
_BASH = Bash()


async def resolve(
    primer: Primer,
    arguments: str,
    workspace: Path,
    policy: PermissionPolicy,
    counter: TokenCounter,
    budget_left: int | None = None,
    *,
    approver: Approvals | None = None,
    timeout: float | None = None,
    agent_id: str = "",
    project_approvals: bool = True,
) -> ResolvedPrimer:
    """The primer's text for these arguments, with its hash and token count.

    ``timeout`` (seconds per command) overrides the primer's own ``timeout``,
    which overrides :data:`DEFAULT_COMMAND_TIMEOUT_S`. Without
    ``project_approvals`` (an untrusted folder), a project primer's ``tools``
    approve none of its own commands: each is judged like any other. Raises a
    :class:`PrimerError`, and then nothing was resolved.
    """
    seconds = min(timeout or primer.timeout or DEFAULT_COMMAND_TIMEOUT_S, MAX_TIMEOUT_S)
    approves = project_approvals or primer.origin in ("user", "builtin")
    run = _Resolution(primer, arguments, workspace, policy, approver, agent_id, seconds, approves)
    text = await run.expand()
    if primer.checkpoints:
        text = f"{text.rstrip()}\n\n{checkpoint_instructions(primer.checkpoints)}"
    tokens = counter.count(primer_text(Primed(primer=primer.name, arguments=arguments, text=text)))
    if budget_left is not None and tokens > budget_left:
        raise PrimerTooLarge(
            f"Primer {primer.name!r} resolves to {tokens:,} tokens, more than the {max(budget_left, 0):,} "
            "left in the agent's context; nothing was injected. Narrow its arguments, or compact first.",
            tokens,
            budget_left,
        )
    return ResolvedPrimer(
        primer=primer,
        arguments=arguments,
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        tokens=tokens,
        includes=run.includes,
        commands=run.commands,
        notes=run.notes,
    )


class _Resolution:
    """The state of one resolve call."""

    def __init__(
        self,
        primer: Primer,
        arguments: str,
        workspace: Path,
        policy: PermissionPolicy,
        approver: Approvals | None,
        agent_id: str,
        timeout: float,
        self_approving: bool = True,
    ) -> None:
        self.primer = primer
        self.self_approving = self_approving
        self.arguments = arguments
        self.words = split_arguments(arguments)  # for @$ARGUMENTS
        self.workspace = workspace
        self.policy = policy
        self.approver = approver
        self.agent_id = agent_id
        self.timeout = timeout
        self.includes: list[str] = []
        self.commands: list[str] = []
        self.notes: list[str] = []

    async def expand(self) -> str:
        parts = []
        chain = [self.primer.path.resolve()]
        for kind, value in segments(self.primer.body):
            if kind == "text":
                parts.append(substitute(value, self.arguments))
            elif kind == "command":
                parts.append(await self.command(substitute(value, self.arguments, quote=True)))
            elif value == "$ARGUMENTS":
                parts.append(await self.named_files(chain))
            else:
                path = substitute(value, self.arguments)
                if not path:
                    raise PrimerIncludeError(f"@{value} names no file: no argument was given for it")
                parts.append(await self.include_or_keep(path, chain))
        if self.arguments.strip() and not has_placeholder(self.primer.body):
            parts.append(f"\n\nARGUMENTS: {self.arguments.strip()}")
        return "".join(parts)

    async def include_or_keep(self, path: str, chain: list[Path]) -> str:
        """The file ``@path`` names; when it names none, the text as written and a note."""
        try:
            real = self.locate(path, None)
        except PrimerIncludeError as exc:
            self.notes.append(f"@{path} was left as text: {str(exc).removeprefix(f'@{path}: ')}")
            return f"@{path}"
        if not real.is_file():
            what = "a folder, not a file" if real.is_dir() else "not a file of the workspace"
            self.notes.append(f"@{path} was left as text: it is {what}")
            return f"@{path}"
        return await self.include(path, None, chain)

    # -- @path

    async def include(self, path: str, base: Path | None, chain: list[Path]) -> str:
        real = self.locate(path, base)
        if real in chain:
            loop = " → ".join(self.shown(p) for p in [*chain[chain.index(real) :], real])
            raise IncludeCycle(f"@{path} would include itself: {loop}")
        if len(chain) > MAX_INCLUDE_DEPTH:
            raise PrimerIncludeError(f"@{path}: includes are nested more than {MAX_INCLUDE_DEPTH} deep")
        if not real.is_file():
            what = "is a folder, not a file" if real.is_dir() else "does not exist"
            raise PrimerIncludeError(f"@{path} {what} (in {self.workspace})")
        content = await asyncio.to_thread(_read_text, self.workspace, real, path)
        self.includes.append(self.shown(real))
        if real.suffix.lower() in (".md", ".markdown"):
            content = await self.nested(content, real, [*chain, real])
        body = content.rstrip("\n")
        return f'<file path="{self.shown(real)}">\n{body}\n</file>'

    async def nested(self, content: str, real: Path, chain: list[Path]) -> str:
        parts = []
        for piece in segments(content):
            if piece.kind == "include" and self.exists(piece.value, real.parent):
                parts.append(await self.include(piece.value, real.parent, chain))
            else:
                parts.append(unparse(piece))
        return "".join(parts)

    async def named_files(self, chain: list[Path]) -> str:
        found: list[str] = []
        for word in self.words:
            candidate = _LOCATION_SUFFIX.sub("", word.removeprefix("@").rstrip(".,;!?"))
            if candidate and self.exists(candidate, None):
                real = self.locate(candidate, None)
                if self.shown(real) not in found:
                    found.append(self.shown(real))
        if not found:
            return "(no file of the workspace is named in the arguments)"
        return "\n\n".join([await self.include(path, None, chain) for path in found])

    def locate(self, path: str, base: Path | None) -> Path:
        try:
            return resolve_in_workspace(self.workspace, str(base / path) if base is not None else path)
        except ToolFailure as exc:
            raise PrimerIncludeError(f"@{path}: {exc}") from None

    def exists(self, path: str, base: Path | None) -> bool:
        try:
            return self.locate(path, base).is_file()
        except PrimerIncludeError:
            return False

    def shown(self, real: Path) -> str:
        try:
            return workspace_relative(self.workspace, real)
        except ValueError:  # the primer file itself may live outside the workspace
            return str(real)

    # -- !`command`

    async def command(self, command: str) -> str:
        await self.authorise(command)
        self.commands.append(command)
        output = await _BASH.run(
            BashInput(command=command, timeout=self.timeout), ToolContext(workspace=self.workspace)
        )
        body, _, status = output.content.rpartition("\n")
        if status.startswith("[timed out"):
            raise CommandTimedOut(
                f"!`{command}` did not finish within {self.timeout:g} s and was stopped; "
                "raise the primer's 'timeout' if it needs longer"
            )
        if output.is_error:
            raise PrimerCommandError(f"!`{command}` failed ({status.strip('[]')}):\n{_tail(body)}")
        return body.rstrip("\n")

    async def authorise(self, command: str) -> None:
        params = BashInput(command=command, timeout=self.timeout)
        rules = self.primer.command_rules() if self.self_approving else []
        # the primer's rules count as allow rules: the user's deny and ask rules still win
        layered = SessionPolicy(  # the git guardrails still come first
            mode=self.policy.mode,
            allow=[*self.policy.allow, *rules],
            ask=self.policy.ask,
            deny=self.policy.deny,
            workspace=self.workspace,
            guardrails=self.policy.guardrails if isinstance(self.policy, SessionPolicy) else None,
        )
        decision = layered.decide(_BASH, params)
        if decision.verdict == "allow":
            return
        if decision.verdict == "deny":
            raise CommandDenied(f"!`{command}` is not allowed: {decision.reason}")
        if self.approver is None:
            raise CommandDenied(
                f"!`{command}` needs approval ({decision.reason}) and no one can be asked here. "
                f"Allow it with {self.policy.suggest_rule(_BASH, params)} in the primer's tools "
                "or in the permissions settings."
            )
        suggested = self.policy.suggest_rule(_BASH, params)
        answer = await self.approver.approval(
            self.agent_id or "primary",
            tool="Bash",
            input={"command": command},
            subject=command,
            preview=f"The primer {self.primer.name} runs this command to build its text.",
            suggested_rule=suggested,
        )
        if answer.choice == "deny":
            why = f": {answer.reason}" if answer.reason else ""
            raise CommandDenied(f"!`{command}` was denied{why}")
        if answer.choice == "allow_always":
            await self.approver.remember(suggested, "primer")


def _read_text(workspace: Path, real: Path, shown: str) -> str:
    """The file's text, opened as the file tools open theirs: no symlink swapped in leads outside, no FIFO
    blocks."""
    try:
        with open_file(workspace, str(real)) as opened:
            if opened.size > MAX_INCLUDE_BYTES:
                raise PrimerIncludeError(
                    f"@{shown} is larger than {MAX_INCLUDE_BYTES // 1024} KiB; include a smaller file"
                )
            data = opened.read()
    except ToolFailure as exc:
        raise PrimerIncludeError(f"@{shown}: {exc}") from None
    except OSError as exc:
        raise PrimerIncludeError(f"@{shown} cannot be read: {exc.strerror}") from None
    if b"\0" in data:
        raise PrimerIncludeError(f"@{shown} is a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PrimerIncludeError(f"@{shown} is not UTF-8 text") from None


def _tail(output: str, lines: int = 20) -> str:
    kept = output.rstrip("\n").splitlines()[-lines:]
    return "\n".join(kept) or "(no output)"
