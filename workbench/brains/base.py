"""The Brain protocol: what the agent loop needs from a language model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from workbench.protocol.brain_io import BrainEvent, BrainRequest


@runtime_checkable
class Brain(Protocol):
    name: str  # "anthropic" | "scripted"
    model: str

    @property
    def label(self) -> str:
        """How the UI names this brain, e.g. ``claude-sonnet-4-5`` or ``scripted (offline)``."""
        ...

    def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        """Stream one reply. Ends with exactly one MessageDone, or raises BrainError."""
        ...

    async def aclose(self) -> None:
        """Release what the brain holds (connections, a host process); a later request takes them again."""
        ...


@runtime_checkable
class CountsTokens(Protocol):
    """A brain that can say exactly how many input tokens a request holds (the API's ``count_tokens``)."""

    async def count_tokens(self, request: BrainRequest) -> int:
        """The exact input tokens of ``request``, no reply generated; raises BrainError."""
        ...
