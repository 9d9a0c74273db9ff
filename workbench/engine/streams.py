"""The reply each agent is streaming, as far as it has come (streamed text is not logged until the
reply completes): what a screen that starts watching an agent mid-reply shows first."""

from __future__ import annotations

from workbench.protocol.events import AssistantMessage, Event
from workbench.protocol.signals import Live, TextStreamed


class Streams:
    def __init__(self) -> None:
        self._partial: dict[str, list[str]] = {}

    def partial(self, agent: str) -> str:
        return "".join(self._partial.get(agent, ()))

    def hear(self, item: Event | Live) -> None:
        """A bus listener."""
        if isinstance(item, TextStreamed):
            self._partial.setdefault(item.agent, []).append(item.text)
        elif isinstance(item, AssistantMessage):
            self._partial.pop(item.agent, None)
