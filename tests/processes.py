"""What runs on this machine, read from /proc: process groups, and the background shells a process owns."""

from __future__ import annotations

import os
from pathlib import Path

from workbench.tools.shells import OWNER_VARIABLE


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
