"""The message of a commit on an agent's branch: proposed from its diff, edited by the user, then committed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from workbench.frontends.tui.actions import bindings


class CommitMessageScreen(ModalScreen[str | None]):
    CSS_PATH = "commit_message.tcss"
    BINDINGS = [*bindings("commit"), *bindings("dialog")]
    AUTO_FOCUS = "#commit-text"

    def __init__(self, agent: str, proposed: str) -> None:
        super().__init__()
        self.agent = agent
        self.proposed = proposed

    def compose(self) -> ComposeResult:
        with Vertical(id="commit"):
            yield TextArea(self.proposed, id="commit-text", soft_wrap=True, show_line_numbers=False)
            yield Static(
                Content.assemble(
                    ("ctrl+s", "bold $accent"), " commits on the agent's branch (your hooks run) · ",
                    ("esc", "bold $accent"), " leaves it uncommitted",
                ),
                id="commit-keys",
            )  # fmt: skip

    def on_mount(self) -> None:
        self.query_one("#commit").border_title = f"Commit {self.agent}'s changes"
        area = self.query_one(TextArea)
        area.cursor_blink = False
        area.move_cursor((0, len(area.document.get_line(0))))

    def action_commit_now(self) -> None:
        message = self.query_one(TextArea).text.strip()
        if not message:
            self.notify("A commit needs a message.", severity="warning")
            return
        self.dismiss(message)
