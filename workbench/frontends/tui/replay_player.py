"""Replay pacing the user can change while it plays: 1×, 10×, or as fast as possible.

``workbench.engine.replay`` publishes the events and waits the recorded gap
before each; this player is its ``sleep``. It waits in short ticks, so a new
speed applies at once and a stop (cancelling the task) is never held up by a
long gap, and it caps any one wait so an afternoon's pause does not stall the show.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from workbench.engine.replay import ReplayClient, Sleep, replay
from workbench.protocol.events import Event

SPEEDS: tuple[float | None, ...] = (1.0, 10.0, None)  # None: as fast as possible
TICK_S = 0.1  # a new speed or a stop takes effect within this much real time
MAX_WAIT_S = 3.0  # the longest real wait between two events


def speed_label(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:g}×"


class ReplayPlayer:
    def __init__(
        self, events: Sequence[Event], client: ReplayClient, *, speed: float | None = 1.0, sleep: Sleep = asyncio.sleep
    ) -> None:
        """The events are published to ``client`` (which folds them into its views first)."""
        self.events = list(events)
        self.bus = client.bus
        self.speed = speed
        self.sleep = sleep

    def faster(self) -> float | None:
        """The next speed in turn (max goes back to 1×)."""
        at = SPEEDS.index(self.speed) if self.speed in SPEEDS else -1
        self.speed = SPEEDS[(at + 1) % len(SPEEDS)]
        return self.speed

    async def play(self) -> int:
        """Publish every event in order, paced; returns how many were published."""
        return await replay(self.events, self.bus, speed=1.0, sleep=self._pace)

    async def _pace(self, gap_s: float) -> None:
        """Wait the recorded ``gap_s`` at the speed of the moment, a tick at a time."""
        waited = 0.0
        while gap_s > 1e-9 and (speed := self.speed) is not None and waited < MAX_WAIT_S:
            step = min(gap_s / speed, TICK_S, MAX_WAIT_S - waited)
            await self.sleep(step)
            waited += step
            gap_s -= step * speed
        if waited == 0:
            await self.sleep(0)  # at full speed the screen still gets a turn between events
