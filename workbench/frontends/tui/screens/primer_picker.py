"""Choose a primer, type its arguments, see exactly what it injects and what it costs, then load it.

The primers are listed in lookup order (project, Claude Code commands, the
user's, built-in), a name shadowed by an earlier folder shown under its own
folder as overridden. Enter resolves the highlighted primer with the arguments
(``EngineClient.preview_primer``: files read, commands run, tokens counted) and
shows the result; enter again loads that very text — it is not resolved a
second time. A primer without commands is previewed as soon as it is
highlighted. Whatever cannot be resolved (broken front matter, a missing
``@path``, a failing or slow command, a text larger than the budget left) is
explained here, and nothing is injected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from workbench.engine.priming.primers import (
    BUILTIN_DIR,
    PrimerDir,
    PrimerEntry,
    PrimerError,
    ResolvedPrimer,
    primer_dirs,
)
from workbench.engine.priming.syntax import has_placeholder, segments
from workbench.frontends.tui.actions import BY_NAME, bindings, key_of
from workbench.frontends.tui.humanize import clip
from workbench.frontends.tui.worker_failures import ReportsFailedWorkers

if TYPE_CHECKING:
    from workbench.engine.client import EngineClient

ORIGINS = ("project", "claude", "user", "builtin")
ORIGIN_NAMES = {"project": "project", "claude": "Claude Code commands", "user": "your primers", "builtin": "built-in"}
LIST_WIDTH = 44  # the list's widest text (descriptions are clipped to it), as in primer_picker.tcss
AUTO_PREVIEW_S = 0.2  # a primer without commands is previewed this long after the cursor stops
_FILE_PREFIX = re.compile(r"^Primer '[^']*' \([^)]*\):? ")  # the file is named in the details

PreviewState = Literal["idle", "resolving", "ready", "failed"]


@dataclass(frozen=True)
class PrimerChoice:
    """The primer to load: the resolution the user saw, so the text injected is the text previewed."""

    resolved: ResolvedPrimer

    @property
    def name(self) -> str:
        return self.resolved.primer.name

    @property
    def arguments(self) -> str:
        return self.resolved.arguments


def folder_text(folder: PrimerDir, cwd: Path) -> str:
    """Where a folder is, as short as it can be said (built-ins need no path)."""
    return "" if folder.origin == "builtin" else _shown(folder.path, cwd)


def directives(body: str) -> tuple[list[str], list[str]]:
    """The ``@path`` includes and ``!`command``` commands a primer's body holds, as written."""
    includes = [piece.value for piece in segments(body) if piece.kind == "include"]
    commands = [piece.value for piece in segments(body) if piece.kind == "command"]
    return includes, commands


