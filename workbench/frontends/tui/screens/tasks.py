"""The task list: every background and delegated agent of the session, by state, kept live.

It folds the session's events into its own rows when it opens, then follows
the bus (the main screen registers it with the bridge while it is open).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from workbench.engine.views.roster import AgentRow, Roster
from workbench.frontends.tui.actions import BY_NAME, bindings, key_hint
from workbench.frontends.tui.agent_filters import FILTERS, StateFilter, filter_counts, matches
from workbench.frontends.tui.agent_glyphs import glyph
from workbench.frontends.tui.humanize import clip, duration, token_count
from workbench.frontends.tui.messages import EventLogged
from workbench.frontends.tui.widgets.agents_pane import STATE_STYLES

# (key, label, width); the last action takes the rest of the table's width
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("glyph", "", 1),
    ("agent", "agent", 9),
    ("task", "task", 30),
    ("mode", "mode", 10),
    ("level", "L", 1),
    ("elapsed", "worked", 7),  # as the agents pane names them
    ("tokens", "spent", 6),
)
LAST_ACTION_MIN = 16


class TasksTable(DataTable[Content]):
    """The rows; the agents pane's keys apply (enter opens, the letters filter)."""

    BINDINGS = bindings("agents")

    def __init__(self) -> None:
        super().__init__(id="tasks-table", cursor_type="row", zebra_stripes=True)

    def action_filter_state(self, chosen: StateFilter) -> None:
        self.screen.state_filter = chosen  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == BY_NAME["fold"].textual_action:
            return False  # a flat list has no subtrees
        return super().check_action(action, parameters)


class TasksScreen(ModalScreen[str | None]):
    CSS_PATH = "tasks.tcss"
    BINDINGS = bindings("dialog")

    state_filter: reactive[StateFilter] = reactive("all", init=False)

    def __init__(self, clock: Callable[[], datetime], roster: Roster, state: StateFilter = "all") -> None:
        """``roster``: the session's, kept up to date by the engine (or the replay)."""
        super().__init__()
        self.set_reactive(TasksScreen.state_filter, state)
        self.clock = clock
        self.roster = roster
        self._last_width = 0

    @property
    def tasks(self) -> list[AgentRow]:
        """The background and delegated agents, in the order they started."""
        return [row for row in self.roster.rows.values() if row.mode != "foreground"]

    def compose(self) -> ComposeResult:
        with Vertical(id="tasks"):
            yield Static(id="task-filters")
            yield TasksTable()
            keys = self.app.config.keys  # type: ignore[attr-defined]
            filters = tuple(f"filter_{chosen}" for chosen in FILTERS)
            yield Label(
                key_hint(keys, ("show_agent", "opens"), (filters, "filter"), ("close", "closes")), id="tasks-hint"
            )

    def on_mount(self) -> None:
        self.query_one("#tasks").border_title = "Tasks · background and delegated agents"
        self.set_interval(1.0, self._tick)
        self.table.focus()

    @property
    def table(self) -> TasksTable:
        return self.query_one(TasksTable)

    # ---------------------------------------------------------------- filling

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        """The last action column takes the width the others leave (known once laid out)."""
        width = self.table.size.width
        if width and width != self._last_width:
            self._last_width = width
            self._refill()

    def watch_state_filter(self) -> None:
        self._refill()

    def _shown(self) -> list[AgentRow]:
        return [row for row in self.tasks if matches(row.state, self.state_filter)]

    def _last_action_width(self) -> int:
        fixed = sum(width + 2 for _, _, width in COLUMNS) + 2  # each cell is padded by one on each side
        return max(LAST_ACTION_MIN, self.table.size.width - fixed - 1)

    def _refill(self) -> None:
        table = self.table
        cursor = self._cursor_agent()
        table.clear(columns=True)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        table.add_column("last action", key="last", width=self._last_action_width())
        for row in self._shown():
            table.add_row(*self._cells(row), key=row.id)
        if cursor is not None and cursor in table.rows:
            table.move_cursor(row=table.get_row_index(cursor))
        self._update_filters()

    def _cursor_agent(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _cells(self, row: AgentRow) -> list[Content]:
        style = STATE_STYLES.get(row.state, "")
        last_style = style if row.state in ("failed", "awaiting_approval") else ""
        return [
            Content.styled(glyph(row.state), style),
            Content.styled(row.id, "bold"),
            Content(clip(row.name, 30)),
            Content.styled(row.mode, "$foreground-muted"),
            Content.styled(str(row.level), "$foreground-muted"),
            Content(f"{duration(row.elapsed_s(self.clock())):>7}"),
            Content(f"{token_count(row.tokens):>6}"),
            Content.styled(clip(row.last_action or row.state, self._last_action_width()), last_style),
        ]

    def _update_row(self, row: AgentRow) -> None:
        table = self.table
        for (key, *_), cell in zip((*COLUMNS, ("last",)), self._cells(row)):
            table.update_cell(row.id, str(key), cell)

    def _update_filters(self) -> None:
        counts = filter_counts(row.state for row in self.tasks)
        parts: list[Content] = []
        for chosen in FILTERS:
            key = BY_NAME[f"filter_{chosen}"].key or ""
            if chosen == self.state_filter:
                parts.append(Content.styled(f" {key} {chosen} {counts[chosen]} ", "reverse bold $accent"))
            else:
                parts.append(Content.assemble(" ", (key, "bold $accent"), f" {chosen} {counts[chosen]} "))
        self.query_one("#task-filters", Static).update(Content(" ").join(parts))

    # ---------------------------------------------------------------- live

    @on(EventLogged)
    def _logged(self, message: EventLogged) -> None:
        row = self.roster.get(message.event.agent)
        if row is None or row.mode == "foreground":
            return
        listed = row.id in self.table.rows
        if listed != matches(row.state, self.state_filter):
            self._refill()
        else:
            if listed:
                self._update_row(row)
            self._update_filters()

    def _tick(self) -> None:
        """Elapsed times move on for the agents listed that have not finished."""
        for key in list(self.table.rows):
            row = self.roster.rows[str(key.value)]
            if row.finished is None:
                self.table.update_cell(key, "elapsed", Content(f"{duration(row.elapsed_s(self.clock())):>7}"))

    @on(DataTable.RowSelected)
    def _open(self, message: DataTable.RowSelected) -> None:
        message.stop()
        self.dismiss(message.row_key.value)
