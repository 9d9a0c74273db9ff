"""Skill: the model loads a skill's instructions when its description matches the task (Claude Code's tool).

The tool's description lists the skills the model may load — names and
descriptions only, a few tokens each; the body comes into the context only
when the model calls the tool. The engine resolves it and logs it as a
``primed`` event (see ``workbench.engine.priming.skills``), reached through
the :data:`LOAD_SKILL` callback in ``ToolContext.extras``.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable

from pydantic import BaseModel, ConfigDict, Field

from workbench.protocol.brain_io import ToolSpec
from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput, input_schema

LOAD_SKILL = "load_skill"  # the key of the loader in ToolContext.extras: (name, args) -> tokens loaded
LoadSkill = Callable[[str, str], Awaitable[int]]
DESCRIPTION = (
    "Load a skill: instructions (and files they point to) for a kind of task. When a task matches a skill's "
    "description below, load that skill before you start, then follow what it says. Only the skills listed "
    "exist."
)


class SkillInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skill: str = Field(description="The skill's name, as listed")
    args: str | None = Field(default=None, description="Arguments for the skill, if it takes any")


class Skill(Tool[SkillInput]):
    name = "Skill"
    description = DESCRIPTION
    Input = SkillInput
    kind = "read"

    def __init__(self, listing: list[tuple[str, str]]) -> None:
        self.listing = listing  # (name, description) of the skills the model may load
        lines = "\n".join(f"- {name}: {about}" for name, about in listing)
        schema = copy.deepcopy(input_schema(SkillInput))
        self._spec = ToolSpec(
            name=self.name, description=f"{DESCRIPTION}\n\n<available_skills>\n{lines}\n</available_skills>",
            input_schema=schema,
        )  # fmt: skip

    def spec(self) -> ToolSpec:
        return self._spec

    def subject(self, params: SkillInput) -> str:
        return f"{params.skill} {params.args}".strip() if params.args else params.skill

    async def run(self, params: SkillInput, ctx: ToolContext) -> ToolOutput:
        load: LoadSkill | None = ctx.extras.get(LOAD_SKILL)
        if load is None:
            raise ToolFailure("Skills are not available to this agent")
        tokens = await load(params.skill, params.args or "")
        return ToolOutput(
            content=f"Loaded the skill {params.skill} ({tokens:,} tokens): its instructions follow. Follow them."
        )