def list_width(screen_width: int) -> int:
    """The list's text width on a screen this wide (the dialog is 94 % of it, the list 40 % of that)."""
    inner = min(150, screen_width * 94 // 100) - 6
    return max(20, min(LIST_WIDTH, inner * 2 // 5 - 6))  # less its padding and scrollbar


def entry_prompt(entry: PrimerEntry, width: int = LIST_WIDTH) -> Content:
    """Two lines: the name, its argument hint and what it overrides; its description (or why it is broken)."""
    name = Content.styled(entry.file.name, "bold")
    if entry.primer is None:
        why = _FILE_PREFIX.sub("", entry.error or "")
        return Content.assemble(name, ("  ✕ cannot be used", "$error"), "\n", (clip(why, width), "$foreground-muted"))
    overrides = ""
    if entry.shadows:
        overrides = "  overrides " + ", ".join(dict.fromkeys(ORIGIN_NAMES[s.origin] for s in entry.shadows))
    room = width - len(entry.file.name) - len(overrides) - 2
    hint = f"  {clip(entry.primer.argument_hint, room)}" if entry.primer.argument_hint and room > 4 else ""
    first = Content.assemble(name, (hint, "$secondary"), (overrides, "$warning"))
    return Content.assemble(first, "\n", (clip(entry.primer.description, width), "$foreground-muted"))


def argument_placeholder(entry: PrimerEntry) -> str:
    if entry.primer is None:
        return ""
    if entry.primer.argument_hint:
        return entry.primer.argument_hint
    return "$ARGUMENTS" if has_placeholder(entry.primer.body) else "(arguments are appended as ARGUMENTS: …)"


def shadowed_prompt(name: str, by: str) -> Content:
    return Content.assemble((name, "strike"), (f"  overridden by {ORIGIN_NAMES[by]}", "italic"))


def info_view(entry: PrimerEntry, cwd: Path) -> Content:
    """What the primer is, before anything is resolved: its file, what it overrides, what it will run."""
    rows: list[tuple[str, Content]] = [("file", Content(_shown(entry.file.path, cwd)) + Content.styled(
        f"  ({ORIGIN_NAMES[entry.file.origin]})", "$foreground-muted"))]  # fmt: skip
    for shadow in entry.shadows:
        rows.append(("overrides", Content.styled(f"{_shown(shadow.path, cwd)}  ({ORIGIN_NAMES[shadow.origin]})",
                                                 "$warning")))  # fmt: skip
    primer = entry.primer
    if primer is not None:
        if primer.tools is not None:
            rows.append(("tools", Content(", ".join(primer.tools) or "none")))
        if primer.checkpoints:
            rows.append(("checkpoints", Content(" → ".join(primer.checkpoints))))
        includes, commands = directives(primer.body)
        if includes:
            rows.append(("includes", Content.styled("  ".join(f"@{path}" for path in includes), "$accent")))
        for command in commands:
            rows.append(("runs", Content.styled(f"!`{command}`", "$accent")))
    lines = [Content.assemble((label.ljust(12), "$foreground-muted"), value) for label, value in rows]
    head = Content.styled(entry.file.name, "bold $accent")
    if primer is not None and primer.argument_hint:
        head += Content.styled(f"  {primer.argument_hint}", "$secondary")
    about = primer.description if primer is not None else ""
    return Content("\n").join([head, *([Content(about)] if about else []), Content(""), *lines])


def _shown(path: Path, cwd: Path) -> str:
    """A primer file's path: from the workspace or the home folder; a built-in one by its name."""
    for base, prefix in ((cwd, ""), (BUILTIN_DIR, ""), (Path.home(), "~/")):
        if path.is_relative_to(base):
            return f"{prefix}{path.relative_to(base)}"
    return str(path)


class PrimerPicker(ReportsFailedWorkers, ModalScreen[PrimerChoice | None]):
    CSS_PATH = "primer_picker.tcss"
    BINDINGS = [*bindings("primers"), *bindings("dialog")]

    def __init__(
        self,
        client: EngineClient,
        entries: list[PrimerEntry],
        agent_id: str,
        arguments: str = "",
        overrides: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.entries = {entry.file.name: entry for entry in entries}
        self.agent_id = agent_id
        self.arguments = arguments
        self.overrides = overrides or {}
        self.state: PreviewState = "idle"
        self.preview: ResolvedPrimer | None = None
        self.error = ""
        self._previewing: tuple[str, str] | None = None  # what the shown (or coming) preview is of
        self._auto: Timer | None = None

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        with Vertical(id="primers"):
            yield Label(Content.assemble("Load a primer into ", (self.agent_id, "bold $accent")), id="primers-title")
            with Horizontal(id="primers-body"):
                yield OptionList(*self._options(), id="primer-list")
                with VerticalScroll(id="primer-detail"):
                    yield Static(id="primer-info")
                    yield Static(id="primer-status")
                    yield Static(id="primer-text")
            with Horizontal(id="primer-arguments-row"):
                yield Label("arguments", id="primer-arguments-label")
                yield Input(self.arguments, placeholder="$ARGUMENTS", compact=True, id="primer-arguments")
            yield Label(self._keys(), id="primers-keys")

    def _options(self) -> list[Option | None]:
        """Every folder in lookup order, with its primers; a shadowed file under its folder, disabled."""
        cwd = Path(self.client.info.cwd)
        width = list_width(self.app.size.width)
        rows: dict[str, list[Option]] = {origin: [] for origin in ORIGINS}
        for entry in self.entries.values():
            rows[entry.file.origin].append(Option(entry_prompt(entry, width), id=entry.file.name))
            for shadow in entry.shadows:
                rows[shadow.origin].append(Option(shadowed_prompt(shadow.name, entry.file.origin), disabled=True))
        options: list[Option | None] = []
        for folder in primer_dirs(cwd):
            if not rows[folder.origin]:
                continue
            if options:
                options.append(None)
            where = folder_text(folder, cwd)
            heading = Content.assemble(
                (ORIGIN_NAMES[folder.origin].upper(), "bold $primary"), (f"  {where}" if where else "", "$primary 70%")
            )
            options.append(Option(heading, disabled=True))
            options.extend(sorted(rows[folder.origin], key=lambda option: str(option.prompt) if option else ""))
        return options

    def _keys(self) -> Content:
        enter = key_of(BY_NAME["choose_primer"], self.overrides)
        close = key_of(BY_NAME["close"], self.overrides)
        return Content.styled(
            f"↑↓ choose · tab to the arguments · {enter} previews, {enter} again loads · {close} closes",
            "$foreground-muted",
        )

    def on_mount(self) -> None:
        self.query_one("#primers", Vertical).border_title = "Primers"
        options = self.query_one(OptionList)
        if not self.entries:
            self.query_one("#primers-title", Label).update("No primers found in this workspace.")
        else:
            options.highlighted = next(i for i, option in enumerate(options.options) if not option.disabled)
        options.focus()
        self._show_entry()

    # ---------------------------------------------------------------- what is highlighted

    def highlighted(self) -> PrimerEntry | None:
        option = self.query_one(OptionList).highlighted_option
        return self.entries.get(option.id) if option is not None and option.id else None

    def typed_arguments(self) -> str:
        return self.query_one(Input).value.strip()

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        self._show_entry()

    @on(Input.Changed)
    def _arguments_changed(self) -> None:
        if self._previewing != self._wanted():
            self._show_entry()

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        self.action_choose_primer()  # a click on a primer

    def _wanted(self) -> tuple[str, str] | None:
        entry = self.highlighted()
        return (entry.file.name, self.typed_arguments()) if entry is not None else None

    def _show_entry(self) -> None:
        """The highlighted primer's description; its preview is stale once the choice changed."""
        self.workers.cancel_group(self, "primer-preview")
        if self._auto is not None:
            self._auto.stop()
            self._auto = None
        self.preview, self.error, self._previewing = None, "", None
        entry = self.highlighted()
        info = self.query_one("#primer-info", Static)
        arguments = self.query_one(Input)
        if entry is None:
            info.update("")
            self._set_state("idle")
            return
        info.update(info_view(entry, Path(self.client.info.cwd)))
        arguments.placeholder = argument_placeholder(entry)
        if entry.primer is None:
            self.error = entry.error or "This primer cannot be read."
            self._set_state("failed")
            return
        self._set_state("idle")
        _, commands = directives(entry.primer.body)
        if not commands:  # nothing runs: resolving is only reading files, so it is shown at once
            self._auto = self.set_timer(AUTO_PREVIEW_S, self._auto_preview)

    def _auto_preview(self) -> None:
        self._auto = None
        if (wanted := self._wanted()) is not None:
            self._start_preview(*wanted)

    # ---------------------------------------------------------------- preview and load

    def action_choose_primer(self) -> None:
        """Enter: preview the highlighted primer with the arguments; when that preview is shown, load it."""
        wanted = self._wanted()
        if wanted is None:
            return
        if self.state == "ready" and self.preview is not None and self._previewing == wanted:
            self.dismiss(PrimerChoice(self.preview))
        elif self.state == "failed" and self._previewing in (wanted, None):
            self.notify(self.error, title="Nothing loaded", severity="error")  # the reason is on screen too
        elif not (self.state == "resolving" and self._previewing == wanted):
            self._start_preview(*wanted)

    def _start_preview(self, name: str, arguments: str) -> None:
        if self._auto is not None:
            self._auto.stop()
            self._auto = None
        self._previewing = (name, arguments)
        self.preview, self.error = None, ""
        self._set_state("resolving")
        self._resolve(name, arguments)

    @work(group="primer-preview", exclusive=True, exit_on_error=False)
    async def _resolve(self, name: str, arguments: str) -> None:
        try:
            resolved = await self.client.preview_primer(name, arguments, self.agent_id)
        except PrimerError as exc:
            if self._previewing == (name, arguments):
                self.error = str(exc)
                self._set_state("failed")
            return
        if self._previewing == (name, arguments):
            self.preview = resolved
            self._set_state("ready")

    def _set_state(self, state: PreviewState) -> None:
        self.state = state
        status = self.query_one("#primer-status", Static)
        text = self.query_one("#primer-text", Static)
        for name in ("idle", "resolving", "ready", "failed"):
            status.set_class(state == name, f"-{name}")
        text.display = state == "ready"
        if state == "ready" and self.preview is not None:
            status.update(self._cost(self.preview))
            text.update(Content(self.preview.text))
        elif state == "failed":
            status.update(
                Content.assemble(
                    ("✕ nothing will be loaded\n", "bold $error"), (_FILE_PREFIX.sub("", self.error), "$error")
                )
            )
        elif state == "resolving":
            status.update(Content.styled(f"resolving: {self._what_runs()}…", "$warning"))
        else:
            enter = key_of(BY_NAME["choose_primer"], self.overrides)
            status.update(Content.styled(f"{enter} shows what it injects: {self._what_runs()}", "$foreground-muted"))

    def _what_runs(self) -> str:
        entry = self.highlighted()
        if entry is None or entry.primer is None:
            return ""
        includes, commands = directives(entry.primer.body)
        parts = []
        if commands:
            parts.append(f"runs {len(commands)} command" + ("s" if len(commands) > 1 else ""))
        if includes:
            parts.append(f"reads {len(includes)} file" + ("s" if len(includes) > 1 else ""))
        return ", ".join(parts) or "its text with the arguments"

    def _cost(self, resolved: ResolvedPrimer) -> Content:
        """The preview's token cost against what is left of the agent's context."""
        budget = self.client.view.budget(self.agent_id)
        left = max(budget.window - budget.used, 0)
        share = resolved.tokens / budget.window if budget.window else 0.0
        share_text = "under 0.1%" if 0 < share < 0.001 else f"{share:.1%}"
        enter = key_of(BY_NAME["choose_primer"], self.overrides)
        parts = [Content.styled(f"{resolved.tokens:,} tokens", "bold $success")]
        parts.append(Content.styled(f" · {share_text} of the window · {left:,} left in {self.agent_id}", "$foreground"))
        if resolved.commands:
            ran = len(resolved.commands)
            parts.append(Content.styled(f" · ran {ran} command{'s' if ran > 1 else ''}", "$foreground-muted"))
        for note in resolved.notes:
            parts.append(Content.styled(f"\nnote: {note}", "$warning"))
        parts.append(Content.styled(f"\n{enter} loads exactly this text:", "$foreground-muted"))
        return Content.assemble(*parts)
