"""What the screen looks like at several moments of a session, in each theme and at 100x30.

Review a changed snapshot as a picture before accepting it (``--snapshot-update``):
``rsvg-convert tests/tui/__snapshots__/.../x.svg -o x.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.helpers import engine_of
from workbench.brains.scripted import ScriptedBrain
from workbench.frontends.tui.screens.approval import ApprovalScreen
from workbench.frontends.tui.widgets.log_pane import LogTable
from workbench.frontends.tui.widgets.prompt import PromptArea
from workbench.frontends.tui.widgets.tool_block import ToolBlock

from .brains import HeldBrain
from .helpers import engine_ready, settle, type_and_send, until
from .test_permission_modal import WRITE_SCRIPT

WIDE = (160, 48)
TALL = (160, 64)
SMALL = (100, 30)


async def a_working_session(pilot) -> None:
    """A read, a command the user allowed, and a background agent that finished."""
    app = await engine_ready(pilot)
    await type_and_send(pilot, "read README.md")
    await settle(pilot)
    await type_and_send(pilot, "run `ls`")
    await until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
    await pilot.press("y")
    await settle(pilot)
    await type_and_send(pilot, "/background list python files")
    await until(pilot, lambda: "agent-1" in engine_of(app).supervisor.agents)
    await settle(pilot)
    # its completion is announced a moment later (finished agents are announced in batches)
    await until(pilot, lambda: any(n.title == "agent-1 done" for n in app._notifications))
    app.clear_notifications()
    await pilot.pause()


def test_empty_start(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=WIDE, run_before=engine_ready)


def test_empty_start_at_100x30(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=engine_ready)


def test_mid_stream(snap_compare, make_app) -> None:
    brain = HeldBrain(hold_after=24, delay_s=0)

    async def run_before(pilot) -> None:
        await engine_ready(pilot)
        await type_and_send(pilot, "what can you do?")
        await until(pilot, brain.holding.is_set)
        await pilot.pause(0.2)

    assert snap_compare(make_app(brain=brain), terminal_size=WIDE, run_before=run_before)


def test_tool_call_expanded(snap_compare, make_app) -> None:
    async def run_before(pilot) -> None:
        await engine_ready(pilot)
        await type_and_send(pilot, "read README.md")
        await settle(pilot)
        pilot.app.animation_level = "none"  # expanding scrolls the block into view: at once, not over time
        pilot.app.query_one(ToolBlock).collapsed = False
        pilot.app.query_one(PromptArea).focus()
        await settle(pilot)
        log, events = pilot.app.query_one(LogTable), engine_of(pilot.app).events
        await until(pilot, lambda: log.row_count == len(events))

    # tall enough for the whole log: a scrollbar's thumb is drawn a frame late now and then
    assert snap_compare(make_app(), terminal_size=TALL, run_before=run_before)


def test_permission_modal_with_a_diff(snap_compare, make_app, tmp_path: Path) -> None:
    script = tmp_path / "write.yaml"
    script.write_text(WRITE_SCRIPT)

    async def run_before(pilot) -> None:
        await engine_ready(pilot)
        await type_and_send(pilot, "write the notes")
        await until(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen))
        await pilot.pause(0.2)

    assert snap_compare(make_app(brain=ScriptedBrain(script=script)), terminal_size=WIDE, run_before=run_before)


@pytest.mark.parametrize("theme", ["workbench-dark", "workbench-light", "workbench-high-contrast"])
def test_each_theme(snap_compare, make_app, theme: str) -> None:
    assert snap_compare(make_app(theme=theme), terminal_size=WIDE, run_before=a_working_session)


def test_a_working_session_at_100x30(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=SMALL, run_before=a_working_session)


def test_help_screen(snap_compare, make_app) -> None:
    async def run_before(pilot) -> None:
        await engine_ready(pilot)
        await pilot.press("f1")
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


def test_an_agents_questions(snap_compare, make_app, tmp_path: Path) -> None:
    from workbench.frontends.tui.screens.questions import QuestionsScreen

    from .test_engine_actions import QUESTION_SCRIPT

    script = tmp_path / "ask.yaml"
    script.write_text(QUESTION_SCRIPT)

    async def run_before(pilot) -> None:
        await engine_ready(pilot)
        await type_and_send(pilot, "set up the storage")
        await until(pilot, lambda: isinstance(pilot.app.screen, QuestionsScreen))
        await pilot.pause(0.2)

    assert snap_compare(make_app(brain=ScriptedBrain(script=script)), terminal_size=WIDE, run_before=run_before)
