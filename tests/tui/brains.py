"""Brains for the TUI tests: the scripted brain held mid-reply, failing or waiting on cue, thinking aloud."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from workbench.brains.extractive import message_text
from workbench.brains.scripted import ScriptedBrain, text_chunks
from workbench.protocol.brain_io import BrainError, BrainEvent, BrainRequest, MessageDone, TextDelta, ThinkingDelta
from workbench.protocol.content import ThinkingBlock


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


class MoodyBrain(ScriptedBrain):
    """The scripted brain, except that a sub-agent whose task begins with ``explode`` fails, and one
    whose task begins with ``wait`` is held (before any output) until ``release`` is set."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.release = asyncio.Event()
        self.waiting = 0

    async def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        said = message_text(request.messages[-1]) if request.messages and request.agent_level > 1 else ""
        if said.startswith("explode"):
            raise BrainError("the model is overloaded", error_type="overloaded")
        if said.startswith("wait"):
            self.waiting += 1
            await self.release.wait()
        async for item in super().stream(request):
            yield item


class ThinkingBrain(ScriptedBrain):
    """Thinks ``thought`` aloud first, holds until ``release`` is set, then answers by the rules; the
    thought is logged as the reply's first content block, as the API does."""

    def __init__(self, thought: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.thought = thought
        self.release = asyncio.Event()
        self.thinking = asyncio.Event()

    async def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        for chunk in text_chunks(self.thought):
            yield ThinkingDelta(thinking=chunk)
        self.thinking.set()
        await self.release.wait()
        async for item in super().stream(request):
            if isinstance(item, MessageDone):
                item = MessageDone(
                    content=[ThinkingBlock(thinking=self.thought), *item.content], stop_reason=item.stop_reason
                )
            yield item
