"""Brains for the TUI tests: the scripted brain, held mid-reply until the test lets it go on."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

from workbench.brains.base import BrainEvent, BrainRequest, TextDelta
from workbench.brains.scripted import ScriptedBrain


class HeldBrain(ScriptedBrain):
    """Streams the first ``hold_after`` text chunks of each reply, then waits for ``release``."""

    def __init__(self, hold_after: int = 3, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.hold_after = hold_after
        self.release = asyncio.Event()
        self.holding = asyncio.Event()

    async def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        chunks = 0
        async for item in super().stream(request):
            if isinstance(item, TextDelta):
                chunks += 1
                if chunks == self.hold_after + 1:
                    self.holding.set()
                    await self.release.wait()
            yield item
