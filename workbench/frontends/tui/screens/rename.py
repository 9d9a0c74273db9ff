"""A new title for a session (empty: back to the title taken from its log)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from workbench.engine.library import MAX_TITLE_CHARS
from workbench.frontends.tui.actions import bindings, key_hint


class RenameScreen(ModalScreen[str | None]):
    CSS_PATH = "rename.tcss"
    BINDINGS = bindings("dialog")

    def __init__(self, session_id: str, title: str) -> None:
        super().__init__()
        self.session_id = session_id
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="rename"):
            yield Input(self.title_text, max_length=MAX_TITLE_CHARS, id="rename-title")
            yield Static(
                Content.assemble(
                    ("enter", "bold $accent"),
                    " renames · ",
                    key_hint(self.app.config.keys, ("close", "cancels")),  # type: ignore[attr-defined]
                    " · an empty title goes back to the first prompt",
                ),
                id="rename-keys",
            )

    def on_mount(self) -> None:
        self.query_one("#rename").border_title = f"Rename {self.session_id}"
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, message: Input.Submitted) -> None:
        message.stop()
        self.dismiss(message.value)
