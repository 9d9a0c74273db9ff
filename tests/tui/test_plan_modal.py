"""The plan modal: an agent's ExitPlanMode shows its plan; approve (default or acceptEdits) or keep planning."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.tui.helpers import engine_of
from workbench.brains.scripted import ScriptedBrain
from workbench.frontends.tui.screens.plan import PlanScreen
from workbench.protocol.events import ModeChanged, PlanDecided, ToolResult

from .helpers import engine_ready, settle, type_and_send, until

PLAN = "1. Add `greet()` to app.py\n2. Test it"


def planning_brain(tmp_path: Path, last: str) -> ScriptedBrain:
    path = tmp_path / "plan.yaml"
    turns = [
        {"text": "Planning first.", "tool_use": {"name": "EnterPlanMode", "input": {}}},
        {"text": "Here is my plan.", "tool_use": {"name": "ExitPlanMode", "input": {"plan": PLAN}}},
        last,
    ]
    path.write_text(yaml.safe_dump(turns))
    return ScriptedBrain(path)


async def test_approving_the_plan_goes_on_in_accept_edits_mode(make_app, tmp_path: Path) -> None:
    async with make_app(brain=planning_brain(tmp_path, "Carrying it out.")).run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "add a greeting")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen))
        screen = app.screen
        assert isinstance(screen, PlanScreen) and screen.request.plan == PLAN
        assert "Add greet() to app.py" in str(screen.query_one("#plan-text").source).replace("`", "")
        await pilot.press("a")
        await settle(pilot)
        engine = engine_of(app)
        assert [e.mode for e in engine.events if isinstance(e, ModeChanged)] == ["plan", "acceptEdits"]
        assert app.screen.query_one("SessionHeader").mode == "acceptEdits"
        result = [e for e in engine.events if isinstance(e, ToolResult)][-1]
        assert result.content.startswith("The user approved your plan; the session is now in acceptEdits mode.")


async def test_keeping_planning_sends_the_feedback_and_stays_in_plan_mode(make_app, tmp_path: Path) -> None:
    async with make_app(brain=planning_brain(tmp_path, "Revising.")).run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "add a greeting")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen))
        await pilot.click("#plan-feedback")
        await pilot.press(*"tests first")
        await pilot.press("ctrl+s")
        await settle(pilot)
        engine = engine_of(app)
        decided = next(e for e in engine.events if isinstance(e, PlanDecided))
        assert (decided.approved, decided.feedback) == (False, "tests first")
        assert engine.view.policy.mode == "plan"
        result = [e for e in engine.events if isinstance(e, ToolResult)][-1]
        assert result.is_error and result.content.endswith('The user says: "tests first"')
