"""Waiting in tests for what should happen (a process to end, an event to be published), never for a time:
a generous deadline is only a safety net against a hang."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from workbench.log.bus import EventBus

SAFETY_NET_S = 60.0  # never reached when things work; a busy machine gets there in well under a second


def alive(pid: int) -> bool:
    """Running (a zombie, killed and waiting to be reaped, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


async def until(condition: Callable[[], bool], what: str, deadline_s: float = SAFETY_NET_S) -> None:
    give_up = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"still waiting, after {deadline_s:g} s, for {what}")
        await asyncio.sleep(0.02)


def until_sync(condition: Callable[[], bool], what: str, deadline_s: float = SAFETY_NET_S) -> None:
    give_up = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"still waiting, after {deadline_s:g} s, for {what}")
        time.sleep(0.02)


def pid_in(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


class Expected:
    """The first item a bus publishes that ``wanted`` accepts, from the moment this is made.

    Made before the action that should cause it, so that nothing published in between is missed::

        started = Expected(bench.bus, lambda e: isinstance(e, TextStreamed))
        bench.send("hello")
        await started
    """

    def __init__(self, bus: EventBus, wanted: Callable[[object], bool]) -> None:
        self._found: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._wanted = wanted
        self._unsubscribe = bus.subscribe(self._see)

    def _see(self, item: object) -> None:
        if not self._found.done() and self._wanted(item):
            self._found.set_result(item)
            self._unsubscribe()

    def __await__(self):  # type: ignore[no-untyped-def]
        return asyncio.wait_for(asyncio.shield(self._found), SAFETY_NET_S).__await__()
