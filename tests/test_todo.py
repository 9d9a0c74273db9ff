"""TodoWrite: the tool confirms, and the todo list is a pure function of the log."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.engine_driver import ask
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.context.fold import fold
from workbench.engine.engine import Engine
from workbench.log.bundle import BundleStore
from workbench.protocol.events import Remounted, ToolCall, ToolResult
from workbench.tools.base import ToolContext
from workbench.tools.registry import ToolRegistry
from workbench.tools.todo import CONFIRMATION, TodoItem, TodoWrite, TodoWriteInput, todos_of

PLAN = [
    {"content": "Read the failing test", "status": "completed", "activeForm": "Reading the failing test"},
    {"content": "Fix the parser", "status": "in_progress", "activeForm": "Fixing the parser"},
    {"content": "Run the tests", "status": "pending", "activeForm": "Running the tests"},
]
DONE = [{**item, "status": "completed"} for item in PLAN]


def call(tool_use_id: str, todos: list[dict], agent: str = "primary") -> ToolCall:
    return ToolCall(tool_use_id=tool_use_id, name="TodoWrite", input={"todos": todos}, agent=agent)


def result(tool_use_id: str, is_error: bool = False, agent: str = "primary") -> ToolResult:
    return ToolResult(tool_use_id=tool_use_id, name="TodoWrite", content="ok", is_error=is_error, agent=agent)


async def test_the_tool_confirms_with_a_tally(tmp_path: Path) -> None:
    out = await TodoWrite().run(TodoWriteInput.model_validate({"todos": PLAN}), ToolContext(workspace=tmp_path))
    assert not out.is_error
    assert out.content == f"{CONFIRMATION}\n(1 completed, 1 in progress, 1 pending)"


def test_the_input_is_claude_codes_shape_and_is_checked() -> None:
    registry = ToolRegistry([TodoWrite()])
    schema = TodoWrite().spec().input_schema
    item = schema["$defs"]["TodoItem"]
    assert set(item["properties"]) == {"content", "status", "activeForm"}
    assert item["properties"]["status"]["enum"] == ["pending", "in_progress", "completed"]
    with pytest.raises(Exception, match="status"):
        registry.validate("TodoWrite", {"todos": [{**PLAN[0], "status": "doing"}]})


def test_todos_are_the_latest_successful_call_of_that_agent() -> None:
    events = [
        call("t1", PLAN),
        result("t1"),
        call("c1", [PLAN[0]], agent="child"),
        result("c1", agent="child"),
        call("t2", [{"content": "x", "status": "bogus"}]),
        result("t2", is_error=True),  # refused: no change
        call("t3", DONE),  # no result yet (interrupted, or still running): no change
    ]
    assert todos_of(events, "primary") == [TodoItem.model_validate(item) for item in PLAN]
    assert todos_of(events, "child") == [TodoItem.model_validate(PLAN[0])]
    assert todos_of(events + [result("t3")], "primary")[1].status == "completed"
    assert todos_of([], "primary") == []


def test_a_remounted_agent_keeps_the_source_list() -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "plan it"}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "TodoWrite", "input": {"todos": PLAN}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]},
    ]
    remounted = Remounted(source_session="s", up_to_seq=9, messages=messages, agent="primary")
    assert [t.content for t in todos_of([remounted], "primary")] == [item["content"] for item in PLAN]
    assert todos_of([remounted, call("t2", DONE), result("t2")], "primary")[0].status == "completed"


async def test_an_agent_turn_keeps_its_list_in_the_bundle(tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"
    script.write_text(
        yaml.safe_dump(
            [
                {"tool_use": {"name": "TodoWrite", "input": {"todos": PLAN}}},
                {"tool_use": {"name": "TodoWrite", "input": {"todos": DONE}}},
                "all done",
            ]
        )
    )
    bench = await Engine.open(Config(bundles=tmp_path / "bundles", fsync="never"), tmp_path, ScriptedBrain(script))
    assert await ask(bench, "plan and do it") == "all done"
    await bench.close()
    events = (await BundleStore(tmp_path / "bundles").read(bench.session.id)).events
    assert [t.status for t in todos_of(events, "primary")] == ["completed"] * 3
    first_result = next(e.seq for e in events if isinstance(e, ToolResult))
    assert todos_of([e for e in events if e.seq <= first_result], "primary")[1].status == "in_progress"
    assert fold(events).messages[-2]["content"][0]["content"].startswith(CONFIRMATION)
