"""The agents pane says where each cluster agent runs, and that it waits while the cluster is away."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from textual.app import App, ComposeResult

from workbench.engine.context.tokens import default_counter
from workbench.engine.views.session_view import SessionView
from workbench.frontends.tui.messages import EventLogged
from workbench.frontends.tui.widgets.agents_pane import AgentsPane
from workbench.protocol.events import AgentPlaced, AgentSpawned, ClusterStatus, Event, SessionStarted, Status


class PaneApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.view = SessionView(default_counter(), window=200_000, delegate_at=0.3, compact_at=0.8)
        self.seq = 0

    def compose(self) -> ComposeResult:
        yield AgentsPane(lambda: datetime.now(UTC))

    def on_mount(self) -> None:
        self.query_one(AgentsPane).follow(self.view)

    def log_event(self, event: Event) -> None:
        self.seq += 1
        stamped = event.model_copy(update={"seq": self.seq})
        self.view.apply(stamped)
        self.query_one(AgentsPane).post_message(EventLogged(stamped))


def pane_text(app: Any) -> str:
    pane = app.query_one(AgentsPane)
    labels = [pane.label(pane.rows[agent], 70).plain for agent in pane.nodes]
    detail = str(app.query_one("#agent-detail").visual)
    return "\n".join([*labels, detail, str(pane.border_subtitle)])


async def test_cluster_agents_show_their_worker_and_wait_visibly_while_the_cluster_is_away() -> None:
    app = PaneApp()
    async with app.run_test(size=(100, 30)) as pilot:
        for event in (
            SessionStarted(),
            AgentSpawned(agent="primary", name="primary"),
            ClusterStatus(state="connected", url="nats://build:4222"),
            AgentSpawned(agent="agent-1", name="crunch numbers", parent="primary", level=2, mode="background"),
            AgentPlaced(agent="agent-1"),
            Status(agent="agent-1", state="queued"),
        ):
            app.log_event(event)
        await pilot.pause()
        assert "@queue" in pane_text(app)

        app.log_event(AgentPlaced(agent="agent-1", worker="build-7", attempt=1))
        app.log_event(Status(agent="agent-1", state="thinking"))
        await pilot.pause()
        app.query_one(AgentsPane).select_agent("agent-1")
        await pilot.pause()
        shown = pane_text(app)
        assert "@build-7" in shown and "on worker build-7" in shown

        app.log_event(ClusterStatus(state="unreachable", url="nats://build:4222"))
        await pilot.pause()
        shown = pane_text(app)
        assert "@build-7 ‖" in shown and "cluster unreachable" in shown and "nats://build:4222 is unreachable" in shown

        app.log_event(ClusterStatus(state="connected", url="nats://build:4222"))
        await pilot.pause()
        assert "‖" not in pane_text(app) and "unreachable" not in pane_text(app)
