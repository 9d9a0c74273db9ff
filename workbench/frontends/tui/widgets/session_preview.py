"""A session as the browser previews it: where it stands, its agents, the matching lines, its events.

Choosing an agent in the tree narrows the events to that agent's, and is the
agent a remount continues; the highlighted event is where a fork starts.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import OptionList, Static, Tree

from workbench.engine.library import BundleContents, SessionHits, interruption
from workbench.engine.presentation import brain_label
from workbench.frontends.tui.session_states import STATE_STYLES
from workbench.frontends.tui.stylesheet import css_beside
from workbench.frontends.tui.widgets.event_table import EventTable
from workbench.frontends.tui.widgets.search_matches import SearchMatches
from workbench.frontends.tui.widgets.session_agents import ALL, SessionAgents
from workbench.frontends.tui.widgets.session_table import ListedSession
from workbench.protocol.events import Event


def head_lines(listed: ListedSession, contents: BundleContents) -> Content:
    meta = listed.entry.meta
    created = f"{meta.created.astimezone():%Y-%m-%d %H:%M}" if meta.created else "?"
    facts = f"{meta.id} · {created} · {brain_label(meta.brain, meta.model)} · {len(contents.events)} events"
    stopped = interruption(contents.events, contents.problems)
    if listed.state == "running elsewhere" and listed.entry.holder is not None:
        where = f"open in {listed.entry.holder}: resuming opens it read-only"
    elif stopped is not None:
        where = f"interrupted, {stopped}"
    else:
        where = listed.state
    unread = f" · {len(contents.problems)} unreadable line(s) skipped" if contents.problems else ""
    return Content.assemble(
        (facts, "$foreground-muted"), "\n", (where, STATE_STYLES[listed.state]), (unread, "$warning")
    )


class SessionPreview(Vertical):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self) -> None:
        super().__init__(id="preview")
        self.listed: ListedSession | None = None
        self.events: list[Event] = []

    def compose(self) -> ComposeResult:
        yield Static(id="preview-head")
        with Horizontal(id="preview-body"):
            with Vertical(id="preview-side"):
                yield SessionAgents()
                yield SearchMatches()
            yield EventTable()

    def on_mount(self) -> None:
        self.border_title = "Preview"
        self.query_one(SessionAgents).border_title = "Agents"
        self.query_one(SearchMatches).display = False

    @property
    def session_id(self) -> str | None:
        return self.listed.id if self.listed is not None else None

    def show(self, listed: ListedSession, contents: BundleContents, found: SessionHits | None, query: str) -> None:
        self.listed = listed
        self.events = contents.events
        self.border_title = f"Preview · {listed.entry.meta.title or listed.id}"
        self.query_one("#preview-head", Static).update(head_lines(listed, contents))
        self.query_one(SessionAgents).show(contents.events)
        matches = self.query_one(SearchMatches)
        matches.display = found is not None
        if found is not None:
            matches.show(found.hits, query, found.total)
        first = found.hits[0].seq if found is not None and found.hits else None
        self._show_events(cursor=str(first or (self.events[-1].seq if self.events else "")))

    def clear_preview(self) -> None:
        self.listed = None
        self.events = []
        self.border_title = "Preview"
        self.query_one("#preview-head", Static).update(Content.styled("No session is selected.", "$foreground-muted"))
        self.query_one(SessionAgents).clear()
        self.query_one(SearchMatches).display = False
        self.query_one(EventTable).show([])

    @property
    def agent(self) -> str | None:
        """The agent a remount continues: the one chosen in the tree (None: the session's first)."""
        return self.query_one(SessionAgents).chosen or None

    @property
    def event(self) -> Event | None:
        """The highlighted event: where a fork starts."""
        return self.query_one(EventTable).highlighted

    def _show_events(self, cursor: str | None = None) -> None:
        """The chosen agent's events; the cursor on ``cursor``, else where it was, else on the last."""
        agent = self.query_one(SessionAgents).chosen
        shown = [e for e in self.events if agent == ALL or e.agent == agent]
        table = self.query_one(EventTable)
        table.border_title = f"Events · {agent or 'every agent'} · {len(shown)}"
        keys = {str(e.seq) for e in shown}
        if cursor not in keys:
            here = table.highlighted
            cursor = str(here.seq) if here is not None and str(here.seq) in keys else None
        table.show(shown, cursor=cursor or (str(shown[-1].seq) if shown else None))

    @on(Tree.NodeHighlighted, "#preview-agents")
    def _agent_chosen(self, message: Tree.NodeHighlighted[str]) -> None:
        message.stop()
        if self.listed is not None:
            self._show_events()

    @on(OptionList.OptionHighlighted, "#preview-matches")
    def _match_chosen(self, message: OptionList.OptionHighlighted) -> None:
        """The event holding the line is highlighted among every agent's events."""
        message.stop()
        seq = str(SearchMatches.seq_of(message.option))
        agents = self.query_one(SessionAgents)
        if agents.chosen != ALL:
            agents.move_cursor(agents.root)
            self._show_events(cursor=seq)
        self.query_one(EventTable).point_at(seq)
