"""What each Write, Edit and Bash call changed in an agent's workspace, kept so it can be put back.

Write and Edit name their file: its bytes are read before and after the call, and both go to the session's
blob store. A Bash command can change anything, so the workspace is scanned before and after it (file
sizes, times and inodes only: cheap), and every file whose signature changed is recorded with its new
bytes; its old bytes are known when this recorder kept them (an earlier change), or when git has them
(a tracked file that did not differ from HEAD before the command: every file of a fresh worktree). Each change also carries the lines added and removed against
what the file held before the agent first changed it, so a pane can show the agent's net changes by
folding the events.
"""

from __future__ import annotations

import asyncio
import difflib
import os
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.engine.workspaces.git import GitError, git, head_commit, read_at
from workbench.log.blobs import MAX_BLOB_BYTES, BlobStore, blob_id
from workbench.protocol.events import Event, FileChange, FilesChanged
from workbench.tools.base import ToolFailure, ToolOutput
from workbench.tools.read import looks_binary
from workbench.tools.sandbox import resolve_in_workspace, workspace_relative

SCAN_LIMIT = 50_000  # files a Bash scan looks at; past this, changes may go unrecorded (the event says so)
LINE_COUNT_LIMIT = 1 << 20  # larger text files are counted as changed, without lines
PATH_TOOLS = frozenset({"Write", "Edit"})
SHELL_TOOLS = frozenset({"Bash"})

Signature = tuple[int, int, int, int]  # size, mtime (ns), inode, mode


@dataclass(frozen=True)
class _Seen:
    """A file's bytes at one moment: absent (``data`` None, ``exists`` False) or too large to keep."""

    exists: bool
    data: bytes | None
    signature: Signature | None = None

    @property
    def kept(self) -> bool:
        return not self.exists or self.data is not None


@dataclass(frozen=True)
class Scan:
    files: dict[str, Signature]
    incomplete: str = ""
    head: str = ""  # the commit HEAD named when the scan was made ("" outside git)
    clean: frozenset[str] = frozenset()  # tracked files that held what HEAD holds


class FileRecorder:
    """One per session: its blob store, and what it knows of the files it has seen."""

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs
        # root → path → (signature when last recorded, blob): lets a Bash scan know a file's old bytes
        self._known: dict[str, dict[str, tuple[Signature, str]]] = {}
        self._git_roots: dict[str, bool] = {}

    def records(self, tool_name: str) -> bool:
        return tool_name in PATH_TOOLS or tool_name in SHELL_TOOLS

    async def run(
        self,
        tool_name: str,
        subject: str | None,
        root: Path,
        history: list[Event],
        run: Callable[[], Awaitable[ToolOutput]],
    ) -> tuple[ToolOutput, FilesChanged | None]:
        """Run the call; what it changed (None when nothing). ``history``: the agent's events so far."""
        if tool_name in PATH_TOOLS and subject:
            before = await asyncio.to_thread(self._look, root, subject)
            output = await run()
            if before is None:
                return output, None
            path, seen = before
            after = await asyncio.to_thread(_read, root / path)
            changed = {path: (seen, after)} if _differs(seen, after) else {}
            return output, await asyncio.to_thread(self._event, tool_name, root, changed, history, Scan({}), "")
        scan = await asyncio.to_thread(self._scan, root, True)
        output = await run()
        after_scan = await asyncio.to_thread(self._scan, root, False)
        paths = sorted(
            p for p in scan.files.keys() | after_scan.files.keys() if scan.files.get(p) != after_scan.files.get(p)
        )
        changed = await asyncio.to_thread(self._bash_changes, root, paths, scan)
        incomplete = scan.incomplete or after_scan.incomplete
        if not changed and not incomplete:
            return output, None
        event = await asyncio.to_thread(self._event, tool_name, root, changed, history, scan, incomplete)
        return output, event

    # ---------------------------------------------------------------- looking at files

    def _look(self, root: Path, subject: str) -> tuple[str, _Seen] | None:
        try:
            real = resolve_in_workspace(root, subject)
        except ToolFailure:
            return None  # the tool refuses it itself
        seen = _read(real)
        if seen.exists and seen.signature is None:
            return None  # a folder, a device: the tool refuses it
        return workspace_relative(root, real), seen

    def _bash_changes(self, root: Path, paths: list[str], before: Scan) -> dict[str, tuple[_Seen, _Seen]]:
        known = self._known.get(str(root), {})
        changed: dict[str, tuple[_Seen, _Seen]] = {}
        for path in paths:
            after = _read(root / path)
            signature = before.files.get(path)
            if signature is None:
                old = _Seen(False, None)
            elif (entry := known.get(path)) is not None and entry[0] == signature:
                old = _Seen(True, self.blobs.get(entry[1]), signature)
            else:
                old = _Seen(True, None, signature)  # its bytes are looked for in the origin, else unknown
            changed[path] = (old, after)
        return changed

    def _scan(self, root: Path, with_head: bool = False) -> Scan:
        """The signature of every file of the workspace (not git's own, nor what git ignores); ``with_head``:
        and which tracked files hold what HEAD holds."""
        files: dict[str, Signature] = {}
        listed = self._git_files(root)
        walked = list(listed) if listed is not None else _walk(root)
        incomplete = ""
        base = os.path.join(root, "")  # joined as text: a Path per file would cost more than its lstat
        for count, name in enumerate(walked):
            if count >= SCAN_LIMIT:
                incomplete = f"more than {SCAN_LIMIT:,} files: changes past those were not looked for"
                break
            try:
                info = os.lstat(base + name)
            except OSError:
                continue  # tracked but deleted
            if stat.S_ISREG(info.st_mode):  # links and folders are not files whose bytes can be put back
                files[name] = _signature(info)
        if listed is None or not with_head:
            return Scan(files, incomplete)
        head = head_commit(root)
        dirty = git(["diff", "--name-only", "-z", "--relative", "HEAD"], root).stdout if head else b""
        clean = frozenset(name for name, tracked in listed.items() if tracked) - _names(dirty)
        return Scan(files, incomplete, head, clean)

    def _git_files(self, root: Path) -> dict[str, bool] | None:
        """Files git does not ignore (name → tracked), or None outside a repository."""
        key = str(root)
        if self._git_roots.get(key) is False:
            return None
        try:
            out = git(["ls-files", "-z", "-t", "--cached", "--others", "--exclude-standard"], root).stdout
        except GitError:
            self._git_roots[key] = False
            return None
        self._git_roots[key] = True
        listed: dict[str, bool] = {}
        for entry in out.decode(errors="surrogateescape").split("\0"):
            if entry:
                tag, name = entry[:1], entry[2:]
                listed[name] = listed.get(name, False) or tag != "?"
        return listed

    # ---------------------------------------------------------------- the event

    def _event(
        self,
        tool_name: str,
        root: Path,
        changed: dict[str, tuple[_Seen, _Seen]],
        history: list[Event],
        scan: Scan,
        incomplete: str,
    ) -> FilesChanged | None:
        if not changed and not incomplete:
            return None
        first = _first_before(history, str(root))
        at_head = [path for path, (old, _) in changed.items() if old.exists and old.data is None and path in scan.clean]
        from_origin = _read_head(scan.head, at_head, root)
        known = self._known.setdefault(str(root), {})
        changes: list[FileChange] = []
        for path, (old, new) in changed.items():
            if old.exists and old.data is None and from_origin.get(path) is not None:
                old = _Seen(True, from_origin[path], old.signature)
            before = self._keep(old)
            after = self._keep(new)
            if new.exists and after is not None and new.signature is not None:
                known[path] = (new.signature, after)
            else:
                known.pop(path, None)
            start = first.get(path, (before, old.kept))
            origin_bytes = self.blobs.get(start[0]) if start[0] is not None and start[1] else None
            added, removed, binary = line_delta(origin_bytes, new.data, origin_known=start[1])
            changes.append(
                FileChange(
                    path=path,
                    before=before,
                    after=after,
                    before_known=old.kept,
                    after_known=new.kept,
                    added=added,
                    removed=removed,
                    binary=binary,
                )
            )
        return FilesChanged(tool=tool_name, root=str(root), changes=changes, incomplete=incomplete)

    def _keep(self, seen: _Seen) -> str | None:
        return self.blobs.put(seen.data) if seen.data is not None else None


