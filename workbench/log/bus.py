"""The event bus: logged events (after they are written) and live signals, to whoever listens."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Union

from workbench.protocol.events import Event
from workbench.protocol.signals import Live

log = logging.getLogger(__name__)

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
