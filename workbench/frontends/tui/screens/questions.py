"""An agent's multiple-choice questions (its AskUserQuestion tool): pick, or answer in your own words."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, SelectionList, Static

from workbench.frontends.tui.actions import bindings, shown_key
from workbench.protocol.commands import Answer
from workbench.protocol.events import QuestionAsked
from workbench.protocol.interaction import AskQuestion


def option_label(option_label: str, description: str) -> Content:
    return Content.assemble((option_label, "bold"), (f"  {description}", "$foreground-muted"))


class QuestionBlock(Vertical):
    """One question: its options as radio buttons (or a checklist when several may be chosen) and a free answer."""

    def __init__(self, question: AskQuestion) -> None:
        super().__init__(classes="question")
        self.question = question

    def compose(self) -> ComposeResult:
        question = self.question
        yield Label(Content.assemble((question.header, "bold $accent"), "  ", question.question))
        if question.multiSelect:
            yield SelectionList[str](
                *((option_label(o.label, o.description), o.label) for o in question.options), compact=True
            )
        else:
            with RadioSet(compact=True):
                for option in question.options:
                    yield RadioButton(option_label(option.label, option.description))
        yield Input(placeholder="or answer in your own words", compact=True)

    @property
    def answer(self) -> list[str]:
        own = self.query_one(Input).value.strip()
        if own:
            return [own]
        if self.question.multiSelect:
            return list(self.query_one(SelectionList).selected)
        pressed = self.query_one(RadioSet).pressed_index
        return [self.question.options[pressed].label] if pressed >= 0 else []


class QuestionsScreen(ModalScreen[Answer]):
    CSS_PATH = "questions.tcss"
    BINDINGS = bindings("questions")

    def __init__(self, request: QuestionAsked, waiting: Callable[[], int]) -> None:
        super().__init__()
        self.request = request
        self.waiting = waiting

    def compose(self) -> ComposeResult:
        with Vertical(id="questions"):
            yield Label(Content.assemble((self.request.agent, "bold $accent"), " asks"), id="questions-title")
            with VerticalScroll(id="questions-body"):
                for question in self.request.questions:
                    yield QuestionBlock(question)
            with Horizontal(id="questions-buttons"):
                keys = self.app.config.keys  # type: ignore[attr-defined]
                yield Button(f"Answer  {shown_key('answer', keys)}", id="answer", variant="primary")
                yield Button(f"Dismiss  {shown_key('dismiss_questions', keys)}", id="dismiss")
            yield Static(id="questions-queue")

    def on_mount(self) -> None:
        self.query_one("#questions", Vertical).border_title = "Question"
        waiting = self.waiting()
        queue = self.query_one("#questions-queue", Static)
        queue.update(f"{waiting} more waiting" if waiting else "")
        queue.display = bool(waiting)
        self.query_one(QuestionBlock).query_one("RadioSet, SelectionList").focus()

    @on(Button.Pressed, "#answer")
    def action_answer(self) -> None:
        answers = {block.question.question: block.answer for block in self.query(QuestionBlock)}
        self.dismiss(
            Answer(
                request_id=self.request.request_id,
                answers={question: chosen for question, chosen in answers.items() if chosen},
            )
        )

    @on(Button.Pressed, "#dismiss")
    def action_dismiss_questions(self) -> None:
        self.dismiss(Answer(request_id=self.request.request_id))
