"""Rewind of files: what an agent's files held at a point of its session, and putting them back.

Every change the log records (``files_changed``) names the bytes before and after as blobs. A file's state
at seq N is the ``after`` of its last change at or before N, or else the ``before`` of its first change
after N. Restoring writes those bytes (deleting files that did not exist yet), and refuses a file whose
present bytes are neither what the agent left there nor the state wanted: someone changed it since, and
that is only overwritten when the user says so.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from workbench.log.blobs import BlobError, BlobStore, blob_id
from workbench.protocol.events import AgentSpawned, Event, FilesChanged, SessionStarted, WorktreeCreated

Status = Literal["same", "restore", "changed since", "unknown"]


class RewindError(Exception):
    """Nothing can be rewound as asked; the message says why."""


@dataclass(frozen=True)
class FileAt:
    """One file the agent touched: what it held at the point chosen and what the log says it holds last."""

    path: str
    wanted: str | None  # the blob it held at the point (None: it did not exist)
    wanted_known: bool
    last: str | None  # the blob the agent's last change left (None: it deleted the file)
    last_known: bool


@dataclass(frozen=True)
class FileCheck:
    file: FileAt
    status: Status
    note: str = ""


def agent_root(events: list[Event], agent: str) -> str:
    """Where the agent's files are: its worktree's workspace, or the session's folder."""
    for event in events:
        if isinstance(event, FilesChanged) and event.agent == agent and event.root:
            return event.root
        if isinstance(event, WorktreeCreated) and event.agent == agent:
            return event.workspace
    return next((e.cwd for e in events if isinstance(e, SessionStarted)), "")


def files_at(events: list[Event], agent: str, up_to_seq: int) -> list[FileAt]:
    """The files ``agent`` (and the agents it started that worked in the same folder) changed anywhere in
    the log, each with its state at ``up_to_seq``."""
    family = {agent}
    for event in events:
        if isinstance(event, AgentSpawned) and event.parent in family:
            family.add(event.agent)
    root = agent_root(events, agent)
    states: dict[str, FileAt] = {}
    for event in events:
        if not (isinstance(event, FilesChanged) and event.agent in family and event.root == root):
            continue
        for change in event.changes:
            known = states.get(change.path)
            if event.seq <= up_to_seq:
                wanted, wanted_known = change.after, change.after_known
            elif known is None:
                wanted, wanted_known = change.before, change.before_known
            else:
                wanted, wanted_known = known.wanted, known.wanted_known
            states[change.path] = FileAt(change.path, wanted, wanted_known, change.after, change.after_known)
    return [states[path] for path in sorted(states)]


def check(files: list[FileAt], into: Path, *, force: bool = False) -> list[FileCheck]:
    """What restoring each file into ``into`` would do."""
    checks: list[FileCheck] = []
    for file in files:
        present = _digest_of(into / file.path)
        if not file.wanted_known:
            checks.append(FileCheck(file, "unknown", "what it held then was not recorded (changed by a command)"))
        elif present == file.wanted:
            checks.append(FileCheck(file, "same"))
        elif force or (file.last_known and present == file.last):
            checks.append(FileCheck(file, "restore"))
        else:
            checks.append(FileCheck(file, "changed since", "changed since the agent's last change"))
    return checks


def restore(checks: list[FileCheck], into: Path, blobs: BlobStore) -> tuple[list[str], dict[str, str]]:
    """Write the files whose check says restore: (restored, skipped with why)."""
    restored: list[str] = []
    skipped: dict[str, str] = {}
    for item in checks:
        if item.status != "restore":
            if item.status != "same":
                skipped[item.file.path] = item.note
            continue
        target = into / item.file.path
        try:
            if item.file.wanted is None:
                target.unlink(missing_ok=True)
            else:
                _write_atomically(target, blobs.get(item.file.wanted))
        except (OSError, BlobError) as exc:
            skipped[item.file.path] = f"not written: {exc}"
            continue
        restored.append(item.file.path)
    return restored, skipped


def _digest_of(path: Path) -> str | None:
    try:
        return blob_id(path.read_bytes()) if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = target.stat().st_mode & 0o7777 if target.is_file() else 0o644
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
