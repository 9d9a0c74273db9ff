"""The one-line header: session, brain and model, the offline notice, the permission mode."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label

from workbench.tui.stylesheet import css_beside


class SessionHeader(Horizontal):
    DEFAULT_CSS = css_beside(__file__)

    session_id: reactive[str] = reactive("starting…")
    brain: reactive[str] = reactive("")
    offline_reason: reactive[str] = reactive("")
    mode: reactive[str] = reactive("")

    def compose(self) -> ComposeResult:
        yield Label("◆ workbench", id="app-name")
        yield Label(id="session")
        yield Label(id="brain")
        yield Label(id="offline")
        yield Label(id="mode")

    def watch_session_id(self, session_id: str) -> None:
        self.query_one("#session", Label).update(session_id)

    def watch_brain(self, brain: str) -> None:
        self.query_one("#brain", Label).update(brain)

    def watch_offline_reason(self, reason: str) -> None:
        offline = self.query_one("#offline", Label)
        offline.update(reason)
        offline.display = bool(reason)

    def watch_mode(self, mode: str) -> None:
        badge = self.query_one("#mode", Label)
        badge.update(f"mode {mode}" if mode else "")
        badge.display = bool(mode)
        for name in ("default", "acceptEdits", "plan", "bypass"):
            badge.set_class(mode == name, f"-{name}")