def _names(out: bytes) -> frozenset[str]:
    return frozenset(name for name in out.decode(errors="surrogateescape").split("\0") if name)


def _read_head(head: str, paths: list[str], root: Path) -> dict[str, bytes | None]:
    """What ``paths`` (relative to ``root``) held in commit ``head``."""
    if not head or not paths:
        return {}
    try:
        found = read_at(head, [f"./{path}" for path in paths], root)
    except GitError:
        return {}
    return {path: found.get(f"./{path}") for path in paths}


def _first_before(history: list[Event], root: str) -> dict[str, tuple[str | None, bool]]:
    """path → what it held before the agent first changed it (blob, and whether that is known)."""
    first: dict[str, tuple[str | None, bool]] = {}
    for event in history:
        if isinstance(event, FilesChanged) and event.root == root:
            for change in event.changes:
                first.setdefault(change.path, (change.before, change.before_known))
    return first


def _signature(info: os.stat_result) -> Signature:
    return (info.st_size, info.st_mtime_ns, info.st_ino, info.st_mode)


def _read(path: Path) -> _Seen:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return _Seen(False, None)
    except OSError:
        return _Seen(True, None)
    if not stat.S_ISREG(info.st_mode):
        return _Seen(True, None)
    if info.st_size > MAX_BLOB_BYTES:
        return _Seen(True, None, _signature(info))
    try:
        return _Seen(True, path.read_bytes(), _signature(info))
    except OSError:
        return _Seen(True, None, _signature(info))


def _differs(old: _Seen, new: _Seen) -> bool:
    if old.exists != new.exists:
        return True
    if old.data is not None and new.data is not None:
        return blob_id(old.data) != blob_id(new.data)
    return old.signature != new.signature


def _walk(root: Path) -> list[str]:
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        base = Path(folder).relative_to(root)
        found.extend((base / name).as_posix() for name in files)
        if len(found) > SCAN_LIMIT:
            break
    return found


def line_delta(old: bytes | None, new: bytes | None, *, origin_known: bool = True) -> tuple[int, int, bool]:
    """Lines added and removed from ``old`` to ``new`` (None: no file), and whether either is binary."""
    if (old is not None and looks_binary(old)) or (new is not None and looks_binary(new)):
        return 0, 0, True
    if not origin_known or len(old or b"") > LINE_COUNT_LIMIT or len(new or b"") > LINE_COUNT_LIMIT:
        return 0, 0, False
    before = (old or b"").decode(errors="replace").splitlines()
    after = (new or b"").decode(errors="replace").splitlines()
    added = removed = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return added, removed, False
