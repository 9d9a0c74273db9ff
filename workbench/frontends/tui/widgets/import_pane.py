"""The browser's import tab: the Claude Code and Codex transcripts found at home, imported on enter.

The home folders are searched the first time the tab is shown, in a worker;
an import runs in a worker too and says what it made and which lines it
could not read. The screen hears ``ImportPane.Imported`` and lists the session.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static

from workbench.engine.library import (
    BundleError,
    BundleStore,
    ImportReport,
    ImportSource,
    UnknownFormat,
    discover,
    import_file,
)
from workbench.frontends.tui.humanize import clip, size_text
from workbench.frontends.tui.stylesheet import css_beside
from workbench.frontends.tui.widgets.flex_table import FlexColumn, FlexTable
from workbench.frontends.tui.worker_failures import ReportsFailedWorkers

COLUMNS = (
    FlexColumn("format", "from", 11),
    FlexColumn("file", "file"),
    FlexColumn("size", "size", 8),
    FlexColumn("modified", "modified", 16),
)
PROBLEMS_SHOWN = 8


@dataclass(frozen=True)
class FoundFile:
    source: ImportSource
    home: Path
    size: int
    modified: datetime

    @classmethod
    def of(cls, source: ImportSource, home: Path) -> FoundFile:
        stat = source.path.stat()
        return cls(source, home, stat.st_size, datetime.fromtimestamp(stat.st_mtime).astimezone())

    @property
    def shown_path(self) -> str:
        try:
            return "~/" + str(self.source.path.relative_to(self.home))
        except ValueError:
            return str(self.source.path)


def found_cells(found: FoundFile, width: int) -> list[Content]:
    path = found.shown_path
    return [
        Content.styled(found.source.format or "?", "$secondary"),
        Content(path if len(path) <= width else "…" + path[-(width - 1) :]),
        Content(f"{size_text(found.size):>8}"),
        Content.styled(f"{found.modified:%Y-%m-%d %H:%M}", "$foreground-muted"),
    ]


def report_text(report: ImportReport) -> Content:
    if report.outcome in ("new", "updated"):
        made = Content.assemble(
            ("Imported " if report.outcome == "new" else "Updated ", "$success"),
            (f"{report.events} events", "bold"),
            (" as session ", "$success"),
            (str(report.session_id), "bold"),
        )
    elif report.outcome == "unchanged":
        made = Content.styled(f"Already imported as session {report.session_id}, unchanged.", "$success")
    elif report.outcome == "kept":
        made = Content.styled(f"Session {report.session_id} was continued here since its import: kept.", "$warning")
    else:
        made = Content.styled("Nothing to import in that file.", "$warning")
    lines = [made, Content.styled(str(report.source), "$foreground-muted")]
    if report.kept:
        kept = ", ".join(f"{n} {what}" for what, n in report.kept.items())
        lines.append(Content.styled(f"kept: {kept}", "$foreground-muted"))
    if report.skipped:
        kept_out = ", ".join(f"{n} {what}" for what, n in sorted(report.skipped.items()))
        lines.append(Content.styled(f"left out: {kept_out}", "$foreground-muted"))
    if report.problems:
        lines.append(Content.styled(f"{len(report.problems)} unreadable line(s) skipped:", "$warning"))
        lines += [Content.styled(f"  {clip(p, 200)}", "$warning") for p in report.problems[:PROBLEMS_SHOWN]]
        if len(report.problems) > PROBLEMS_SHOWN:
            lines.append(Content.styled(f"  … and {len(report.problems) - PROBLEMS_SHOWN} more", "$warning"))
    return Content("\n").join(lines)


class FoundTable(FlexTable[FoundFile]):
    def __init__(self) -> None:
        super().__init__(COLUMNS, found_cells, lambda found: str(found.source.path), id="import-files")


def found_at(homes: list[Path]) -> list[FoundFile]:
    return [FoundFile.of(source, home) for home in homes for source in discover([home])]


class ImportPane(ReportsFailedWorkers, Vertical):
    DEFAULT_CSS = css_beside(__file__)

    class Imported(Message):
        def __init__(self, session_id: str) -> None:
            super().__init__()
            self.session_id = session_id

    def __init__(self, store: BundleStore, homes: list[Path]) -> None:
        super().__init__()
        self.store = store
        self.homes = homes
        self.searched = False

    def compose(self) -> ComposeResult:
        yield Static(id="import-hint")
        yield FoundTable()
        yield Static(id="import-report")

    def on_mount(self) -> None:
        self.query_one(FoundTable).border_title = "Transcripts"

    def shown(self) -> None:
        self.query_one(FoundTable).focus()
        if not self.searched:
            self.searched = True
            self._discover()

    @work(group="discover", exclusive=True, exit_on_error=False)
    async def _discover(self) -> None:
        self.show_found(await asyncio.to_thread(found_at, self.homes))

    def show_found(self, found: list[FoundFile]) -> None:
        where = ", ".join(str(home) for home in self.homes)
        hint = (
            f"{len(found)} transcript(s) under {where}: Claude Code (~/.claude/projects) and Codex (~/.codex/sessions)."
            if found
            else f"No Claude Code or Codex transcript under {where}."
        )
        self.query_one("#import-hint", Static).update(Content.styled(hint, "$foreground-muted"))
        self.query_one(FoundTable).show(found)

    @on(DataTable.RowSelected, "#import-files")
    def _chosen(self, message: DataTable.RowSelected) -> None:
        message.stop()
        if (found := self.query_one(FoundTable).highlighted) is not None:
            self._import(found)

    @work(group="import", exclusive=True, exit_on_error=False)
    async def _import(self, found: FoundFile) -> None:
        report = self.query_one("#import-report", Static)
        try:
            made = await import_file(self.store, found.source.path, found.source.format)
        except (UnknownFormat, BundleError, OSError) as exc:
            report.update(Content.styled(f"{found.shown_path} was not imported: {exc}", "$error"))
            return
        report.update(report_text(made))
        if made.session_id:
            self.notify(f"{made.events} events, listed among the sessions", title=f"Imported {made.session_id}")
            self.post_message(self.Imported(made.session_id))
