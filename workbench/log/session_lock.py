"""One process writes a session at a time: a ``lock`` file held with ``flock`` while writing.

The kernel drops an flock when its holder exits, however it exits, so a lock is
never stale: a ``lock`` file that nobody holds is free. The pid, host and time
written inside it only tell the user who holds it. Locks are per open file, so
a second open of the same session in the same process is refused too.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from pydantic import BaseModel, ValidationError

LOCK_FILE = "lock"
FILE_MODE = 0o600
# a reader probing the lock holds it (shared) for a few microseconds: retry that long, and more
ACQUIRE_TRIES = 5
ACQUIRE_PAUSE_S = 0.01


class LockHolder(BaseModel):
    pid: int
    host: str = ""
    since: datetime | None = None

    def __str__(self) -> str:
        where = f" on {self.host}" if self.host and self.host != socket.gethostname() else ""
        return f"process {self.pid}{where}" if self.pid else "another process"


class SessionLocked(OSError):
    """The session is being written by another live process; open it read-only instead."""

    def __init__(self, folder: Path, holder: LockHolder) -> None:
        super().__init__(f"session {folder.name} is open in {holder}; it can only be read until that ends")
        self.folder = folder
        self.holder = holder


def _read_holder(fd: int) -> LockHolder:
    try:
        return LockHolder.model_validate_json(os.pread(fd, 4096, 0))
    except (OSError, ValidationError):
        return LockHolder(pid=0)  # held, but by someone who has not written their name yet


class SessionLock:
    """The exclusive right to append to one session folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        return self.folder / LOCK_FILE

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        for attempt in range(ACQUIRE_TRIES):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == ACQUIRE_TRIES - 1:
                    holder = _read_holder(fd)
                    os.close(fd)
                    raise SessionLocked(self.folder, holder) from None
                time.sleep(ACQUIRE_PAUSE_S)
        me = LockHolder(pid=os.getpid(), host=socket.gethostname(), since=datetime.now(UTC))
        os.ftruncate(fd, 0)
        os.pwrite(fd, me.model_dump_json().encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> SessionLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def lock_holder(folder: Path) -> LockHolder | None:
    """Who is writing the session now; None when no live process is."""
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
