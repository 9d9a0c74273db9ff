"""A live tail of the session's bundle: every event, filterable by agent and by kind."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Input

from workbench.engine.presentation import describe
from workbench.frontends.tui.actions import bindings
from workbench.frontends.tui.humanize import clip, time_of_day
from workbench.frontends.tui.log_filter import LogFilter
from workbench.frontends.tui.messages import EventLogged
from workbench.frontends.tui.stylesheet import css_beside
from workbench.frontends.tui.throttle import Throttle
from workbench.protocol.events import Event

FILTER_HINT = "filter: agent-1 tool · kind:error"
# the tail is trimmed to this many rows once it holds twice as many: rebuilding it now and then
# costs far less than dropping the oldest row for each new one (DataTable re-indexes every row)
TAIL_ROWS = 500
KIND_STYLES: dict[str, str] = {
    "user_message": "$primary",
    "assistant_message": "$secondary",
    "tool_call": "$accent",
    "tool_result": "$accent",
    "permission": "$warning",
    "error": "$error",
    "agent_spawned": "$success",
    "agent_finished": "$success",
    "compaction": "$secondary",
    "delegated": "$success",
    "child_result": "$success",
}
COLUMNS = {"time": 8, "agent": 10, "kind": 17}
NARROW = 90  # below this width the time column goes, so the summary keeps some room


class LogTable(DataTable[Content]):
    BINDINGS = bindings("log")

    def __init__(self) -> None:
        super().__init__(id="log-table", cursor_type="row", zebra_stripes=False, show_header=True)

    def action_filter_log(self) -> None:
        self.screen.query_one("#log-filter", Input).focus()


class LogPane(Vertical):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.events: list[Event] = []
        self.by_seq: dict[int, Event] = {}
        self.filter = LogFilter()
        self._summary_width = 0
        self._unshown: list[Event] = []  # logged, matching, not in the table yet
        self._shower = Throttle(self, self._show_unshown)
        self._table = LogTable()

    def compose(self) -> ComposeResult:
        yield Input(placeholder=FILTER_HINT, compact=True, id="log-filter")
        yield self._table

    def on_mount(self) -> None:
        self.border_title = "Bundle log"
        self._rebuild()

    @property
    def table(self) -> LogTable:
        return self._table

    def matches(self, event: Event) -> bool:
        return self.filter.matches(event.agent, event.kind)

    # ---------------------------------------------------------------- events

    @on(EventLogged)
    def _logged(self, message: EventLogged) -> None:
        event = message.event
        self.events.append(event)
        self.by_seq[event.seq] = event
        if self.matches(event):
            self._unshown.append(event)
        # a burst of events lands in the table at once, a few times a second at most
        self._shower.due()

    @on(Input.Changed, "#log-filter")
    def _filter_changed(self, message: Input.Changed) -> None:
        self.filter = LogFilter.parse(message.value)
        self._rebuild()

    @on(Input.Submitted, "#log-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    def on_resize(self) -> None:
        if self._wanted_summary_width() != self._summary_width:
            self._rebuild()

    # ---------------------------------------------------------------- drawing

    def _fixed_columns(self) -> dict[str, int]:
        if self.table.size.width < NARROW:
            return {name: width for name, width in COLUMNS.items() if name != "time"}
        return COLUMNS

    def _wanted_summary_width(self) -> int:
        fixed = self._fixed_columns()
        # every column has a cell of padding each side; one more cell for the scrollbar
        return max(20, self.table.size.width - sum(fixed.values()) - 2 * (len(fixed) + 1) - 1)

    def _row(self, event: Event) -> tuple[Content, ...]:
        cells = {
            "time": Content.styled(time_of_day(event.ts), "$foreground-muted"),
            "agent": Content(clip(event.agent or "session", COLUMNS["agent"])),
            "kind": Content.styled(event.kind, KIND_STYLES.get(event.kind, "")),
        }
        return (*(cells[name] for name in self._fixed_columns()), Content(clip(describe(event), self._summary_width)))

    def _show_unshown(self) -> None:
        events, self._unshown = self._unshown, []
        if not events:  # none matched the filter, or a rebuild showed them
            self._count()
            return
        table = self.table
        following = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        if table.row_count + len(events) > 2 * TAIL_ROWS:
            self._rebuild(follow=following)
            return
        for event in events:
            table.add_row(*self._row(event), key=str(event.seq))
        if following:
            self._follow()
        self._count()

    def _follow(self) -> None:
        table = self.table
        table.move_cursor(row=max(0, table.row_count - 1), animate=False)
        # the cursor scrolls into view only once the new row has a size: pin the tail after refresh
        table.call_after_refresh(table.scroll_end, animate=False, immediate=True)

    def _rebuild(self, follow: bool = True) -> None:
        """The table afresh from the events: the last ``TAIL_ROWS`` that match the filter. Not
        following, the cursor stays on its event while that is still in the table."""
        table = self.table
        kept = table.coordinate_to_cell_key(table.cursor_coordinate).row_key if table.row_count else None
        self._unshown = []
        self._summary_width = self._wanted_summary_width()
        table.clear(columns=True)
        for name, width in self._fixed_columns().items():
            table.add_column(name, width=width, key=name)
        table.add_column("summary", width=self._summary_width, key="summary")
        shown = [event for event in self.events if self.matches(event)][-TAIL_ROWS:]
        for event in shown:
            table.add_row(*self._row(event), key=str(event.seq))
        if follow or kept is None or kept not in table.rows:
            self._follow()
        else:
            table.move_cursor(row=table.get_row_index(kept), animate=False)
        self._count()

    def _count(self) -> None:
        shown = self.table.row_count
        total = len(self.events)
        self.border_subtitle = f"{total} events" if shown == total else f"{shown} of {total} events"

    @on(DataTable.RowSelected)
    def _open(self, message: DataTable.RowSelected) -> None:
        from workbench.frontends.tui.screens.event_detail import EventDetailScreen

        message.stop()
        event = self.by_seq.get(int(str(message.row_key.value)))
        if event is not None:
            self.app.push_screen(EventDetailScreen(event))
