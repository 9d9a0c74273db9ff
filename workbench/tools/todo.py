"""TodoWrite: the agent keeps a todo list, in Claude Code's shape.

The list lives in the log, nowhere else: :func:`todos_of` reads it back from
the latest TodoWrite call that succeeded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workbench.protocol.events import Event, Remounted, ToolCall, ToolResult
from workbench.protocol.interaction import TodoItem
from workbench.tools.base import Tool, ToolContext, ToolOutput

CONFIRMATION = (
    "Todos have been modified successfully. Ensure that you continue to use the todo list to track "
    "your progress. Please proceed with the current tasks if applicable."
)


class TodoWriteInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    todos: list[TodoItem] = Field(description="The whole updated todo list")


class TodoWrite(Tool[TodoWriteInput]):
    name = "TodoWrite"
    description = (
        "Create and update a structured todo list for the current task, to plan multi-step work and "
        "show progress. Send the whole list each time. Keep exactly one item in_progress while working, "
        "and mark an item completed as soon as it is done. Skip it for trivial, single-step tasks."
    )
    Input = TodoWriteInput
    kind = "interaction"

    async def run(self, params: TodoWriteInput, ctx: ToolContext) -> ToolOutput:
        counts = Counter(item.status for item in params.todos)
        tally = ", ".join(
            f"{counts[s]} {s.replace('_', ' ')}" for s in ("completed", "in_progress", "pending") if counts[s]
        )
        return ToolOutput(content=f"{CONFIRMATION}\n({tally or 'the list is empty'})")


def todos_of(events: Iterable[Event], agent: str) -> list[TodoItem]:
    """The agent's todo list after ``events``: the input of its latest TodoWrite call that succeeded."""
    calls: dict[str, dict[str, Any]] = {}
    todos: list[TodoItem] = []
    for event in events:
        if event.agent != agent:
            continue
        if isinstance(event, ToolCall) and event.name == TodoWrite.name:
            calls[event.tool_use_id] = event.input
        elif isinstance(event, ToolResult) and event.tool_use_id in calls and not event.is_error:
            todos = _parsed(calls.pop(event.tool_use_id), todos)
        elif isinstance(event, Remounted):
            todos = _remounted(event.messages, todos)
    return todos


def _remounted(messages: list[dict[str, Any]], todos: list[TodoItem]) -> list[TodoItem]:
    """A remounted agent keeps the list of the source, read from the folded messages it carries."""
    calls: dict[str, dict[str, Any]] = {}
    for message in messages:
        content = message.get("content")
        for block in content if isinstance(content, list) else []:
            if block.get("type") == "tool_use" and block.get("name") == TodoWrite.name:
                calls[block.get("id", "")] = block.get("input", {})
            elif block.get("type") == "tool_result" and block.get("tool_use_id") in calls and not block.get("is_error"):
                todos = _parsed(calls.pop(block["tool_use_id"]), todos)
    return todos


def _parsed(raw: dict[str, Any], current: list[TodoItem]) -> list[TodoItem]:
    try:
        return TodoWriteInput.model_validate(raw).todos
    except ValidationError:  # a result that succeeded had valid input; an edited log may not
        return current
