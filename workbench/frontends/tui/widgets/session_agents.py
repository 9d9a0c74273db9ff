"""The agents of a session shown in the browser: who started whom, and where each ended."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.content import Content
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from workbench.engine.views.roster import AgentRow, Roster
from workbench.frontends.tui.agent_glyphs import glyph
from workbench.frontends.tui.humanize import clip, token_count
from workbench.frontends.tui.widgets.agents_pane import STATE_STYLES
from workbench.protocol.events import Event

ALL = ""  # the root's data: every agent's events
NAME_CHARS = 28


def agent_label(row: AgentRow) -> Content:
    """Glyph, id and state first: a narrow tree cuts the name at the end."""
    style = STATE_STYLES.get(row.state, "")
    return Content.assemble(
        (f"{glyph(row.state)} ", style),
        (row.id, "bold"),
        (f" {row.state.replace('_', ' ')}", style),
        (f" · {token_count(row.tokens)} tok" if row.tokens else "", "$foreground-muted"),
        (f" · {clip(row.name, NAME_CHARS)}" if row.name != row.id else "", "$foreground-muted"),
    )


class SessionAgents(Tree[str]):
    """Each node's data is an agent id; the root (every agent) carries ``ALL``."""

    def __init__(self) -> None:
        super().__init__("every agent", data=ALL, id="preview-agents")
        self.auto_expand = False
        self.guide_depth = 2
        self.labels: dict[str, Content] = {}

    def render_label(self, node: TreeNode[str], base_style: Style, style: Style) -> Text:
        """The agent's label in the theme's colours (a Content label would need them resolved)."""
        content = self.labels.get(node.data or ALL)
        if content is None:
            return super().render_label(node, base_style, style)
        depth, parent = 0, node.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        width = self.scrollable_content_region.width - depth * self.guide_depth - 1
        text = Text()
        for chunk, chunk_style in content.truncate(max(4, width), ellipsis=True).render(end=""):
            text.append(chunk, chunk_style.rich_style)
        text.stylize(style)
        return text

    def show(self, events: list[Event]) -> None:
        roster = Roster()
        for event in events:
            roster.apply(event)
        self.clear()
        self.labels = {row.id: agent_label(row) for row in roster.rows.values()}
        nodes = {ALL: self.root}
        for row in roster.rows.values():
            parent = nodes.get(row.parent or ALL, self.root)
            nodes[row.id] = parent.add(row.id, data=row.id, expand=True, allow_expand=False)
        for node in nodes.values():
            node.allow_expand = bool(node.children)
        self.root.expand()
        self.move_cursor(self.root)

    @property
    def chosen(self) -> str:
        """The highlighted agent (``ALL`` for the root)."""
        node = self.cursor_node
        return node.data if node is not None and node.data is not None else ALL
