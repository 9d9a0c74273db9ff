"""Replay: a session's events published again on a bus, with their original timing.

Replay only reads the bundle. ``speed`` divides the recorded gaps (``None`` plays
as fast as possible); ``max_gap_s`` caps a long idle gap after scaling, so an
afternoon's pause does not stall the show. Cancel the task to stop it. The
sleep function is injectable, so tests run instantly and deterministically.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Literal

from workbench.engine.context.tokens import ContextCount, TokenCounter
from workbench.engine.engine import SessionInfo
from workbench.engine.priming.primers import PrimerEntry, PrimerError, ResolvedPrimer
from workbench.engine.views.session_view import SessionView
from workbench.engine.workspaces.diff import AgentDiff, recorded_diff
from workbench.log.blobs import BlobStore
from workbench.log.bundle import BundleStore
from workbench.log.bus import EventBus, Listener
from workbench.protocol.commands import Command, Outcome
from workbench.protocol.events import Event, EventBase
from workbench.protocol.mcp import McpReport

Sleep = Callable[[float], Awaitable[None]]
# at full speed, still let the loop breathe (and see a cancel) this often
YIELD_EVERY = 256


def gaps(events: list[Event], speed: float | None, max_gap_s: float | None = None) -> list[float]:
    """How long to wait before publishing each event."""
    if speed is None:
        return [0.0] * len(events)
    if speed <= 0:
        raise ValueError("speed must be positive (or None for as fast as possible)")
    waits = [0.0]
    for before, after in zip(events, events[1:]):
        wait = max(0.0, (after.ts - before.ts).total_seconds()) / speed
        waits.append(wait if max_gap_s is None else min(wait, max_gap_s))
    return waits[: len(events)]


async def replay(
    events: Iterable[Event],
    bus: EventBus,
    *,
    speed: float | None = 1.0,
    max_gap_s: float | None = None,
    sleep: Sleep = asyncio.sleep,
) -> int:
    """Publish ``events`` in order, paced like the original; returns how many were published."""
    ordered = list(events)
    published = 0
    for event, wait in zip(ordered, gaps(ordered, speed, max_gap_s)):
        if wait > 0:
            await sleep(wait)
        elif published % YIELD_EVERY == 0:
            await sleep(0)
        bus.publish(event)
        published += 1
    return published


async def replay_session(
    store: BundleStore,
    session_id: str,
    bus: EventBus,
    *,
    speed: float | None = 1.0,
    max_gap_s: float | None = None,
    sleep: Sleep = asyncio.sleep,
) -> int:
    contents = await store.read(session_id)
    return await replay(contents.events, bus, speed=speed, max_gap_s=max_gap_s, sleep=sleep)


class ReplayClient:
    """A past session as a screen sees a live one: its events published again (by a player, on ``bus``)
    and folded into the same views, before any screen hears of them. Nothing can be changed."""

    detaches = True

    def __init__(self, info: SessionInfo, counter: TokenCounter, blobs: BlobStore | None = None) -> None:
        self.info = info
        self.blobs = blobs  # the session's, for the bytes of the changes it recorded
        self.view = SessionView(counter, window=info.window, delegate_at=info.delegate_at, compact_at=info.compact_at)
        self.bus = EventBus()
        self.played: list[Event] = []
        self._by_agent: dict[str, list[Event]] = defaultdict(list)
        self.bus.subscribe(self._fold)

    def _fold(self, item: object) -> None:
        if isinstance(item, EventBase):
            event: Event = item  # type: ignore[assignment]
            self.view.apply(event)
            self.played.append(event)
            self._by_agent[event.agent].append(event)

    async def start(self) -> None:
        """A replay runs nothing beside its events."""

    async def submit(self, command: Command) -> Outcome:
        return Outcome.refused("A replay is read-only: nothing can be sent to it.")

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self.bus.subscribe(listener)

    @property
    def events(self) -> list[Event]:
        return self.played

    def events_of(self, agent: str) -> list[Event]:
        return self._by_agent.get(agent, [])

    def partial(self, agent: str) -> str:
        return ""  # replies are replayed whole

    def watch(self, agent: str) -> None:
        """Every event is replayed to every screen."""

    async def preview_primer(
        self, name: str, arguments: str = "", agent: str = "primary", *, fresh: bool = False
    ) -> ResolvedPrimer:
        raise PrimerError("A replay is read-only: no primer can be loaded into it.")

    async def primer_catalog(self) -> list[PrimerEntry]:
        return []

    async def mcp_report(self) -> McpReport:
        return McpReport()

    async def count_context(self, agent: str) -> ContextCount:
        budget = self.view.budget(agent).used
        return ContextCount(agent=agent, budget=budget, note="a replay sends nothing: there is nothing to count")

    async def agent_diff(self, agent: str) -> AgentDiff:
        return await asyncio.to_thread(recorded_diff, agent, self.view.workspaces.get(agent), self.blobs)

    async def leave(self, how: Literal["detach", "stop", "cancel"]) -> None:
        """The recorded session is only read: nothing to close."""
