"""Plan mode for the model, in Claude Code's shape: EnterPlanMode, and ExitPlanMode with the plan.

In plan mode the session explores read-only (the permission policy refuses
writes and commands). ExitPlanMode shows the plan to the person, who approves
it — the session goes on in default or acceptEdits mode — or sends the agent
back to planning with feedback. The engine does both through its own
machinery (the mode is a logged change, the plan an approval-like request):
tools reach it through the :class:`PlanDesk` in ``ToolContext.extras``.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput

PLAN_DESK = "plan_desk"  # the key of the PlanDesk in ToolContext.extras
ENTERED = (
    "Entered plan mode. Explore the code and design an approach: read, search and ask, but change nothing "
    "(writes and commands are refused). When the plan is ready, present it with ExitPlanMode for approval."
)


class PlanVerdict(BaseModel):
    approved: bool
    mode: str = ""  # the mode the session goes on in, when approved
    feedback: str = ""


class PlanDesk(Protocol):
    @property
    def mode(self) -> str: ...

    async def enter(self) -> None:
        """Put the session in plan mode."""
        ...

    async def propose(self, plan: str) -> PlanVerdict:
        """Show the plan to the person and wait for the verdict (an approval leaves plan mode)."""
        ...


def desk_of(ctx: ToolContext) -> PlanDesk:
    desk = ctx.extras.get(PLAN_DESK)
    if desk is None:
        raise ToolFailure("Plan mode is not available to this agent")
    return desk


class EnterPlanModeInput(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnterPlanMode(Tool[EnterPlanModeInput]):
    name = "EnterPlanMode"
    description = (
        "Switch to plan mode before a complex change: explore the code read-only and design the approach, "
        "then present the plan with ExitPlanMode. Use it when a task needs design decisions or touches many "
        "files; skip it for small, clear changes."
    )
    Input = EnterPlanModeInput
    kind = "interaction"

    async def run(self, params: EnterPlanModeInput, ctx: ToolContext) -> ToolOutput:
        desk = desk_of(ctx)
        if desk.mode == "plan":
            return ToolOutput(content="Already in plan mode. " + ENTERED.split(". ", 1)[1])
        await desk.enter()
        return ToolOutput(content=ENTERED)


class ExitPlanModeInput(BaseModel):
    model_config = ConfigDict(extra="ignore")  # newer Claude Code versions add fields of their own

    plan: str = Field(min_length=1, description="The plan to carry out, in Markdown: concise, step by step")


class ExitPlanMode(Tool[ExitPlanModeInput]):
    name = "ExitPlanMode"
    description = (
        "In plan mode, when the plan is ready: present it to the user for approval. If approved, plan mode "
        "ends and you carry the plan out; if not, you get the user's feedback and keep planning. Only for "
        "tasks that change code, not for research."
    )
    Input = ExitPlanModeInput
    kind = "interaction"

    async def run(self, params: ExitPlanModeInput, ctx: ToolContext) -> ToolOutput:
        desk = desk_of(ctx)
        if desk.mode != "plan":
            raise ToolFailure(f"Not in plan mode (the mode is {desk.mode}): there is no plan to approve; go ahead")
        verdict = await desk.propose(params.plan)
        if verdict.approved:
            return ToolOutput(
                content=f"The user approved your plan; the session is now in {verdict.mode} mode. Carry the plan "
                "out (start by updating your todo list if you keep one)."
            )
        said = f' The user says: "{verdict.feedback}"' if verdict.feedback.strip() else ""
        return ToolOutput(
            content=f"The user did not approve the plan: stay in plan mode and revise it.{said}", is_error=True
        )
