"""The session browser: every session of the store, searched and filtered, previewed, and chosen.

The list comes from each session's ``meta.json`` only; the full-text search
and the preview read logs in workers, so a store of a thousand sessions lists
at once and stays responsive while a search runs. What the user chooses —
continue a session (or one agent of it, or from one event of it; with its
files as they were then, or not), resume it, replay it — is the screen's
result; the main screen carries it out.
Renaming, deleting and importing happen here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane

from workbench.engine.library import (
    BundleContents,
    BundleError,
    BundleStore,
    SessionEntry,
    SessionFilter,
    SessionHits,
    SessionLocked,
    delete,
    list_sessions,
    rename,
    search,
)
from workbench.engine.workspaces.git import GitError, toplevel
from workbench.engine.workspaces.rewind import FileCheck, check, files_at
from workbench.frontends.tui.actions import bindings
from workbench.frontends.tui.screens.confirm import ConfirmScreen
from workbench.frontends.tui.screens.rename import RenameScreen
from workbench.frontends.tui.screens.rewind_choice import RewindChoiceScreen
from workbench.frontends.tui.session_filters import FilterError, session_filter
from workbench.frontends.tui.session_states import state_of
from workbench.frontends.tui.widgets.import_pane import ImportPane
from workbench.frontends.tui.widgets.session_preview import SessionPreview
from workbench.frontends.tui.widgets.session_table import ListedSession, SessionTable
from workbench.frontends.tui.worker_failures import ReportsFailedWorkers
from workbench.protocol.commands import RestoreInto
from workbench.protocol.events import AgentSpawned, Event, SessionStarted

SEARCH_DELAY_S = 0.25  # typing pauses this long before the search runs
PREVIEW_DELAY_S = 0.05  # the cursor rests this long on a session before its log is read
REFILL_S = 0.2  # search results arriving one session at a time are shown this often
# the actions about the highlighted session, hidden on the import tab
SESSION_ACTIONS = frozenset({"continue_session", "fork_session", "resume_session", "replay_session",
                             "rename_session", "delete_session", "search_sessions", "show_import"})  # fmt: skip


@dataclass(frozen=True)
class BrowserChoice:
    """What to do with a session: continue it in a new one (an agent of it, up to a seq), resume, or replay it."""

    how: Literal["remount", "resume", "replay"]
    session_id: str
    agent: str | None = None
    up_to_seq: int | None = None
    files: RestoreInto | None = None  # a remount with the agent's files as they were, put there


class SessionBrowser(ReportsFailedWorkers, Screen[BrowserChoice | None]):
    CSS_PATH = "session_browser.tcss"
    BINDINGS = [*bindings("browser"), *bindings("dialog")]
    AUTO_FOCUS = "#sessions"

    class Listed(Message):
        def __init__(self, entries: list[SessionEntry]) -> None:
            super().__init__()
            self.entries = entries

    class Found(Message):
        """One session with lines matching ``query``."""

        def __init__(self, query: str, found: SessionHits) -> None:
            super().__init__()
            self.query = query
            self.found = found

    class SearchDone(Message):
        def __init__(self, query: str) -> None:
            super().__init__()
            self.query = query

    class Previewed(Message):
        def __init__(self, listed: ListedSession, contents: BundleContents) -> None:
            super().__init__()
            self.listed = listed
            self.contents = contents

    def __init__(self, store: BundleStore, *, current: str | None, homes: list[Path], cwd: Path | None = None) -> None:
        """``cwd``: the folder the app works in (files of a session that ran there can come back)."""
        super().__init__()
        self.store = store
        self.cwd = cwd
        self.current = current  # the session this app has open
        self.homes = homes
        self.entries: list[SessionEntry] = []
        self.where = SessionFilter()
        self.query_text = ""
        self.found: dict[str, SessionHits] = {}
        self.searching = False
        self._cursor_after_list: str | None = None  # an imported session is highlighted once listed
        self._search_timer: Timer | None = None
        self._refill_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with TabbedContent(id="browser-tabs"):
            with TabPane("Sessions", id="tab-sessions"):
                with Horizontal(id="filters"):
                    yield Input(
                        placeholder="/ search every session's messages, tool calls and results",
                        id="search",
                        compact=True,
                    )
                    yield Input(placeholder="since YYYY-MM-DD", id="since", compact=True)
                    yield Input(placeholder="until YYYY-MM-DD", id="until", compact=True)
                    yield Input(placeholder="model", id="model", compact=True)
                yield Static(id="filter-problem")
                yield SessionTable()
                yield SessionPreview()
            with TabPane("Import", id="tab-import"):
                yield ImportPane(self.store, self.homes)
        footer = Footer(compact=True)
        footer.show_command_palette = False
        yield footer

    def on_mount(self) -> None:
        self.query_one(SessionTable).border_title = "Sessions"
        self.query_one("#filter-problem").display = False
        self.query_one(SessionPreview).clear_preview()
        self._list()

    # ---------------------------------------------------------------- the list

    @work(group="list", exclusive=True, exit_on_error=False)
    async def _list(self) -> None:
        self.post_message(self.Listed(await list_sessions(self.store, self.where)))

    @on(Listed)
    def _listed(self, message: Listed) -> None:
        self.entries = message.entries
        cursor, self._cursor_after_list = self._cursor_after_list, None
        if cursor is None and not self.query_one(SessionTable).shown:  # at first, the newest past session
            cursor = next((e.meta.id for e in self.entries if e.meta.id != self.current), None)
        self._refill(cursor)

    @property
    def rows(self) -> list[ListedSession]:
        """The sessions shown: all that the filters admit, or those with matches while searching."""
        if not self.query_text:
            return [ListedSession(e, state_of(e, self.current)) for e in self.entries]
        return [
            ListedSession(e, state_of(e, self.current), self.found[e.meta.id].total)
            for e in self.entries
            if e.meta.id in self.found
        ]

    def _refill(self, cursor: str | None = None) -> None:
        self._refill_timer = None
        table = self.query_one(SessionTable)
        rows = self.rows
        table.show(rows, cursor=cursor)
        if self.query_text:
            doing = "searching… " if self.searching else ""
            table.border_title = f"Sessions · {doing}{len(rows)} of {len(self.entries)} mention “{self.query_text}”"
        else:
            table.border_title = f"Sessions · {len(rows)}"
        if not rows:
            self.query_one(SessionPreview).clear_preview()
        self._preview_soon()

    @property
    def highlighted(self) -> ListedSession | None:
        return self.query_one(SessionTable).highlighted

    # ---------------------------------------------------------------- search and filters

    @on(Input.Changed, "#search")
    def _query_typed(self, message: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(SEARCH_DELAY_S, self._start_search)

    @on(Input.Submitted, "#search")
    def _query_entered(self, message: Input.Submitted) -> None:
        message.stop()
        if self._search_timer is not None:
            self._search_timer.stop()
        self._start_search()
        self.query_one(SessionTable).focus()

    def _start_search(self) -> None:
        self._search_timer = None
        query = self.query_one("#search", Input).value.strip()
        if query == self.query_text and not self.searching:
            return
        self.query_text = query
        self.found = {}
        if not query:
            self.searching = False
            self.workers.cancel_group(self, "search")
            self._refill()
            self._preview_soon(again=True)  # without the matches
            return
        self.searching = True
        self._refill()
        self._search(query, self.where)

    @work(group="search", exclusive=True, exit_on_error=False)
    async def _search(self, query: str, where: SessionFilter) -> None:
        async for found in search(self.store, query, where=where):
            self.post_message(self.Found(query, found))
        self.post_message(self.SearchDone(query))

    @on(Found)
    def _found(self, message: Found) -> None:
        if message.query != self.query_text:
            return  # a search the user has since replaced
        self.found[message.found.meta.id] = message.found
        if self._refill_timer is None:
            self._refill_timer = self.set_timer(REFILL_S, self._refill)

    @on(SearchDone)
    def _search_done(self, message: SearchDone) -> None:
        if message.query == self.query_text:
            self.searching = False
            if self._refill_timer is not None:
                self._refill_timer.stop()
            self._refill()
            self._preview_soon(again=True)  # with this session's matching lines

    @on(Input.Changed, "#since, #until, #model")
    def _filter_typed(self) -> None:
        problem = self.query_one("#filter-problem", Static)
        try:
            where = session_filter(*(self.query_one(f"#{name}", Input).value for name in ("since", "until", "model")))
        except FilterError as exc:
            self.query_one(f"#{exc.field}", Input).add_class("-invalid")
            problem.update(Content.styled(str(exc), "$error"))
            problem.display = True
            return
        for name in ("since", "until"):
            self.query_one(f"#{name}", Input).remove_class("-invalid")
        problem.display = False
        if where != self.where:
            self.where = where
            self._list()
            if self.query_text:
                self.found = {}
                self.searching = True
                self._search(self.query_text, where)

    @on(Input.Submitted, "#since, #until, #model")
    def _filter_entered(self, message: Input.Submitted) -> None:
        message.stop()
        self.query_one(SessionTable).focus()

    # ---------------------------------------------------------------- the preview

    @on(DataTable.RowHighlighted, "#sessions")
    def _session_highlighted(self, message: DataTable.RowHighlighted) -> None:
        message.stop()
        self._preview_soon()

    def _preview_soon(self, again: bool = False) -> None:
        listed = self.highlighted
        if listed is not None and (again or listed.id != self.query_one(SessionPreview).session_id):
            self._preview(listed)

    @work(group="preview", exclusive=True, exit_on_error=False)
    async def _preview(self, listed: ListedSession) -> None:
        await asyncio.sleep(PREVIEW_DELAY_S)  # a cursor moving on cancels this before the read
        try:
            contents = await self.store.read(listed.id)
        except (BundleError, OSError) as exc:
            self.notify(str(exc), title="Session not readable", severity="error")
            return
        self.post_message(self.Previewed(listed, contents))

    @on(Previewed)
    def _previewed(self, message: Previewed) -> None:
        listed = self.highlighted
        if listed is None or listed.id != message.listed.id:
            return
        found = self.found.get(listed.id) if self.query_text else None
        self.query_one(SessionPreview).show(listed, message.contents, found, self.query_text)

    def _previewed_session(self) -> ListedSession | None:
        """The highlighted session once its preview is shown (a fork needs its events)."""
        listed = self.highlighted
        preview = self.query_one(SessionPreview)
        return listed if listed is not None and preview.session_id == listed.id else None

    # ---------------------------------------------------------------- choices

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        on_import = self.query_one(TabbedContent).active == "tab-import"
        if action == "show_sessions":
            return on_import
        if action in SESSION_ACTIONS:
            return not on_import
        return True

    def _session_or_say(self) -> ListedSession | None:
        listed = self.highlighted
        if listed is None:
            self.notify("No session is highlighted.", severity="warning")
        return listed

    def action_continue_session(self) -> None:
        listed = self._session_or_say()
        if listed is None:
            return
        preview = self.query_one(SessionPreview)
        agent = preview.agent if preview.session_id == listed.id else None
        self._remount(BrowserChoice("remount", listed.id, agent=agent))

    @on(DataTable.RowSelected, "#sessions")
    def _session_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        self.action_continue_session()

    def action_fork_session(self) -> None:
        listed = self._previewed_session()
        preview = self.query_one(SessionPreview)
        event = preview.event
        if listed is None or event is None:
            self.notify("Highlight an event of the preview to fork there.", severity="warning")
            return
        agent = preview.agent or event.agent or None
        self._remount(BrowserChoice("remount", listed.id, agent=agent, up_to_seq=event.seq))

    @on(DataTable.RowSelected, "#preview-events")
    def _event_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        self.action_fork_session()

    @work(group="remount", exclusive=True, exit_on_error=False)
    async def _remount(self, choice: BrowserChoice) -> None:
        """Continue a session; when its agent changed files of this folder, the user chooses whether they come
        back as they were too, and where."""
        preview = self.query_one(SessionPreview)
        if preview.session_id == choice.session_id:
            events: list[Event] = preview.events
        else:
            events = (await self.store.read(choice.session_id)).events
        ran_in = next((e.cwd for e in events if isinstance(e, SessionStarted)), "")
        agent = choice.agent or next((e.agent for e in events if isinstance(e, AgentSpawned)), "primary")
        seq = choice.up_to_seq or max((e.seq for e in events), default=1)
        files = files_at(events, agent, seq)
        if self.cwd is None or not files or Path(ran_in) != self.cwd:
            self.dismiss(choice)
            return
        checks = await asyncio.to_thread(check, files, self.cwd)
        in_git = await asyncio.to_thread(_in_git_repository, self.cwd)
        where = f"{agent} of {choice.session_id} at seq {seq}"
        how = await self.app.push_screen_wait(RewindChoiceScreen(where, checks, self.cwd, in_git))
        if how is None or (how == "folder" and not await self._confirm_folder(checks)):
            return
        self.dismiss(replace(choice, files=None if how == "conversation" else how))

    async def _confirm_folder(self, checks: list[FileCheck]) -> bool:
        changing = [item.file.path for item in checks if item.status == "restore"]
        kept = [item.file.path for item in checks if item.status in ("changed since", "unknown")]
        question = Content.assemble(
            "Write ", (f"{len(changing)} file(s)", "bold"), " into ", (str(self.cwd), "bold"),
            " as they were then?\n\n",
            (f"Left as they are: {', '.join(kept)}\n" if kept else "", "$warning"),
            ("What the files hold now is replaced; a fresh worktree (w) would change nothing of yours.",
             "$foreground-muted"),
        )  # fmt: skip
        confirmed: bool | None = await self.app.push_screen_wait(
            ConfirmScreen("Put the files back in your folder", question)
        )
        return bool(confirmed)

    def action_resume_session(self) -> None:
        listed = self._session_or_say()
        if listed is None:
            return
        if listed.state == "open here":
            self.notify("This is the session open now; esc goes back to it.", severity="warning")
            return
        self.dismiss(BrowserChoice("resume", listed.id))

    def action_replay_session(self) -> None:
        if (listed := self._session_or_say()) is not None:
            self.dismiss(BrowserChoice("replay", listed.id))

    def action_search_sessions(self) -> None:
        self.query_one("#search", Input).focus()

    async def action_dismiss(self, result: BrowserChoice | None = None) -> None:
        """esc in a search or filter field goes back to the list; elsewhere it closes the browser."""
        if isinstance(self.focused, Input):
            self.query_one(SessionTable).focus()
        else:
            await super().action_dismiss(result)

    # ---------------------------------------------------------------- rename and delete

    def action_rename_session(self) -> None:
        listed = self._session_or_say()
        if listed is None:
            return

        def renamed(title: str | None) -> None:
            if title is not None:
                self._rename(listed.id, title)

        self.app.push_screen(RenameScreen(listed.id, listed.entry.meta.title), renamed)

    @work(group="change", exit_on_error=False)
    async def _rename(self, session_id: str, title: str) -> None:
        try:
            shown = await rename(self.store, session_id, title)
        except BundleError as exc:
            self.notify(str(exc), title="Not renamed", severity="error")
            return
        self.notify(shown, title=f"Renamed {session_id}")
        self._list()

    def action_delete_session(self) -> None:
        listed = self._session_or_say()
        if listed is None:
            return
        if listed.state in ("open here", "running elsewhere"):
            self.notify("A session that is open cannot be deleted; close it first.", severity="warning")
            return
        folder = self.store.folder(listed.id)
        question = Content.assemble(
            "Delete ", (listed.entry.meta.title or listed.id, "bold"), f" ({listed.entry.meta.events} events)?\n\n",
            ("This removes the folder ", "$foreground-muted"), (str(folder), "bold"),
            (" and nothing else. It cannot be undone.", "$foreground-muted"),
        )  # fmt: skip

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._delete(listed.id)

        self.app.push_screen(ConfirmScreen("Delete session", question), confirmed)

    @work(group="change", exit_on_error=False)
    async def _delete(self, session_id: str) -> None:
        try:
            folder = await delete(self.store, session_id)
        except (BundleError, SessionLocked) as exc:
            self.notify(str(exc), title="Not deleted", severity="error")
            return
        self.notify(f"{folder} removed", title=f"Deleted {session_id}")
        self._list()

    # ---------------------------------------------------------------- import

    def action_show_import(self) -> None:
        self.query_one(TabbedContent).active = "tab-import"

    def action_show_sessions(self) -> None:
        self.query_one(TabbedContent).active = "tab-sessions"

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, message: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()
        if message.pane.id == "tab-import":
            self.query_one(ImportPane).shown()
        else:
            self.query_one(SessionTable).focus()

    @on(ImportPane.Imported)
    def _imported(self, message: ImportPane.Imported) -> None:
        """The new session is listed, and highlighted when the list is shown again."""
        self._cursor_after_list = message.session_id
        self._list()


def _in_git_repository(folder: Path) -> bool:
    try:
        toplevel(folder)
    except GitError:
        return False
    return True
