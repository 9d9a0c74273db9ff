"""Plan mode for the model: EnterPlanMode changes the session's mode as SetMode does; ExitPlanMode
waits for the person's verdict, asked as an event and answered by a command."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml

from tests.engine_driver import next_event, run
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.engine import Engine
from workbench.protocol.commands import DecidePlan, Send
from workbench.protocol.events import ModeChanged, PlanDecided, PlanProposed, ToolResult

PLAN = "1. Add `greet()` to app.py\n2. Test it"


def script(tmp_path: Path, *after: Any) -> Path:
    path = tmp_path / "plan.yaml"
    turns = [
        {"text": "Planning first.", "tool_use": {"name": "EnterPlanMode", "input": {}}},
        {"tool_use": {"name": "Write", "input": {"file_path": "app.py", "content": "x"}}},
        {"text": "Here is the plan.", "tool_use": {"name": "ExitPlanMode", "input": {"plan": PLAN}}},
        *after,
    ]
    path.write_text(yaml.safe_dump(turns))
    return path


async def open_engine(tmp_path: Path, brain: ScriptedBrain) -> Engine:
    (tmp_path / "ws").mkdir(exist_ok=True)
    return await Engine.open(Config(bundles=tmp_path / "bundles", fsync="never"), tmp_path / "ws", brain)


async def test_an_approved_plan_leaves_plan_mode_in_the_mode_chosen(tmp_path: Path) -> None:
    engine = await open_engine(tmp_path, ScriptedBrain(script(tmp_path, "Carrying it out.")))
    proposed = next_event(engine, lambda e: isinstance(e, PlanProposed))
    await run(engine, Send(text="add a greeting"))
    asked = await asyncio.wait_for(proposed, 30)
    assert isinstance(asked, PlanProposed) and asked.plan == PLAN
    assert engine.view.policy.mode == "plan"
    assert engine.view.roster.get("primary").state == "awaiting_approval"
    assert list(engine.view.pending.plans) == [asked.request_id]
    await run(engine, DecidePlan(request_id=asked.request_id, approve=True, mode="acceptEdits"))
    await engine.settled()
    modes = [e.mode for e in engine.events if isinstance(e, ModeChanged)]
    assert modes == ["plan", "acceptEdits"]
    results = [e for e in engine.events if isinstance(e, ToolResult)]
    assert results[0].content.startswith("Entered plan mode.")
    assert results[1].is_error and "Plan mode forbids changing files (Write)" in results[1].content
    assert results[2].content.startswith("The user approved your plan; the session is now in acceptEdits mode.")
    assert not engine.view.pending.plans
    again = await engine.submit(DecidePlan(request_id=asked.request_id, approve=True))
    assert not again.ok and "is not waiting for an answer" in again.message
    await engine.close()


async def test_a_plan_sent_back_keeps_plan_mode_and_carries_the_feedback(tmp_path: Path) -> None:
    engine = await open_engine(tmp_path, ScriptedBrain(script(tmp_path, "Revising.")))
    proposed = next_event(engine, lambda e: isinstance(e, PlanProposed))
    await run(engine, Send(text="add a greeting"))
    asked = await asyncio.wait_for(proposed, 30)
    await run(engine, DecidePlan(request_id=asked.request_id, approve=False, feedback="test first"))
    await engine.settled()
    assert engine.view.policy.mode == "plan"
    decided = next(e for e in engine.events if isinstance(e, PlanDecided))
    assert (decided.approved, decided.feedback, decided.mode) == (False, "test first", None)
    result = [e for e in engine.events if isinstance(e, ToolResult)][-1]
    assert result.is_error and result.content.endswith('The user says: "test first"')
    await engine.close()


async def test_a_resumed_session_waits_on_the_same_plan(tmp_path: Path) -> None:
    engine = await open_engine(tmp_path, ScriptedBrain(script(tmp_path, "Carrying it out.")))
    proposed = next_event(engine, lambda e: isinstance(e, PlanProposed))
    await run(engine, Send(text="add a greeting"))
    asked = await asyncio.wait_for(proposed, 30)
    await engine.close()
    config = Config(bundles=tmp_path / "bundles", fsync="never")
    (tmp_path / "after.yaml").write_text(yaml.safe_dump(["Done."]))
    resumed = await Engine.resume(config, tmp_path / "ws", ScriptedBrain(tmp_path / "after.yaml"), engine.session.id)
    assert list(resumed.view.pending.plans) == [asked.request_id]

    async def waiting_again() -> None:  # the resumed call waits on the request the log left open
        while not resumed.requests.waiting:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(waiting_again(), 30)
    await run(resumed, DecidePlan(request_id=asked.request_id, approve=True))
    await resumed.settled()
    assert resumed.view.policy.mode == "default"
    assert sum(isinstance(e, PlanProposed) for e in resumed.events) == 1  # not asked twice
    await resumed.close()


async def test_a_headless_run_never_waits_on_a_plan_nobody_can_see(tmp_path: Path) -> None:
    import io

    from workbench.frontends.cli.terminal import TerminalApprover, TerminalAsker, TerminalDesk

    for yes, expected in ((False, False), (True, True)):
        engine = await open_engine(tmp_path, ScriptedBrain(script(tmp_path, "Done.", "Done.")))
        quiet = io.StringIO()
        desk = TerminalDesk(
            engine.submit, TerminalApprover(yes, io.StringIO(), quiet), TerminalAsker(io.StringIO(), quiet)
        )
        engine.subscribe(desk.hear)
        decided = next_event(engine, lambda e: isinstance(e, PlanDecided))
        await run(engine, Send(text="add a greeting"))
        verdict = await asyncio.wait_for(decided, 30)
        assert isinstance(verdict, PlanDecided) and verdict.approved is expected
        if not expected:
            assert "--yes" in verdict.feedback
        await engine.close()
