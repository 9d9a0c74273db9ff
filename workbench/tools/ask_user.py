"""AskUserQuestion: the agent asks the user multiple-choice questions, in Claude Code's shape.

Whoever can answer puts an :data:`AskUser` callback in ``ToolContext.extras``
under :data:`ASK_USER`: the TUI shows a modal, a headless run asks on the
terminal (:class:`TerminalAsker`). Without one the tool says so to the model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TextIO

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput

ASK_USER = "ask_user"  # the key of the callback in ToolContext.extras
NO_ONE_TO_ASK = (
    "No one can answer questions here (no user is attached to this agent). "
    "Decide on your own, and say in your reply what you assumed."
)
DECLINED = "The user dismissed the questions without answering. Do not ask again; ask in plain text if you must."


class AskOption(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1, description="The choice as shown, in 1-5 words")
    description: str = Field(description="What choosing it means")


class AskQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    question: str = Field(min_length=1, description="The full question, ending with a question mark")
    header: str = Field(min_length=1, max_length=12, description="A very short label for it, e.g. 'Auth method'")
    options: list[AskOption] = Field(
        min_length=2, max_length=4, description="The choices (the user may also type their own)"
    )
    multiSelect: bool = Field(default=False, description="Whether several options may be chosen")

    @model_validator(mode="after")
    def _labels_unique(self) -> AskQuestion:
        labels = [option.label for option in self.options]
        if len(set(labels)) != len(labels):
            raise ValueError("option labels must be unique within a question")
        return self


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


class TerminalAsker:
    """Asks on a terminal (or whatever feeds stdin): numbers pick options, other text is the answer itself."""

    def __init__(self, stdin: TextIO, out: TextIO) -> None:
        self.stdin = stdin
        self.out = out

    async def __call__(self, request: AskUserRequest) -> AskUserAnswer:
        answers: dict[str, list[str]] = {}
        for question in request.questions:
            print(f"\n[{question.header}] {question.question}", file=self.out)
            for number, option in enumerate(question.options, start=1):
                print(f"  {number}. {option.label} — {option.description}", file=self.out)
            how = "numbers, separated by commas" if question.multiSelect else "a number"
            print(f"Answer with {how}, or type your own answer: ", end="", file=self.out, flush=True)
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:  # end of input: nothing more can be answered
                break
            chosen = _chosen(line.strip(), question)
            if chosen:
                answers[question.question] = chosen
        return AskUserAnswer(answers=answers)


def _chosen(reply: str, question: AskQuestion) -> list[str]:
    parts = [part.strip() for part in reply.split(",")] if question.multiSelect else [reply]
    if parts and all(part.isdigit() and 1 <= int(part) <= len(question.options) for part in parts):
        return [question.options[int(part) - 1].label for part in parts]
    return [reply] if reply else []
