"""Every process a Bash call started ends with the call, and with the app however the app ends.

A command runs with ``WORKBENCH_SHELL_CALLS`` in its environment: the calls it belongs to,
each ``<app pid>-<app start time>-<n>`` (a command run by an app that a Bash call started
carries both calls). Whatever the command starts inherits the mark, even a process that
leaves its process group and session (``setsid``, a daemon), so a sweep of ``/proc`` finds
them all. Three sweeps kill what is marked:

- the call's own, when its shell exits, times out or is interrupted (``kill_marked``);
- the guard's: a small process the app starts beside itself (``python -I -S shell_guard.py
  OWNER``). It reads its stdin, a pipe only the app holds, which ends however the app ends,
  SIGKILL included; then it kills everything marked with the app's calls, and exits;
- at the first call of a later run, what is marked by an app no longer running (its guard was
  killed with it), in ``kill_orphans``.

A process that empties its environment (``env -i``) escapes the mark; its process group still
ends with the call. Linux only (``/proc``); elsewhere the sweeps find nothing.

This file imports the standard library alone: the guard runs it as a script.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator

MARK = "WORKBENCH_SHELL_CALLS"
PROC = "/proc"
ROUNDS = 5  # a marked process may fork while a sweep runs: sweep again until none is left


def start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot): with the pid, who a process is."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat.rsplit(b")", 1)[-1].split()[19].decode()  # field 22; the name before ")" may hold spaces


def owner_of_this_process() -> str:
    return f"{os.getpid()}-{start_time(os.getpid()) or 0}"


def owner_running(owner: str) -> bool:
    pid, _, started = owner.partition("-")
    return pid.isdigit() and start_time(int(pid)) == started


def marked_processes() -> Iterator[tuple[int, list[str]]]:
    """Each process carrying a mark, with the calls it names (this process left out)."""
    key = MARK.encode() + b"="
    try:
        pids = [int(name) for name in os.listdir(PROC) if name.isdigit()]
    except OSError:
        return
    for pid in pids:
        if pid == os.getpid():
            continue
        try:
            with open(f"{PROC}/{pid}/environ", "rb") as f:
                environ = f.read()
        except OSError:  # gone already, or not ours to read
            continue
        for entry in environ.split(b"\0"):
            if entry.startswith(key):
                yield pid, entry[len(key) :].decode(errors="replace").split(":")
                break


def kill_marked(chosen: Callable[[list[str]], bool]) -> int:
    """SIGKILL every process whose calls ``chosen`` picks; how many were killed."""
    killed = 0
    for _ in range(ROUNDS):
        found = [pid for pid, calls in marked_processes() if chosen(calls)]
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
        if not found:
            break
    return killed


def of_call(call: str) -> Callable[[list[str]], bool]:
    return lambda calls: call in calls


def of_owner(owner: str) -> Callable[[list[str]], bool]:
    return lambda calls: any(c.startswith(owner + "-") for c in calls)


def kill_orphans() -> int:
    """Kill what the calls of apps no longer running left behind (their guard died with them)."""
    return kill_marked(lambda calls: any(not owner_running(owner) for owner in map(_owner, calls) if owner))


def _owner(call: str) -> str | None:
    """The app of a call ``<pid>-<start time>-<n>``; None for anything else found in the variable."""
    parts = call.split("-")
    return "-".join(parts[:2]) if len(parts) == 3 and all(p.isdigit() for p in parts) else None


def guard(owner: str) -> None:
    """Wait for the app's end (end of file on stdin), then end every process of its calls."""
    while sys.stdin.buffer.read(65536):
        pass
    kill_marked(of_owner(owner))


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a ^C meant for the app must not stop its guard
    guard(sys.argv[1])
