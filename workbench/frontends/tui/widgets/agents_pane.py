"""Every agent of the session as a tree: state, id and short task, budget gauge, changes, time worked,
tokens (the context now and all it spent), cost; a header row names the columns.

An agent's row shows what its own requests cost; a folded row, what its whole subtree
cost (``Σ``); the detail line under the tree, both.

Under each agent come its todo items, then the agents it started. Subtrees fold
(space), and a state filter (the same letters as in the task list) keeps the
matching agents and the ancestors that place them in the tree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static, Tree
from textual.widgets.tree import NodeID, TreeNode

from workbench.engine.views.roster import AgentRow
from workbench.engine.views.spend import Spend, cost_text
from workbench.frontends.tui.actions import BY_NAME, bindings, key_of
from workbench.frontends.tui.agent_filters import StateFilter, matches
from workbench.frontends.tui.agent_glyphs import glyph
from workbench.frontends.tui.agent_names import agent_name, short_task
from workbench.frontends.tui.budget_bars import mini_gauge
from workbench.frontends.tui.humanize import clip, duration, token_count
from workbench.frontends.tui.messages import BudgetChanged, EventLogged
from workbench.frontends.tui.progress_marks import (
    checkpoint_summary,
    checkpoint_track,
    current_todo,
    todo_line,
    todo_tally,
)
from workbench.frontends.tui.stylesheet import css_beside
from workbench.frontends.tui.throttle import Throttle
from workbench.frontends.tui.widgets.shell_summary import shells_line
from workbench.frontends.tui.workspace_marks import CHANGES_CELLS, change_cell, change_counts, workspace_line
from workbench.protocol.events import ClusterStatus, Usage, WorktreeSkipped
from workbench.protocol.interaction import TodoItem

if TYPE_CHECKING:
    from workbench.engine.context.tokens import BudgetSnapshot
    from workbench.engine.views.session_view import SessionView

GAUGE_CELLS = 6
WHERE_CELLS = 10
NAME_CELLS = 16  # the least a row at the top of the tree keeps for its glyph, id and task (and 2/5 of a wide one)
# column → (heading, width); a row is laid out in this order, right-aligned
COLUMNS: dict[str, tuple[str, int]] = {
    "gauge": ("window", GAUGE_CELLS),
    "share": ("full", 4),
    "changes": ("changes", CHANGES_CELLS),
    "worked": ("worked", 7),
    "context": ("ctx", 5),
    "spent": ("spent", 5),
    "cost": ("cost", 7),
    "level": ("L", 2),
    "where": ("where", WHERE_CELLS),
}
COLUMN_DROP_ORDER = ("where", "level", "context", "worked", "spent", "changes", "gauge", "cost", "share")
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
    """Each node's data is an agent id (a todo item's node carries its agent's); labels are drawn
    from the pane's rows at render time."""

    BINDINGS = bindings("agents")

    def __init__(self, pane: AgentsPane) -> None:
        super().__init__("agents", id="agent-tree")
        self.pane = pane
        self.show_root = False
        self.auto_expand = False  # enter shows the agent; space folds its subtree
        self.guide_depth = 3

    def render_label(self, node: TreeNode[str], base_style: Style, style: Style) -> Text:
        row = self.pane.rows.get(node.data or "")
        if row is None:
            return super().render_label(node, base_style, style)
        depth = self.pane.depth(row)
        item = self.pane.todo_items.get(node.id)
        if item is not None:
            depth += 1
        width = self.scrollable_content_region.width - 1 - depth * self.guide_depth
        if item is not None:
            content = todo_line(item).truncate(max(4, width), ellipsis=True)
        else:
            content = self.pane.label(row, width, folded=self.pane.hidden_under(node))
        text = Text()
        for chunk, chunk_style in content.render(end=""):
            text.append(chunk, chunk_style.rich_style)
        text.stylize(style)
        return text

    def action_filter_state(self, chosen: StateFilter) -> None:
        self.pane.state_filter = chosen

    def on_focus(self) -> None:
        if self.cursor_node is None:  # the keys act on the highlighted agent: start at the one shown
            self.pane.select_agent(self.pane.shown_agent)


class ColumnHeader(Widget):
    """The headings of the tree's columns, drawn for the tree's current width."""

    def __init__(self, pane: AgentsPane) -> None:
        super().__init__(id="agent-columns")
        self.pane = pane

    def render(self) -> Content:
        return self.pane.header(self.pane.top_width())


