"""The session lock: one writer per session, across processes; a dead holder never leaves it stuck."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.log.session_lock import LOCK_FILE, SessionLock, SessionLocked, lock_holder

HOLDER = """
import sys, time
from pathlib import Path
from workbench.log.session_lock import SessionLock
lock = SessionLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "20260101T000000Z-lock"
    path.mkdir()
    return path


def test_a_second_writer_in_the_same_process_is_refused(folder: Path) -> None:
    with SessionLock(folder) as first:
        assert first.held
        holder = lock_holder(folder)
        assert holder is not None and holder.pid == os.getpid()
        with pytest.raises(SessionLocked, match=f"open in process {os.getpid()}") as refused:
            SessionLock(folder).acquire()
        assert refused.value.holder.pid == os.getpid()
    assert lock_holder(folder) is None
    with SessionLock(folder):  # free again once released
        pass
    assert stat.S_IMODE((folder / LOCK_FILE).stat().st_mode) == 0o600


def test_a_lock_file_nobody_holds_is_free_whatever_it_says(folder: Path) -> None:
    assert lock_holder(folder) is None  # no file at all
    (folder / LOCK_FILE).write_text('{"pid": 999999, "host": "gone"}')
    assert lock_holder(folder) is None
    lock = SessionLock(folder)
    lock.acquire()
    lock.acquire()  # idempotent
    lock.release()
    lock.release()


def test_another_process_holds_it_until_it_is_killed(folder: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        holder = lock_holder(folder)
        assert holder is not None and holder.pid == child.pid and holder.since is not None
        with pytest.raises(SessionLocked) as refused:
            SessionLock(folder).acquire()
        assert f"process {child.pid}" in str(refused.value) and "can only be read" in str(refused.value)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    # the kernel dropped the dead holder's lock: no stale lock to clean up by hand
    assert lock_holder(folder) is None
    with SessionLock(folder) as lock:
        assert lock.held


def test_a_held_lock_is_a_readable_os_error(folder: Path) -> None:
    with SessionLock(folder):
        with pytest.raises(OSError, match="only be read"):
            SessionLock(folder).acquire()
