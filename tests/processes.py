"""What runs on this machine, read from /proc (process groups, the background shells a process owns), and
waiting in tests for what should happen (a process to end, a file to be written), never for a time: a
generous deadline is only a safety net against a hang. (Events: ``tests.engine_driver.next_event``.)"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

from workbench.tools.shells import OWNER_VARIABLE

SAFETY_NET_S = 60.0  # never reached when things work; a busy machine gets there in well under a second


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces
    return [raw[: raw.index(" ")], raw[raw.index("(") : raw.rindex(")") + 1], *raw[raw.rindex(")") + 2 :].split()]


def alive(pid: int) -> bool:
    """Running (a zombie has finished: it only waits to be reaped)."""
    fields = _stat(pid)
    return fields is not None and fields[2] != "Z"


def group_members(pgid: int) -> set[int]:
    """Every live process of the process group ``pgid``."""
    members = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None and fields[4] == str(pgid):
            if fields[2] != "Z":
                members.add(int(entry))
    return members


def shells_owned_by(owner: int) -> set[int]:
    """Live processes started in a background shell of the engine running as process ``owner``."""
    marker = f"{OWNER_VARIABLE}={owner}".encode()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0") and alive(int(entry)):
            found.add(int(entry))
    return found


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
