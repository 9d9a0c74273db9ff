"""An agent's changes as a screen shows them: file by file, with a commit message proposed from them."""

from __future__ import annotations

import difflib
from typing import Literal

from pydantic import BaseModel

from workbench.engine.views.workspaces import AgentWorkspace
from workbench.engine.workspaces.worktrees import ChangedFile
from workbench.log.blobs import BlobError, BlobStore
from workbench.tools.read import looks_binary

FileStatus = Literal["added", "modified", "deleted"]
_STATUS: dict[str, FileStatus] = {"A": "added", "D": "deleted"}
SUBJECT_CHARS = 72


class FileDiff(BaseModel):
    path: str
    status: FileStatus
    added: int = 0
    removed: int = 0
    binary: bool = False
    patch: str = ""  # a unified diff ("" for a binary file)


class AgentDiff(BaseModel):
    agent: str
    worktree: bool  # False: the agent works in a shared folder, its changes are there already
    open: bool  # the worktree is still there: it can be merged, discarded, kept or committed
    branch: str = ""
    into: str = ""  # where a merge writes
    files: list[FileDiff] = []
    conflicts: list[str] = []
    proposed_message: str = ""

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)


def file_diff(changed: ChangedFile, patch: str) -> FileDiff:
    return FileDiff(
        path=changed.path,
        status=_STATUS.get(changed.status, "modified"),
        added=changed.added,
        removed=changed.removed,
        binary=changed.binary,
        patch="" if changed.binary else patch,
    )


def bytes_diff(path: str, old: bytes | None, new: bytes | None, added: int, removed: int) -> FileDiff:
    """A file's diff from two versions of its bytes (None: no file)."""
    status: FileStatus = "added" if old is None else "deleted" if new is None else "modified"
    if looks_binary(old or b"") or looks_binary(new or b""):
        return FileDiff(path=path, status=status, binary=True)
    lines = difflib.unified_diff(
        (old or b"").decode(errors="replace").splitlines(keepends=True),
        (new or b"").decode(errors="replace").splitlines(keepends=True),
        fromfile="/dev/null" if old is None else f"a/{path}",
        tofile="/dev/null" if new is None else f"b/{path}",
    )
    patch = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    return FileDiff(path=path, status=status, added=added, removed=removed, patch=patch)


def recorded_diff(agent: str, place: AgentWorkspace | None, blobs: BlobStore | None) -> AgentDiff:
    """The net changes the log records for an agent (a shared folder, a closed worktree, a replay), with the
    bytes from the session's blobs when there are any."""
    files: list[FileDiff] = []
    for path, change in sorted(place.files.items()) if place is not None else []:
        origin, known = place.origins.get(path, (None, True)) if place is not None else (None, True)
        try:
            old = blobs.get(origin) if blobs is not None and origin is not None and known else None
            new = blobs.get(change.after) if blobs is not None and change.after is not None else None
        except BlobError:
            old = new = None
        if blobs is None or (old is None and origin is not None) or (new is None and change.after is not None):
            status: FileStatus = "added" if origin is None else "deleted" if change.after is None else "modified"
            files.append(FileDiff(path=path, status=status, added=change.added, removed=change.removed))
        else:
            files.append(bytes_diff(path, old, new, change.added, change.removed))
    created = place.worktree if place is not None else None
    return AgentDiff(
        agent=agent,
        worktree=created is not None,
        open=False,
        branch=created.branch if created is not None else "",
        files=files,
    )


def propose_message(files: list[FileDiff], agent: str, task: str) -> str:
    """A subject that says what changed, then the agent's task and the files, for the user to edit."""
    verbs = {"added": "Add", "deleted": "Delete", "modified": "Update"}
    kinds = {f.status for f in files}
    verb = verbs[next(iter(kinds))] if len(kinds) == 1 else "Change"
    names = [f.path.rsplit("/", 1)[-1] for f in files]
    subject = f"{verb} {', '.join(names)}" if names else f"Work of {agent}"
    if len(subject) > SUBJECT_CHARS:
        subject = f"{verb} {len(files)} files: {names[0]}, …"
    lines = [f"- {f.path} ({'binary' if f.binary else f'+{f.added} -{f.removed}'})" for f in files]
    task_line = " ".join(task.split())[:200]
    body = f"Done by {agent}" + (f": {task_line}" if task_line else "") + "\n\n" + "\n".join(lines)
    return f"{subject}\n\n{body}".strip()
