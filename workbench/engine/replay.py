"""Replay: a session's events published again on a bus, with their original timing.

Replay only reads the bundle. ``speed`` divides the recorded gaps (``None`` plays
as fast as possible); ``max_gap_s`` caps a long idle gap after scaling, so an
afternoon's pause does not stall the show. Cancel the task to stop it. The
sleep function is injectable, so tests run instantly and deterministically.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

from workbench.log.bundle import BundleStore
from workbench.log.bus import EventBus
from workbench.protocol.events import Event

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
