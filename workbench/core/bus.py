"""The event bus: logged events (after they are written) and live signals, to whoever listens.

Live signals are what the screen needs but the log does not keep: the text of
a reply while it streams, a retry countdown, a budget that changed.
"""

from __future__ import annotations

import logging
from typing import Callable, Literal, Union

from pydantic import BaseModel

from workbench.core.events import Event

log = logging.getLogger(__name__)


class Signal(BaseModel):
    agent: str


class TextStreamed(Signal):
    signal: Literal["text"] = "text"
    text: str


class ThinkingStreamed(Signal):
    signal: Literal["thinking"] = "thinking"
    text: str


class ToolInputStreaming(Signal):
    signal: Literal["tool_input"] = "tool_input"
    tool_use_id: str
    name: str


class Retrying(Signal):
    signal: Literal["retrying"] = "retrying"
    message: str
    attempt: int
    delay_s: float


class ApprovalPending(Signal):
    """An agent waits for a permission answer (the prompt itself goes to the approver)."""

    signal: Literal["approval"] = "approval"
    tool: str
    waiting: bool


class McpStatusChanged(Signal):
    """An MCP server started, failed or restarted (``agent`` is empty: it belongs to the session)."""

    signal: Literal["mcp"] = "mcp"
    server: str
    state: str
    error: str = ""


Live = Union[TextStreamed, ThinkingStreamed, ToolInputStreaming, Retrying, ApprovalPending, McpStatusChanged]
Listener = Callable[[Union[Event, Live]], None]


class EventBus:
    """Synchronous fan-out; a failing listener is logged and never reaches the publisher."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def publish(self, item: Union[Event, Live]) -> None:
        for listener in list(self._listeners):
            try:
                listener(item)
            except Exception:
                log.exception("event listener %r failed on %s", listener, type(item).__name__)
