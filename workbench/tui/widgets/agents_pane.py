"""Every agent of the session as a tree: state, name, budget gauge, elapsed time, tokens."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Callable

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static, Tree
from textual.widgets.tree import TreeNode

from workbench.core.events import AgentSpawned
from workbench.tui.actions import bindings
from workbench.tui.agent_rows import AgentRow
from workbench.tui.budget_bars import mini_gauge
from workbench.tui.humanize import clip, duration, token_count
from workbench.tui.messages import BudgetChanged, EventLogged
from workbench.tui.stylesheet import css_beside

if TYPE_CHECKING:
    from workbench.core.tokens import BudgetSnapshot

GAUGE_CELLS = 6
STATE_STYLES: dict[str, str] = {
    "thinking": "$primary",
    "tool": "$accent",
    "awaiting_approval": "$warning bold",
    "queued": "$foreground-muted",
    "idle": "$foreground-muted",
    "paused": "$warning",
    "done": "$success",
    "failed": "$error",
    "cancelled": "$foreground-muted",
}


class AgentTree(Tree[str]):
    """Each node's data is an agent id; its label is drawn from the pane's rows at render time."""

    BINDINGS = bindings("agents")

    def __init__(self, pane: AgentsPane) -> None:
        super().__init__("agents", id="agent-tree")
        self.pane = pane
        self.show_root = False
        self.auto_expand = False  # enter shows the agent; it does not fold its children away
        self.guide_depth = 3

    def render_label(self, node: TreeNode[str], base_style: Style, style: Style) -> Text:
        row = self.pane.rows.get(node.data or "")
        if row is None:
            return super().render_label(node, base_style, style)
        width = self.scrollable_content_region.width - 1 - self.pane.depth(row) * self.guide_depth
        text = Text()
        for chunk, chunk_style in self.pane.label(row, width).render(end=""):
            text.append(chunk, chunk_style.rich_style)
        text.stylize(style)
        return text


class AgentsPane(Vertical):
    DEFAULT_CSS = css_beside(__file__)

    shown_agent: reactive[str] = reactive("primary")

    class AgentChosen(Message):
        def __init__(self, agent_id: str) -> None:
            super().__init__()
            self.agent_id = agent_id

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.rows: dict[str, AgentRow] = {}
        self.nodes: dict[str, TreeNode[str]] = {}
        self.budgets: dict[str, BudgetSnapshot] = {}

    def compose(self) -> ComposeResult:
        yield AgentTree(self)
        yield Static(id="agent-detail")

    def on_mount(self) -> None:
        self.border_title = "Agents"
        self.set_interval(1.0, self._tick)

    @property
    def tree(self) -> AgentTree:
        return self.query_one(AgentTree)

    # ---------------------------------------------------------------- events

    @on(EventLogged)
    def _logged(self, message: EventLogged) -> None:
        event = message.event
        if isinstance(event, AgentSpawned):
            self._add(AgentRow.spawned(event))
            return
        row = self.rows.get(event.agent)
        if row is None:
            return
        before = (row.state, row.last_action, row.tokens)
        row.observe(event)
        if (row.state, row.last_action, row.tokens) != before:
            self._relabel(row.id)
            self._update_detail()
            self.border_subtitle = self._summary()

    @on(BudgetChanged)
    def _budget(self, message: BudgetChanged) -> None:
        budget = message.budget
        self.budgets[budget.agent] = budget
        if budget.agent in self.nodes:
            self._relabel(budget.agent)

    def _add(self, row: AgentRow) -> None:
        self.rows[row.id] = row
        parent = self.nodes.get(row.parent or "") or self.tree.root
        node = parent.add(row.name, data=row.id, expand=True, allow_expand=False)
        parent.allow_expand = True
        self.nodes[row.id] = node
        self.border_subtitle = self._summary()
        self._update_detail()

    # ---------------------------------------------------------------- drawing

    def _summary(self) -> str:
        running = sum(1 for row in self.rows.values() if row.active)
        count = f"{len(self.rows)} agent{'s' if len(self.rows) != 1 else ''}"
        return f"{count} · {running} busy" if running else count

    def depth(self, row: AgentRow) -> int:
        depth = 0
        parent = row.parent
        while parent in self.rows:
            depth += 1
            parent = self.rows[parent].parent
        return depth

    def label(self, row: AgentRow, width: int) -> Content:
        """glyph, name, then gauge, share, elapsed, tokens and level as far as ``width`` allows."""
        width = max(12, width)
        budget = self.budgets.get(row.id)
        share = budget.share if budget else 0.0
        gauge = (
            mini_gauge(share, budget.delegate_at, budget.compact_at, GAUGE_CELLS)
            if budget
            else Content(" " * GAUGE_CELLS)
        )
        columns: list[Content] = [
            gauge,
            Content(f"{share:>4.0%}"),
            Content.styled(f"{duration(row.elapsed_s(self.clock())):>5}", "$foreground-muted"),
            Content.styled(f"{token_count(row.tokens):>5}", "$foreground-muted"),
            Content.styled(f"L{row.level}", "$foreground-muted"),
        ]
        # columns go from the right when the pane is narrow; the name keeps at least 12 characters
        while columns and 2 + 12 + sum(len(c) + 1 for c in columns) > width:
            columns.pop()
        right = Content(" ").join(columns)
        name_width = width - 2 - (len(right) + 1 if columns else 0)
        name_style = "bold" if row.id == self.shown_agent else ""
        return Content.assemble(
            (row.glyph + " ", STATE_STYLES.get(row.state, "")),
            (clip(row.name, name_width).ljust(name_width), name_style),
            " " if columns else "",
            right,
        )

    def _relabel(self, agent_id: str) -> None:
        if node := self.nodes.get(agent_id):
            node.refresh()

    def _relabel_all(self) -> None:
        for agent_id in self.rows:
            self._relabel(agent_id)

    def _tick(self) -> None:
        """Elapsed times move on for every agent that has not finished."""
        for row in self.rows.values():
            if row.finished is None:
                self._relabel(row.id)

    def on_resize(self) -> None:
        self._relabel_all()

    def watch_shown_agent(self) -> None:
        self._relabel_all()
        self._update_detail()

    def _highlighted(self) -> AgentRow | None:
        node = self.tree.cursor_node
        agent_id = node.data if node is not None and node.data else self.shown_agent
        return self.rows.get(agent_id)

    def _update_detail(self) -> None:
        row = self._highlighted()
        detail = self.query_one("#agent-detail", Static)
        if row is None:
            detail.update(Content.styled("starting…", "$foreground-muted"))
            return
        facts = f"{row.id} · {row.state.replace('_', ' ')} · {row.mode} · level {row.level}"
        lines = [Content.styled(facts, "bold")]
        if row.task:
            lines.append(Content.assemble(("task ", "$foreground-muted"), clip(row.task, 200)))
        if row.last_action:
            lines.append(Content.assemble(("last ", "$foreground-muted"), clip(row.last_action, 200)))
        detail.update(Content("\n").join(lines))

    @on(Tree.NodeHighlighted)
    def _highlight(self) -> None:
        self._update_detail()

    @on(Tree.NodeSelected)
    def _selected(self, message: Tree.NodeSelected[str]) -> None:
        message.stop()
        if message.node.data:
            self.post_message(self.AgentChosen(message.node.data))

    def select_agent(self, agent_id: str) -> None:
        """Put the tree's cursor on an agent (when it is shown from elsewhere)."""
        if node := self.nodes.get(agent_id):
            self.tree.move_cursor(node)
