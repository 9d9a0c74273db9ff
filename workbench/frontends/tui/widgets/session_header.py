"""The one-line header: session, brain and model, the offline notice, a restricted folder, MCP servers, the
permission mode."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label

from workbench.frontends.tui.stylesheet import css_beside


class McpTally(NamedTuple):
    """How many of the session's MCP servers are in each state, for the header's badge."""

    ready: int = 0
    starting: int = 0
    failed: int = 0
    total: int = 0

    @classmethod
    def of(cls, states: Iterable[str], problems: int = 0) -> McpTally:
        """``problems``: config files that could not be read (counted as failures)."""
        states = list(states)
        return cls(states.count("ready"), states.count("starting"), states.count("failed") + problems, len(states))

    @property
    def health(self) -> str:
        return "failed" if self.failed else "starting" if self.starting else "ready"


class SessionHeader(Horizontal):
    DEFAULT_CSS = css_beside(__file__)

    session_id: reactive[str] = reactive("starting…")
    brain: reactive[str] = reactive("")
    offline_reason: reactive[str] = reactive("")
    mode: reactive[str] = reactive("")
    mcp: reactive[McpTally] = reactive(McpTally())
    restricted: reactive[bool] = reactive(False)

    def compose(self) -> ComposeResult:
        yield Label("◆ workbench", id="app-name")
        yield Label(id="session")
        yield Label(id="brain")
        yield Label(id="offline")
        with Horizontal(id="badges"):
            yield Label("restricted", id="restricted")
            yield Label(id="mcp")
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

    def watch_restricted(self, restricted: bool) -> None:
        """The folder was opened restricted: its own hooks, servers and settings do not apply."""
        badge = self.query_one("#restricted", Label)
        badge.display = restricted
        badge.tooltip = "This folder's own hooks, MCP servers, primer approvals and wider settings are not applied"

    def watch_mcp(self, tally: McpTally) -> None:
        """``mcp 2/3``: servers ready out of those configured (shown only when some are)."""
        badge = self.query_one("#mcp", Label)
        badge.display = bool(tally.total or tally.failed)
        badge.update(f"mcp {tally.ready}/{tally.total}")
        badge.tooltip = f"{tally.ready} ready, {tally.starting} starting, {tally.failed} failed · /mcp shows them"
        for health in ("ready", "starting", "failed"):
            badge.set_class(tally.health == health, f"-{health}")
