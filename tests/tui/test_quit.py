"""Quitting with agents at work asks: stop them (they go on when the session is resumed) or cancel them."""

from __future__ import annotations

from pathlib import Path

from tests.tui.brains import MoodyBrain
from tests.tui.helpers import engine_of, engine_ready, type_and_send, until
from workbench.engine.engine import Engine
from workbench.frontends.tui.app import farewell
from workbench.frontends.tui.screens.quit import QuitScreen
from workbench.log.bundle import BundleStore
from workbench.protocol.events import AgentFinished, Status


async def started_background_agent(pilot, brain: MoodyBrain) -> str:  # type: ignore[no-untyped-def]
    app = await engine_ready(pilot)
    await type_and_send(pilot, "/background wait for the release")
    await until(pilot, lambda: brain.waiting == 1)
    return engine_of(app).session.id


async def test_stopping_leaves_the_agent_to_go_on_when_the_session_is_resumed(make_app, config, workspace) -> None:  # type: ignore[no-untyped-def]
    brain = MoodyBrain(delay_s=0)
    app = make_app(brain=brain)
    async with app.run_test(size=(120, 36)) as pilot:
        session_id = await started_background_agent(pilot, brain)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen))
        assert "agent-1" in str(app.screen.query_one("#quit-question").visual)
        await pilot.press("s")
    assert app.left == (session_id, "stop")
    assert "workbench --resume" in farewell(*app.left)
    events = (await BundleStore(Path(config.bundles)).read(session_id)).events
    assert not any(isinstance(e, AgentFinished) and e.agent == "agent-1" for e in events)  # not cancelled

    # resumed, it goes on from where it was and finishes its task
    resumed = await Engine.resume(config, workspace, MoodyBrain(delay_s=0), session_id)
    resumed_brain = resumed.brain
    assert isinstance(resumed_brain, MoodyBrain)
    resumed_brain.release.set()
    await resumed.wait_all()
    await resumed.close()
    assert resumed.agent("agent-1").state == "done"  # type: ignore[union-attr]


async def test_cancelling_ends_every_agent_but_the_primary(make_app, config) -> None:  # type: ignore[no-untyped-def]
    brain = MoodyBrain(delay_s=0)
    app = make_app(brain=brain)
    async with app.run_test(size=(120, 36)) as pilot:
        session_id = await started_background_agent(pilot, brain)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("c")
    assert app.left == (session_id, "cancel")
    events = (await BundleStore(Path(config.bundles)).read(session_id)).events
    finished = [e for e in events if isinstance(e, AgentFinished)]
    assert [(e.agent, e.state) for e in finished] == [("agent-1", "cancelled")]


async def test_staying_keeps_the_app_and_an_idle_session_quits_without_asking(make_app) -> None:  # type: ignore[no-untyped-def]
    brain = MoodyBrain(delay_s=0)
    app = make_app(brain=brain)
    async with app.run_test(size=(120, 36)) as pilot:
        await started_background_agent(pilot, brain)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, QuitScreen))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, QuitScreen))
        assert app.is_running and app.left is None
        brain.release.set()
        await until(pilot, lambda: any(isinstance(e, Status) and e.state == "done" for e in engine_of(app).events))
        await pilot.press("ctrl+q")  # nothing at work any more: no question
        await until(pilot, lambda: not app.is_running)
