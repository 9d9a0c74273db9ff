"""Task: hand a sub-task to a delegated agent with a fresh context; only its summary returns."""

from __future__ import annotations

from pydantic import BaseModel, Field

from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput


class TaskInput(BaseModel):
    description: str = Field(description="A short (3-5 word) description of the task")
    prompt: str = Field(description="The task for the sub-agent, with everything it needs to know")
    subagent_type: str | None = Field(default=None, description="The kind of agent to use, if any")


class Task(Tool[TaskInput]):
    name = "Task"
    description = (
        "Delegate a sub-task to a new agent with a fresh context. It works on its own with the "
        "same tools and returns only a short summary of its result. Use it for work that needs "
        "a lot of reading or searching, so your own context stays small."
    )
    Input = TaskInput
    kind = "agent"

    def subject(self, params: TaskInput) -> str:
        return params.description

    async def run(self, params: TaskInput, ctx: ToolContext) -> ToolOutput:
        if ctx.delegate is None:
            raise ToolFailure("Delegation is not available to this agent.")
        return await ctx.delegate(params.description, params.prompt, params.subagent_type)
