"""Task: hand a sub-task to a delegated agent with a fresh context; only its summary returns.

The agent types that exist (Claude Code's built-in ``general-purpose``, ``Explore``
and ``Plan``, and those of the workspace's agent files) are given when the tool is
made, and its schema lists them, as Claude Code's own Task tool does.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, Field

from workbench.protocol.brain_io import ToolSpec
from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput, input_schema

DESCRIPTION = (
    "Delegate a sub-task to a new agent with a fresh context. It works on its own with the "
    "same tools and returns only a short summary of its result. Use it for work that needs "
    "a lot of reading or searching, so your own context stays small."
)


class TaskInput(BaseModel):
    description: str = Field(description="A short (3-5 word) description of the task")
    prompt: str = Field(description="The task for the sub-agent, with everything it needs to know")
    subagent_type: str | None = Field(default=None, description="The kind of agent to use, if any")


class Task(Tool[TaskInput]):
    name = "Task"
    description = DESCRIPTION
    Input = TaskInput
    kind = "agent"

    def __init__(self, agent_types: list[tuple[str, str]] | None = None) -> None:
        self.agent_types = agent_types or []  # (name, what it is for), in lookup order
        self._spec = self._listing_spec() if self.agent_types else super().spec()

    def spec(self) -> ToolSpec:
        return self._spec

    def _listing_spec(self) -> ToolSpec:
        schema: dict[str, Any] = copy.deepcopy(input_schema(TaskInput))
        names = [name for name, _ in self.agent_types]
        field = schema["properties"]["subagent_type"]
        field.pop("anyOf", None)
        field.pop("default", None)
        field.update(type="string", enum=names)
        field["description"] = "The type of agent to use (general-purpose when none fits better)"
        listing = "\n".join(f"- {name}: {about}" for name, about in self.agent_types)
        text = f"{DESCRIPTION}\n\nAvailable agent types (subagent_type):\n{listing}"
        return ToolSpec(name=self.name, description=text, input_schema=schema)

    def subject(self, params: TaskInput) -> str:
        return params.description

    async def run(self, params: TaskInput, ctx: ToolContext) -> ToolOutput:
        if ctx.delegate is None:
            raise ToolFailure("Delegation is not available to this agent.")
        return await ctx.delegate(params.description, params.prompt, params.subagent_type)
