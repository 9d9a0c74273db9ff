"""What a front end holds of the engine: one interface, whichever transport carries it.

``EngineClient`` is all a screen may use: submit commands, hear events and
signals, read the session's views (kept up to date before a listener hears of
an event), and ask the few read-only questions screens need (a primer's
preview, the MCP servers). ``LocalClient`` is the engine in the same process
(what ``make run`` uses); a client of the daemon speaks the same interface
over a socket (``workbench.engine.transports``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

from workbench.engine.context.tokens import ContextCount
from workbench.engine.engine import Engine, SessionInfo
from workbench.engine.priming.primers import PrimerEntry, ResolvedPrimer
from workbench.engine.views.session_view import SessionView
from workbench.engine.workspaces.diff import AgentDiff
from workbench.log.bus import Listener
from workbench.protocol.commands import Close, Command, Outcome
from workbench.protocol.events import Event
from workbench.protocol.mcp import McpReport


class EngineClient(Protocol):
    info: SessionInfo
    view: SessionView
    # True when quitting the screen leaves the session running (a daemon holds it)
    detaches: bool

    async def start(self) -> None:
        """Start what the session runs beside its agents (MCP servers), once the screen listens."""
        ...

    async def submit(self, command: Command) -> Outcome: ...

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear every event (after the views have it) and every live signal, in order, from now on."""
        ...

    @property
    def events(self) -> list[Event]:
        """The session's events so far."""
        ...

    def events_of(self, agent: str) -> list[Event]: ...

    def partial(self, agent: str) -> str:
        """The text of the reply ``agent`` is streaming right now ('' when none)."""
        ...

    def watch(self, agent: str) -> None:
        """The agent whose reply the screen shows as it streams (the others' text need not be sent)."""
        ...

    async def preview_primer(
        self, name: str, arguments: str = "", agent: str = "primary", *, fresh: bool = False
    ) -> ResolvedPrimer: ...

    async def primer_catalog(self) -> list[PrimerEntry]: ...

    async def mcp_report(self) -> McpReport: ...

    async def count_context(self, agent: str) -> ContextCount:
        """The exact count of what the agent's next request would send (the API's ``count_tokens``)."""
        ...

    async def agent_diff(self, agent: str) -> AgentDiff:
        """The agent's changes file by file (its worktree against its base, or what the log records)."""
        ...

    async def leave(self, how: Literal["detach", "stop", "cancel"]) -> None:
        """The screen goes: detach from a session the daemon keeps, or close it (``stop``, ``cancel``)."""
        ...


class LocalClient:
    """The engine in this process."""

    detaches = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.info = engine.info
        self.view = engine.view

    async def start(self) -> None:
        await self.engine.start_mcp()

    async def submit(self, command: Command) -> Outcome:
        return await self.engine.submit(command)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self.engine.subscribe(listener)

    @property
    def events(self) -> list[Event]:
        return self.engine.events

    def events_of(self, agent: str) -> list[Event]:
        return self.engine.session.events_of(agent)

    def partial(self, agent: str) -> str:
        return self.engine.partial(agent)

    def watch(self, agent: str) -> None:
        """Everything streams in this process already."""

    async def preview_primer(
        self, name: str, arguments: str = "", agent: str = "primary", *, fresh: bool = False
    ) -> ResolvedPrimer:
        return await self.engine.preview_primer(name, arguments, agent, fresh=fresh)

    async def primer_catalog(self) -> list[PrimerEntry]:
        return self.engine.primer_catalog()

    async def mcp_report(self) -> McpReport:
        return self.engine.mcp_report()

    async def count_context(self, agent: str) -> ContextCount:
        return await self.engine.count_context(agent)

    async def agent_diff(self, agent: str) -> AgentDiff:
        return await self.engine.workspaces.diff(agent)

    async def leave(self, how: Literal["detach", "stop", "cancel"]) -> None:
        await self.engine.submit(Close(how="cancel" if how == "cancel" else "stop"))
