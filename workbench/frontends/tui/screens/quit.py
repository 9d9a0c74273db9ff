"""Quitting while agents work in this process: stop them (they go on when the session is resumed)
or cancel them. Nothing is lost either way; the log says which."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from workbench.frontends.tui.actions import BY_NAME, bindings, key_of
from workbench.frontends.tui.session_start import Leaving

SHOWN_AGENTS = 8


class QuitScreen(ModalScreen[Leaving | None]):
    CSS_PATH = "quit.tcss"
    BINDINGS = bindings("quit")

    def __init__(self, session_id: str, working: list[str], overrides: dict[str, str] | None = None) -> None:
        super().__init__()
        self.session_id = session_id
        self.working = working
        self.overrides = overrides or {}

    def compose(self) -> ComposeResult:
        shown = ", ".join(self.working[:SHOWN_AGENTS])
        more = f" and {len(self.working) - SHOWN_AGENTS} more" if len(self.working) > SHOWN_AGENTS else ""
        count = len(self.working)
        with Vertical(id="quit"):
            yield Static(
                Content.assemble(
                    (f"{count} agent{'s are' if count != 1 else ' is'} still at work or paused: ", "bold"),
                    f"{shown}{more}.",
                ),
                id="quit-question",
            )
            yield Static(
                Content.assemble(
                    (self._key("quit_stop"), "bold $accent"),
                    "  stop them: they go on from where they are when you resume the session "
                    "(paused ones stay paused)\n",
                    (self._key("quit_cancel"), "bold $accent"),
                    "  cancel them: each one ends as cancelled\n",
                    (self._key("quit_stay"), "bold $accent"),
                    "  stay",
                ),
                id="quit-choices",
            )
            yield Static(
                Content.styled(f"Resume later with: workbench --resume {self.session_id}", "$foreground-muted"),
                id="quit-resume",
            )

    def _key(self, action: str) -> str:
        return key_of(BY_NAME[action], self.overrides).split(",")[0]

    def on_mount(self) -> None:
        self.query_one("#quit").border_title = "Quit"

    def action_quit_stop(self) -> None:
        self.dismiss("stop")

    def action_quit_cancel(self) -> None:
        self.dismiss("cancel")

    def action_quit_stay(self) -> None:
        self.dismiss(None)