class AgentsPane(Vertical):
    DEFAULT_CSS = css_beside(__file__)

    shown_agent: reactive[str] = reactive("primary")
    state_filter: reactive[StateFilter] = reactive("all", init=False)

    class AgentChosen(Message):
        def __init__(self, agent_id: str) -> None:
            super().__init__()
            self.agent_id = agent_id

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.view: SessionView | None = None
        self.nodes: dict[str, TreeNode[str]] = {}
        self.todo_items: dict[NodeID, TodoItem] = {}
        self.budgets: dict[str, BudgetSnapshot] = {}
        self.folded: set[str] = set()  # agents whose subtree the user folded
        self._todo_nodes: dict[str, list[TreeNode[str]]] = {}
        self._rebuild_pending = False
        self._stale: set[str] = set()  # agents whose row changed since the last redraw
        self._redraw = Throttle(self, self._redraw_now)
        self._detail_lines = 0
        self._changes_shown = False  # the changes column appears once an agent has something to show there
        self._warned = False  # that agents share the folder though they were to have worktrees
        self._priced_at = (-1, False)  # (the view's last seq, whether any request had a price by then)

    @property
    def spend(self) -> Spend | None:
        return self.view.spend if self.view is not None else None

    @property
    def rows(self) -> dict[str, AgentRow]:
        return self.view.roster.rows if self.view is not None else {}

    def follow(self, view: SessionView) -> None:
        """Show the agents of this view (the session's, kept up to date by whoever owns it)."""
        self.view = view
        self._rebuild_soon()

    def todos(self, agent_id: str) -> list[TodoItem]:
        return self.view.todos.of(agent_id) if self.view is not None else []

    def compose(self) -> ComposeResult:
        yield ColumnHeader(self)
        yield AgentTree(self)
        yield Static(id="agent-detail")

    def on_mount(self) -> None:
        self.border_title = "Agents"
        self.set_interval(1.0, self._tick)

    @property
    def agent_tree(self) -> AgentTree:
        return self.query_one(AgentTree)

    # ---------------------------------------------------------------- events

    @on(EventLogged)
    def _logged(self, message: EventLogged) -> None:
        if isinstance(message.event, ClusterStatus):  # every cluster agent waits, or goes on
            self._relabel_all()
            self._update_detail()
            self.border_subtitle = self._summary()
            return
        row = self.rows.get(message.event.agent)
        if row is None:
            return
        if isinstance(message.event, Usage):  # the subtree costs of its ancestors moved too
            parent = row.parent
            while parent in self.rows:
                self._stale.add(parent)
                parent = self.rows[parent].parent
        if isinstance(message.event, WorktreeSkipped) and not self._warned:  # once: each row shows it after
            self._warned = True
            reason = message.event.reason
            self.notify(reason, title="No worktrees: agents share the folder", severity="warning", markup=False)
        if self._changes_shown != (shown := self._any_changes()):
            self._changes_shown = shown
            self._relabel_all()
        if self.state_filter != "all" or (row.id not in self.nodes and row.parent and row.parent not in self.nodes):
            self._rebuild_soon()
        elif row.id not in self.nodes:
            self._add_node(row)
        else:
            self._sync_todos(row)
            self._stale.add(row.id)
        self._redraw.due()

    @on(BudgetChanged)
    def _budget(self, message: BudgetChanged) -> None:
        budget = message.budget
        self.budgets[budget.agent] = budget
        self._stale.add(budget.agent)
        self._redraw.due()

    def _redraw_now(self) -> None:
        """What the events since the last redraw changed: their agents' rows, the detail, the summary."""
        stale, self._stale = self._stale, set()
        for agent_id in stale:
            self._relabel(agent_id)
        self._update_detail()
        self.border_subtitle = self._summary()

    # ---------------------------------------------------------------- the tree

    def _visible(self) -> set[str]:
        """The agents the filter keeps, and their ancestors."""
        keep: set[str] = set()
        for row in self.rows.values():
            if matches(row.state, self.state_filter):
                agent_id: str | None = row.id
                while agent_id in self.rows and agent_id not in keep:
                    keep.add(agent_id)
                    agent_id = self.rows[agent_id].parent
        return keep

    def _add_node(self, row: AgentRow) -> None:
        parent = self.nodes.get(row.parent or "") or self.agent_tree.root
        node = parent.add(row.name, data=row.id, expand=row.id not in self.folded, allow_expand=False)
        parent.allow_expand = True
        self.nodes[row.id] = node
        self._sync_todos(row)

    def _sync_todos(self, row: AgentRow) -> None:
        """The agent's todo items as the first children of its node, replaced when the list changes."""
        node = self.nodes.get(row.id)
        shown = self._todo_nodes.get(row.id, [])
        todos = self.todos(row.id)
        if node is None or [self.todo_items[n.id] for n in shown] == todos:
            return
        for old in shown:
            del self.todo_items[old.id]
            old.remove()
        fresh = [node.add("", data=row.id, before=i, allow_expand=False) for i in range(len(todos))]
        self.todo_items.update((n.id, item) for n, item in zip(fresh, todos))
        self._todo_nodes[row.id] = fresh
        node.allow_expand = bool(node.children)

    def _rebuild_soon(self) -> None:
        """Rebuild once for a burst of events (each arrives as its own message)."""
        if not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_later(self._rebuild)

    def _rebuild(self) -> None:
        """Show the agents the filter keeps: a new tree only when that set changed."""
        self._rebuild_pending = False
        visible = self._visible()
        if visible == set(self.nodes):
            for agent_id in visible:
                self._sync_todos(self.rows[agent_id])
            self._relabel_all()
        else:
            cursor = self.agent_tree.cursor_node.data if self.agent_tree.cursor_node is not None else None
            self.agent_tree.clear()
            self.nodes, self.todo_items, self._todo_nodes = {}, {}, {}
            for row in self.rows.values():  # in spawn order, so every parent comes before its children
                if row.id in visible:
                    self._add_node(row)
            if cursor in self.nodes:
                self.select_agent(cursor)
        self.border_subtitle = self._summary()
        self._update_detail()

    def watch_state_filter(self) -> None:
        self._rebuild()

    @on(Tree.NodeCollapsed)
    def _folded(self, message: Tree.NodeCollapsed[str]) -> None:
        message.stop()
        if message.node.data:
            self.folded.add(message.node.data)
            message.node.refresh()

    @on(Tree.NodeExpanded)
    def _unfolded(self, message: Tree.NodeExpanded[str]) -> None:
        message.stop()
        if message.node.data:
            self.folded.discard(message.node.data)
            message.node.refresh()

    def hidden_under(self, node: TreeNode[str]) -> int:
        """How many agents a folded node hides (0 when it is open)."""
        if node.is_expanded or not node.children:
            return 0
        stack, count = list(node.children), 0
        while stack:
            child = stack.pop()
            if child.id not in self.todo_items:
                count += 1
            stack.extend(child.children)
        return count

    # ---------------------------------------------------------------- drawing

    def _any_changes(self) -> bool:
        places = self.view.workspaces.rows.values() if self.view is not None else ()
        return any(len(change_counts(place)) for place in places)

    def _summary(self) -> str:
        if self.state_filter != "all":
            kept = sum(1 for row in self.rows.values() if matches(row.state, self.state_filter))
            return f"{self.state_filter}: {kept} of {len(self.rows)} · a all"
        running = sum(1 for row in self.rows.values() if row.active)
        count = f"{len(self.rows)} agent{'s' if len(self.rows) != 1 else ''}"
        summary = f"{count} · {running} busy" if running else count
        if self.view is not None and self.view.placements.unreachable:
            summary += " · cluster unreachable"
        return summary

    def descendant_count(self, agent_id: str) -> int:
        """How many agents descend from this one."""
        children = [row.id for row in self.rows.values() if row.parent == agent_id]
        return len(children) + sum(self.descendant_count(child) for child in children)

    def depth(self, row: AgentRow) -> int:
        depth = 0
        parent = row.parent
        while parent in self.rows:
            depth += 1
            parent = self.rows[parent].parent
        return depth

    def column_names(self, width: int) -> list[str]:
        """The columns every row shows in a tree ``width`` cells wide: those the session has something for,
        as many as fit beside the name (the share last)."""
        placements = self.view.placements if self.view is not None else None
        present = {
            "changes": self._changes_shown,
            "cost": self._priced(),
            "where": placements is not None and bool(placements.runs),
        }
        names = [name for name in COLUMNS if present.get(name, True)]
        drop = iter(name for name in COLUMN_DROP_ORDER if name in names)
        name_cells = max(NAME_CELLS, width * 2 // 5)
        while names and 2 + name_cells + sum(COLUMNS[name][1] + 1 for name in names) > width:
            names.remove(next(drop))
        return names

    def _priced(self) -> bool:
        """Whether any request of the session had a price (the offline brain's have none)."""
        if self.spend is None or self.view is None:
            return False
        if self._priced_at[0] != self.view.last_seq:
            self._priced_at = (self.view.last_seq, bool(self.spend.fleet().usd))
        return self._priced_at[1]

    def top_width(self) -> int:
        """The width of a row at the top of the tree (deeper rows are indented by its guides)."""
        return max(12, self.agent_tree.scrollable_content_region.width - 1)

    def header(self, width: int) -> Content:
        """The columns' headings over the rows' cells."""
        headings = [f"{COLUMNS[name][0]:>{COLUMNS[name][1]}}" for name in self.column_names(width)]
        right = " ".join(headings)
        return Content(f"  {'agent':<{max(0, width - 2 - len(right))}}{right}")

    def label(self, row: AgentRow, width: int, folded: int = 0) -> Content:
        """glyph, id and short task, then the columns the header names (those that fit the tree's width)."""
        width = max(12, width)
        cells = [self._cell(name, row, folded) for name in self.column_names(self.top_width())]
        right = Content(" ").join(cells)
        name_width = width - 2 - (len(right) + 1 if cells else 0)
        fold = f" +{folded}" if folded else ""
        task = short_task(row)
        name = clip(f"{row.id} {task}" if task else row.id, max(1, name_width - len(fold)))
        shown = "bold " if row.id == self.shown_agent else ""
        return Content.assemble(
            (glyph(row.state) + " ", STATE_STYLES.get(row.state, "")),
            (name[: len(row.id)], f"{shown}$text-accent"),
            (name[len(row.id) :], shown),
            (fold, "$accent"),
            " " * max(0, name_width - len(name) - len(fold)),
            " " if cells else "",
            right,
        ).truncate(width)

    def _cell(self, column: str, row: AgentRow, folded: int) -> Content:
        """One cell of a row, right-aligned in its column's width."""
        budget = self.budgets.get(row.id)
        muted = "$foreground-muted"
        match column:
            case "gauge":
                cell = mini_gauge(budget.share, budget.delegate_at, budget.compact_at, GAUGE_CELLS) if budget else ""
            case "share":
                cell = f"{budget.share:.0%}" if budget else ""
            case "changes":
                cell = change_cell(self.view.workspaces.get(row.id) if self.view is not None else None)
            case "worked":
                cell = Content.styled(duration(row.elapsed_s(self.clock())), muted)
            case "context":
                cell = Content.styled(token_count(budget.used), muted) if budget else ""
            case "spent":
                cell = Content.styled(token_count(row.tokens), muted)
            case "cost":
                cell = self._cost_column(row.id, subtree=bool(folded)) or ""
            case "level":
                cell = Content.styled(f"L{row.level}", muted)
            case _:
                cell = self._where(row) or ""
        content = Content(cell) if isinstance(cell, str) else cell
        cells = COLUMNS[column][1]
        return content.truncate(cells, ellipsis=True).pad_left(max(0, cells - len(content)))

    def _cost_column(self, agent_id: str, subtree: bool) -> Content | None:
        """What the agent (or its folded subtree) cost; None when nothing of it was priced (the offline brain)."""
        if self.spend is None:
            return None
        cost = self.spend.subtree(agent_id) if subtree else self.spend.own(agent_id)
        if not cost.usd:
            return None
        return Content.styled(f"{'Σ' if subtree else ''}{cost_text(cost)}", "$foreground-muted")

    def _cost_line(self, agent_id: str) -> Content | None:
        """``cost $0.12 own · $0.40 with 3 sub-agents`` (None when nothing of it was priced)."""
        if self.spend is None or not (subtree := self.spend.subtree(agent_id)).usd:
            return None
        parts = [
            ("cost ", "$foreground-muted"),
            (cost_text(self.spend.own(agent_id)), "bold"),
            (" own", "$foreground-muted"),
        ]
        if below := self.descendant_count(agent_id):
            parts += [(" · ", ""), (cost_text(subtree), "bold")]
            parts.append((f" with {below} sub-agent{'s' if below != 1 else ''}", "$foreground-muted"))
        return Content.assemble(*parts)

    def _where(self, row: AgentRow) -> Content | None:
        """``@worker`` for a cluster agent (``@queue`` while its run waits), marked paused while the cluster is away."""
        placements = self.view.placements if self.view is not None else None
        if placements is None or not placements.remote(row.id):
            return None
        where = f"@{placements.worker(row.id) or 'queue'}"
        if placements.unreachable and not row.ended:
            return Content.styled(f"{where} {glyph('paused')}", "$warning")
        return Content.styled(where, "$foreground-muted")

    def _relabel(self, agent_id: str) -> None:
        if node := self.nodes.get(agent_id):
            node.refresh()

    def _relabel_all(self) -> None:
        for agent_id in self.nodes:
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
        node = self.agent_tree.cursor_node
        agent_id = node.data if node is not None and node.data else self.shown_agent
        return self.rows.get(agent_id)

    def _update_detail(self) -> None:
        self.query_one(ColumnHeader).refresh()  # a column may have come or gone with the event
        row = self._highlighted()
        detail = self.query_one("#agent-detail", Static)
        if row is None:
            detail.update(Content.styled("starting…", "$foreground-muted"))
            self._detail_lines = 1
            return
        facts = f"{row.state.replace('_', ' ')} · {row.mode} · level {row.level}"
        lines = [Content.styled(agent_name(row.id, row), "bold"), Content(facts), self._tokens_line(row)]
        if (spent := self._cost_line(row.id)) is not None:
            lines.append(spent)
        if self.view is not None and (run := self.view.placements.run_of(row.id)) is not None:
            placements = self.view.placements
            where = f"on worker {run.worker}" if run.worker else "waiting for a worker of the cluster"
            if placements.unreachable and not row.ended:
                where += f" · the cluster {placements.cluster_url} is unreachable: it waits where it is"
            lines.append(Content.assemble(("where ", "$foreground-muted"), where))
        if row.task and " ".join(row.task.split()) != row.name:  # more than the name says
            lines.append(Content.assemble(("task ", "$foreground-muted"), clip(row.task, 200)))
        if row.last_action:
            lines.append(Content.assemble(("last ", "$foreground-muted"), clip(row.last_action, 200)))
        if self.view is not None and any(plan.agent == row.id for plan in self.view.pending.plans.values()):
            lines.append(Content.styled("plan waiting for your approval", "$warning bold"))
        if self.view is not None:
            keys = getattr(self.app, "config", None)
            diff_key = key_of(BY_NAME["show_diff"], keys.keys if keys is not None else {}).split(",")[0]
            lines.extend(workspace_line(self.view.workspaces.get(row.id), diff_key))
            lines.extend(
                shells_line(self.view.shells, row.id, key_of(BY_NAME["agent_shells"], keys.keys if keys else {}))
            )
        checkpoints = self.view.checkpoints.of(row.id) if self.view is not None else []
        if checkpoints:
            lines.append(
                Content.assemble(
                    ("checkpoint ", "$foreground-muted"),
                    checkpoint_track(checkpoints),
                    " ",
                    (checkpoint_summary(checkpoints), "bold"),
                )
            )
        if todos := self.todos(row.id):
            now = current_todo(todos)
            lines.append(
                Content.assemble(
                    ("todos ", "$foreground-muted"),
                    (todo_tally(todos), "bold"),
                    " · " if now else "",
                    todo_line(now) if now else "",
                )
            )
        # the detail's height follows its lines (they do not wrap): only a change in their number needs a layout
        detail.update(Content("\n").join(lines), layout=len(lines) != self._detail_lines)
        self._detail_lines = len(lines)

    def _tokens_line(self, row: AgentRow) -> Content:
        """``ctx now 3,873 · spent 7,640 tokens in all``: the context it holds now and what all its requests
        took are different figures."""
        muted = "$foreground-muted"
        budget = self.budgets.get(row.id)
        return Content.assemble(
            *((("ctx now ", muted), (f"{budget.used:,}", "bold"), (" · ", muted)) if budget else ()),
            ("spent ", muted),
            (f"{row.tokens:,}", "bold"),
            (" tokens in all", muted),
        )

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
            self.agent_tree.move_cursor(node)
