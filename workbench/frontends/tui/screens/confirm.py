"""A yes-or-no question before something that cannot be undone."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from workbench.frontends.tui.actions import bindings, key_hint


class ConfirmScreen(ModalScreen[bool]):
    CSS_PATH = "confirm.tcss"
    BINDINGS = bindings("confirm")

    def __init__(self, title: str, question: Content) -> None:
        super().__init__()
        self.title_text = title
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question, id="confirm-question")
            keys = self.app.config.keys  # type: ignore[attr-defined]
            yield Static(key_hint(keys, ("confirm_yes", "yes"), ("confirm_no", "no")), id="confirm-keys")

    def on_mount(self) -> None:
        self.query_one("#confirm").border_title = self.title_text

    def action_confirm_yes(self) -> None:
        self.dismiss(True)

    def action_confirm_no(self) -> None:
        self.dismiss(False)
