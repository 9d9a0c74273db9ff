"""Checkpoints of a primer, the agent's todo list and its thinking, in the agents pane and the conversation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

from tests.tui.helpers import engine_of
from workbench.brains.scripted import ScriptedBrain
from workbench.frontends.tui.widgets.agents_pane import AgentsPane, AgentTree
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.todo_checklist import TodoChecklist
from workbench.frontends.tui.widgets.tool_block import ToolBlock
from workbench.frontends.tui.widgets.transcript_blocks import Marker, ThinkingBlock
from workbench.protocol.content import ThinkingBlock as ThinkingContent
from workbench.protocol.events import AssistantMessage

from .brains import ThinkingBrain
from .helpers import engine_ready, settle, type_and_send, until

WIDE = (160, 48)
FIX_PRIMER = """---
description: Fix a bug, one checkpoint at a time
argument-hint: <the bug>
checkpoints: reproduce → diagnose → fix → validate
---
Fix this bug: $ARGUMENTS
"""
CHECKPOINT_SCRIPT = """
- "Checkpoint: reproduce\\n\\nThe failure shows on every run."
- "Checkpoint: diagnose\\n\\nThe parser drops the last line."
"""


def todo(content: str, status: str, active: str) -> str:
    return f"{{content: {content}, status: {status}, activeForm: {active}}}"


def todo_turn(text: str, *items: str) -> str:
    return f"- text: {text}\n  tool_use:\n    name: TodoWrite\n    input: {{todos: [{', '.join(items)}]}}\n"


TODO_SCRIPT = (
    todo_turn(
        "Planning the work.",
        todo("Read the failing test", "in_progress", "Reading the failing test"),
        todo("Fix the parser", "pending", "Fixing the parser"),
        todo("Run the tests", "pending", "Running the tests"),
    )
    + "- Planned.\n"
    + todo_turn(
        "On to the fix.",
        todo("Read the failing test", "completed", "Reading the failing test"),
        todo("Fix the parser", "in_progress", "Fixing the parser"),
        todo("Run the tests", "pending", "Running the tests"),
    )
    + "- Fixing it now.\n"
)
THOUGHT = "The user asks what I can do. I should list the rules I follow."


def markers(app: Any) -> list[str]:
    return [str(marker.visual) for marker in app.query_one(Conversation).query(Marker)]


def detail(app: Any) -> str:
    return str(app.query_one("#agent-detail", Static).visual)


def scripted(tmp_path: Path, script: str) -> ScriptedBrain:
    path = tmp_path / "script.yaml"
    path.write_text(script)
    return ScriptedBrain(script=path)


async def todos_written_twice(pilot: Pilot[Any]) -> None:
    await engine_ready(pilot)
    await type_and_send(pilot, "plan the fix")
    await settle(pilot)
    await type_and_send(pilot, "go on")
    await settle(pilot)


# ---------------------------------------------------------------- checkpoints


async def test_checkpoints_show_in_the_agents_pane_and_as_markers(make_app, workspace: Path, tmp_path: Path) -> None:
    primers = workspace / ".workbench" / "primers"
    primers.mkdir(parents=True)
    (primers / "fix.md").write_text(FIX_PRIMER)
    async with make_app(brain=scripted(tmp_path, CHECKPOINT_SCRIPT)).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "/prime-fix the parser drops lines")
        await settle(pilot)
        assert "⚑ checkpoints: reproduce → diagnose → fix → validate" in markers(app)
        assert markers(app)[-1] == "⚑ checkpoint 1/4 · reproduce"
        assert "checkpoint ◐○○○ 1/4 reproduce" in detail(app)

        await type_and_send(pilot, "go on")
        await settle(pilot)
        assert markers(app)[-1] == "⚑ checkpoint 2/4 · diagnose"
        assert "checkpoint ✓◐○○ 2/4 diagnose" in detail(app)

        # rebuilt from the log, the conversation shows the same markers
        before = markers(app)
        app.main_screen._present("primary")
        await settle(pilot)
        assert markers(app) == before


# ---------------------------------------------------------------- todos


async def test_the_todo_list_shows_under_the_agent_and_updates_one_checklist(make_app, tmp_path: Path) -> None:
    async with make_app(brain=scripted(tmp_path, TODO_SCRIPT)).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "plan the fix")
        await settle(pilot)
        conversation = app.query_one(Conversation)
        (checklist,) = conversation.query(TodoChecklist)
        assert [item.status for item in checklist.todos] == ["in_progress", "pending", "pending"]
        assert not [b for b in conversation.query(ToolBlock) if b.tool_name == "TodoWrite"]
        pane = app.query_one(AgentsPane)
        under = [pane.todo_items[node.id] for node in pane.nodes["primary"].children if node.id in pane.todo_items]
        assert [item.content for item in under] == ["Read the failing test", "Fix the parser", "Run the tests"]
        assert "todos 0/3 · ◐ Reading the failing test" in detail(app)

        await type_and_send(pilot, "go on")
        await settle(pilot)
        assert conversation.query(TodoChecklist).nodes == [checklist]  # the same block, updated in place
        text = str(checklist.visual)
        assert text.splitlines() == [
            "☑ todos · 1/3 done",
            "  ✓ Read the failing test",
            "  ◐ Fixing the parser",
            "  ○ Run the tests",
        ]
        under = [pane.todo_items[node.id] for node in pane.nodes["primary"].children if node.id in pane.todo_items]
        assert [item.status for item in under] == ["completed", "in_progress", "pending"]
        assert "todos 1/3 · ◐ Fixing the parser" in detail(app)
        tree = app.query_one(AgentTree)
        assert tree.virtual_size.height == 4  # the primary and its three items

        # a rebuilt conversation has one checklist, with the latest list
        app.main_screen._present("primary")
        await settle(pilot)
        (rebuilt,) = app.query_one(Conversation).query(TodoChecklist)
        assert str(rebuilt.visual) == text


# ---------------------------------------------------------------- thinking


async def test_thinking_streams_into_a_folded_block_and_stays_folded_from_the_log(make_app) -> None:
    brain = ThinkingBrain(THOUGHT, delay_s=0)
    async with make_app(brain=brain).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "what can you do?")
        await until(pilot, brain.thinking.is_set)
        await until(pilot, lambda: len(app.query_one(Conversation).query(ThinkingBlock)) == 1)
        (block,) = app.query_one(Conversation).query(ThinkingBlock)
        assert block.collapsed and str(block.title) == "thinking…"
        assert THOUGHT in str(block.query_one(".thinking-text", Static).visual)

        brain.release.set()
        await settle(pilot)
        assert app.query_one(Conversation).query(ThinkingBlock).nodes == [block]
        assert block.collapsed and str(block.title) == f"thought · {len(THOUGHT.split())} words"
        reply = next(e for e in engine_of(app).events if isinstance(e, AssistantMessage))
        assert reply.content[0] == ThinkingContent(thinking=THOUGHT)

        app.main_screen._present("primary")  # rebuilt from the logged thinking block
        await settle(pilot)
        (logged,) = app.query_one(Conversation).query(ThinkingBlock)
        assert (
            logged is not block and logged.collapsed and str(logged.title) == f"thought · {len(THOUGHT.split())} words"
        )


# ---------------------------------------------------------------- snapshots


def test_snapshot_a_todo_checklist(snap_compare, make_app, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await todos_written_twice(pilot)
        pilot.app.clear_notifications()
        await pilot.pause(0.2)

    assert snap_compare(make_app(brain=scripted(tmp_path, TODO_SCRIPT)), terminal_size=WIDE, run_before=run_before)
