"""AskUserQuestion: the agent asks the user multiple-choice questions, in Claude Code's shape.

Whoever can answer puts an :data:`AskUser` callback in ``ToolContext.extras``
under :data:`ASK_USER` (the engine asks through the session's log, and the
screens answer). Without one the tool says so to the model.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workbench.protocol.interaction import AskQuestion
from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput

ASK_USER = "ask_user"  # the key of the callback in ToolContext.extras
NO_ONE_TO_ASK = (
    "No one can answer questions here (no user is attached to this agent). "
    "Decide on your own, and say in your reply what you assumed."
)
DECLINED = "The user dismissed the questions without answering. Do not ask again; ask in plain text if you must."


class AskUserQuestionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[AskQuestion] = Field(min_length=1, max_length=4, description="The questions, 1 to 4")

    @model_validator(mode="after")
    def _questions_unique(self) -> AskUserQuestionInput:
        texts = [q.question for q in self.questions]
        if len(set(texts)) != len(texts):
            raise ValueError("questions must be unique")
        return self


class AskUserRequest(BaseModel):
    agent_id: str
    questions: list[AskQuestion]


class AskUserAnswer(BaseModel):
    """question → the labels chosen (or the user's own words); empty when the user dismissed the questions."""

    answers: dict[str, list[str]] = Field(default_factory=dict)


AskUser = Callable[[AskUserRequest], Awaitable[AskUserAnswer]]


class AskUserQuestion(Tool[AskUserQuestionInput]):
    name = "AskUserQuestion"
    description = (
        "Ask the user 1-4 multiple-choice questions when you need their decision to go on: "
        "preferences, ambiguous requirements, a choice between approaches. Each question has "
        "2-4 options; the user may also answer in their own words. Use multiSelect when the "
        "choices are not exclusive."
    )
    Input = AskUserQuestionInput
    kind = "interaction"

    async def run(self, params: AskUserQuestionInput, ctx: ToolContext) -> ToolOutput:
        ask: AskUser | None = ctx.extras.get(ASK_USER)
        if ask is None:
            raise ToolFailure(NO_ONE_TO_ASK)
        answer = await ask(AskUserRequest(agent_id=ctx.agent_id, questions=params.questions))
        if not any(answer.answers.values()):
            return ToolOutput(content=DECLINED, is_error=True)
        pairs = ", ".join(
            f'"{q.question}"="{", ".join(answer.answers.get(q.question, [])) or "(no answer)"}"'
            for q in params.questions
        )
        return ToolOutput(
            content=f"User has answered your questions: {pairs}. You can now continue with the user's answers in mind."
        )
