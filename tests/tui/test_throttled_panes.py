"""The panes that show many agents redraw a few times a second, not once per event: what they
show in the end is every event, exactly (nothing is dropped by the batching)."""

from __future__ import annotations

from typing import Any

from tests.engine_driver import spawn
from workbench.engine.config import LimitsConfig
from workbench.frontends.tui.widgets.agents_pane import AgentsPane
from workbench.frontends.tui.widgets.log_pane import TAIL_ROWS, LogPane
from workbench.frontends.tui.widgets.session_strip import SessionStrip
from workbench.protocol.events import AgentFinished

from .helpers import engine_of, engine_ready, settle, until

AGENTS = 40
MANY = LimitsConfig(children_per_agent=AGENTS, concurrency=AGENTS)


async def test_forty_agents_streaming_at_once_end_with_every_event_on_screen(make_app: Any) -> None:
    async with make_app(limits=MANY, pane_redraw_s=0.2).run_test(size=(160, 48)) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        redraws: list[int] = []
        log = app.query_one(LogPane)
        shown = log._show_unshown
        log._shower.redraw = lambda: redraws.append(len(log.events)) or shown()
        for i in range(AGENTS):
            await spawn(bench, "background", f"summarise README.md, part {i}")
        await until(pilot, lambda: sum(isinstance(e, AgentFinished) for e in bench.events) == AGENTS, timeout=120)
        await settle(pilot)
        events = bench.events
        table = log.table
        # the panes catch up within one redraw interval: wait for it (a safety net, not a timing)
        await until(pilot, lambda: log.border_subtitle == f"{len(events)} events")
        rows = [str(key.value) for key in table.rows]
        assert rows == [str(e.seq) for e in events][-len(rows) :] and len(rows) >= min(len(events), TAIL_ROWS)
        assert len(redraws) < len(events)  # batched: fewer redraws than events
        agents = app.query_one(AgentsPane)
        await until(pilot, lambda: agents.border_subtitle == f"{AGENTS + 1} agents")  # none busy any more
        assert len(agents.nodes) == AGENTS + 1
        assert all(agents.rows[agent].state == "done" for agent in agents.nodes if agent != "primary")
        strip = str(app.query_one(SessionStrip).visual)
        assert f"{AGENTS} done" in strip, strip
