"""Waiting in tests for what should happen (a process to end, a file to be written), never for a time:
a generous deadline is only a safety net against a hang. (Events: ``tests.engine_driver.next_event``.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

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
