"""What an agent asks a person, and the shapes the model's own tools give it (Claude Code's).

``AskQuestion`` is the input of AskUserQuestion and the body of a ``question_asked``
event; ``TodoItem`` is one entry of TodoWrite's list, which the panes show.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ApprovalChoice = Literal["allow_once", "allow_always", "deny"]
TodoStatus = Literal["pending", "in_progress", "completed"]


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


class TodoItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    content: str = Field(min_length=1, description="What to do, in the imperative: 'Run the tests'")
    status: TodoStatus
    activeForm: str = Field(min_length=1, description="The same, as shown while it is done: 'Running the tests'")
