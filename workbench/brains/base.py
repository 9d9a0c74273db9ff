"""The Brain protocol: what the agent loop needs from a language model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from workbench.protocol.brain_io import BrainEvent, BrainRequest

# how long a reply from a remote model may keep an agent waiting (the config's [api] section)
REQUEST_TIMEOUT_S = 600.0  # the whole reply, its retries included
STALL_TIMEOUT_S = 120.0  # for the response, then for each event of it (keep-alive pings do not count)
MAX_ATTEMPTS = 4  # a failure before any of the reply came (429, 529, 5xx, a cut, a stall) is tried again


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
