"""Rewind of files: what an agent's files held at a point of its session, and putting them back.

Every change the log records (``files_changed``) names the bytes before and after as blobs. A file's state
at seq N is the ``after`` of its last change at or before N, or else the ``before`` of its first change
after N. Restoring writes those bytes (deleting files that did not exist yet), and refuses a file whose
present bytes are none of the versions the log records: someone changed it since, and that is only
overwritten when the user says so (a recorded version can be overwritten: it stays in the blob store).
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
    versions: frozenset[str | None]  # every version of it the log records (None: no file)


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
    states: dict[str, tuple[str | None, bool]] = {}
    versions: dict[str, set[str | None]] = {}
    for event in events:
        if not (isinstance(event, FilesChanged) and event.agent in family and event.root == root):
            continue
        for change in event.changes:
            seen = versions.setdefault(change.path, set())
            seen.update(
                v for v, known in ((change.before, change.before_known), (change.after, change.after_known)) if known
            )
            if event.seq <= up_to_seq:
                states[change.path] = (change.after, change.after_known)
            elif change.path not in states:
                states[change.path] = (change.before, change.before_known)
    return [FileAt(path, *states[path], frozenset(versions[path])) for path in sorted(states)]


def check(files: list[FileAt], into: Path, *, force: bool = False) -> list[FileCheck]:
    """What restoring each file into ``into`` would do."""
    checks: list[FileCheck] = []
    for file in files:
        present = _digest_of(into / file.path)
        if not file.wanted_known:
            checks.append(FileCheck(file, "unknown", "what it held then was not recorded (changed by a command)"))
        elif present == file.wanted:
            checks.append(FileCheck(file, "same"))
        elif force or present in file.versions:
            checks.append(FileCheck(file, "restore"))
        else:
            checks.append(FileCheck(file, "changed since", "changed since: the log has no copy of what it holds"))
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
