"""The permission prompt: allow once, allow always, deny; a diff for Write; prompts queue; others go on."""

from __future__ import annotations

from pathlib import Path

from tests.engine_driver import run
from tests.tui.helpers import engine_of
from workbench.brains.scripted import ScriptedBrain
from workbench.frontends.tui.screens.approval import ApprovalScreen
from workbench.frontends.tui.widgets.agents_pane import AgentsPane
from workbench.log.bundle import BundleStore
from workbench.protocol.commands import Cancel, Send
from workbench.protocol.events import PermissionDecision, ToolResult

from .helpers import engine_ready, settle, type_and_send, until

WRITE_SCRIPT = """
- text: Writing the notes.
  tool_use:
    name: Write
    input: {file_path: NOTES.md, content: "# Notes\\n\\nShip it on Friday.\\n"}
- Done.
"""


async def logged_decisions(app) -> list[PermissionDecision]:
    bench = engine_of(app)
    contents = await BundleStore(bench.session.store.root).read(bench.session.id)
    return [e for e in contents.events if isinstance(e, PermissionDecision)]


def approval(app) -> ApprovalScreen:
    screen = app.screen
    assert isinstance(screen, ApprovalScreen), f"no permission prompt, but {screen!r}"
    return screen


async def test_allowing_once_runs_the_command_and_the_bundle_records_it(make_app) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "run `ls`")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        assert approval(app).request.tool == "Bash"
        assert approval(app).request.subject == "ls"
        await pilot.press("y")
        await settle(pilot)
        (decision,) = await logged_decisions(app)
        assert (decision.decision, decision.source, decision.remember) == ("allow", "user", False)
        result = next(e for e in engine_of(app).events if isinstance(e, ToolResult))
        assert "README.md" in result.content and not result.is_error


async def test_denying_refuses_the_call_and_the_bundle_records_it(make_app) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "run `ls`")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("n")
        await settle(pilot)
        (decision,) = await logged_decisions(app)
        assert (decision.decision, decision.source) == ("deny", "user")
        result = next(e for e in engine_of(app).events if isinstance(e, ToolResult))
        assert result.is_error and "denied" in result.content


async def test_allowing_always_adds_the_suggested_rule_and_stops_asking(make_app) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "run `ls`")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        assert approval(app).request.suggested_rule == "Bash(ls:*)"
        await pilot.press("a")
        await settle(pilot)
        await type_and_send(pilot, "run `ls -a`")
        await settle(pilot)  # would time out if it asked again
        first, second = await logged_decisions(app)
        assert (first.source, first.remember, first.rule) == ("user", True, "Bash(ls:*)")
        assert (second.decision, second.source) == ("allow", "rule")


async def test_a_write_shows_the_diff_it_would_make(make_app, tmp_path: Path, workspace: Path) -> None:
    script = tmp_path / "write.yaml"
    script.write_text(WRITE_SCRIPT)
    async with make_app(brain=ScriptedBrain(script=script)).run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "write the notes")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        diff = str(approval(app).query_one("#approval-diff").visual)
        assert "+++ b/NOTES.md" in diff and "+Ship it on Friday." in diff
        await pilot.press("y")
        await settle(pilot)
        assert (workspace / "NOTES.md").read_text() == "# Notes\n\nShip it on Friday.\n"


async def test_prompts_queue_and_a_waiting_agent_blocks_no_one(make_app) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        # both before the first prompt takes the keyboard
        app.main_screen.run_slash("/background run `ls`")
        app.main_screen.run_slash("/background run `pwd`")
        await until(pilot, lambda: len(app.modals.queue) == 2)
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, ApprovalScreen)
                and "1 more waiting" in str(app.screen.query_one("#approval-queue").visual)
            ),
        )
        screen = approval(app)
        assert screen.request.agent == "agent-1"
        rows = app.query_one(AgentsPane).rows
        assert rows["agent-1"].state == rows["agent-2"].state == "awaiting_approval"

        # the primary answers while both background agents wait
        await run(engine_of(app), Send(text="read README.md"))
        await until(pilot, lambda: bench.primary.answered)

        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen) and app.screen is not screen)
        assert approval(app).request.agent == "agent-2"
        await pilot.press("n")
        await settle(pilot)
        asked = {d.agent: d.decision for d in await logged_decisions(app) if d.source == "user"}
        assert asked == {"agent-1": "allow", "agent-2": "deny"}
        assert rows["agent-1"].state == "done"


async def test_cancelling_a_waiting_agent_takes_its_prompt_away(make_app) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "/background run `ls`")
        await until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await run(engine_of(app), Cancel(agent="agent-1"))
        await until(pilot, lambda: not isinstance(app.screen, ApprovalScreen))
        await settle(pilot)
        assert engine_of(app).supervisor.agents["agent-1"].state == "cancelled"
        assert not app.modals.queue
