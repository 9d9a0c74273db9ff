"""Confine tool paths to the workspace: every file a tool touches must lie inside it.

``resolve_in_workspace`` says where a path leads (the permission rules and
messages use it). Tools do not open what it returns: between a check and an
open, a folder can be swapped for a symlink. They open through
:func:`open_file` and :func:`open_folder`, which walk the path one component
at a time from a descriptor of the workspace, each step opened with
``O_NOFOLLOW`` relative to the last, and follow a symlink only by reading it
and walking its target the same way — so whatever is swapped in, a read or a
write never lands outside. Only regular files are opened (a FIFO would block,
a device is nobody's text), never blocking on the open; a file with other
hard links outside the workspace is not written through.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from workbench.tools.base import ToolFailure

MAX_SYMLINKS = 40  # what the kernel allows in one resolution
MAX_RETRIES = 100  # a component that keeps changing under us
# how far the hard-link check looks for a file's other names
MAX_LINK_SEARCH_ENTRIES = 200_000
SKIP_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__"})

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class PathOutsideWorkspace(ToolFailure):
    """A path (after ``..`` and symlinks are resolved) leads outside the workspace."""


class NotRegularFile(ToolFailure):
    """A FIFO, socket or device: tools read and write regular files only."""


class FileMissing(ToolFailure):
    """Nothing by that name (yet)."""


class NotAFolder(ToolFailure):
    pass


def _no_nul(value: str) -> str:
    if "\0" in value:
        raise ValueError("the path contains a NUL byte, which no file name can hold")
    return value


# a path field of a tool's input: a NUL byte is refused when the call is validated, as bad input
WorkspacePath = Annotated[str, AfterValidator(_no_nul)]


def check_path(path: str) -> str:
    """A path a tool may be given: refuses a NUL byte (no file name can hold one) with a clear message."""
    if "\0" in path:
        raise ToolFailure(f"Refused: the path {path!r} contains a NUL byte, which no file name can hold")
    return path


def resolve_in_workspace(workspace: Path, path: str) -> Path:
    """The real location of ``path`` (relative to the workspace, or absolute inside it).

    Symlinks are resolved all along the chain, including a final one and one
    that dangles, so a link inside the workspace cannot lead a tool outside it.
    Paths that do not exist yet resolve too (Write creates files).
    """
    check_path(path)
    root = workspace.resolve()
    given = Path(path).expanduser()
    try:
        real = (root / given).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise ToolFailure(f"Cannot resolve {path!r}: {exc}") from exc
    if not real.is_relative_to(root):
        raise PathOutsideWorkspace(f"Refused: {path!r} is outside the workspace {root}")
    return real


def workspace_relative(workspace: Path, real: Path) -> str:
    """How messages name a resolved path: relative to the workspace, '/'-separated."""
    return real.relative_to(workspace.resolve()).as_posix()


# --- opening without a check-then-use gap --------------------------------------------------------


@dataclass
class Opened:
    """An open regular file of the workspace; ``shown`` is its workspace-relative path."""

    fd: int
    shown: str
    created: bool = False
    size: int = 0

    def read(self) -> bytes:
        chunks = []
        while chunk := os.read(self.fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)

    def replace_content(self, data: bytes) -> None:
        os.lseek(self.fd, 0, os.SEEK_SET)
        os.ftruncate(self.fd, 0)
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]


@contextmanager
def open_file(workspace: Path, path: str, *, write: bool = False, create: bool = False) -> Iterator[Opened]:
    """Open the regular file ``path`` of the workspace (read-only, or read-write; ``create`` makes it and
    missing folders). Refuses paths leading outside, folders, special files, and — for writing — a file
    with hard links outside the workspace."""
    with _Walk(workspace, path) as walk:
        parent, leaf = walk.to_leaf(make_folders=create)
        if leaf is None:
            raise ToolFailure(f"{path} is a directory, not a file; use Glob to list its files")
        opened = walk.open_leaf(parent, leaf, write=write, create=create)
    try:
        if write:
            _refuse_outside_hard_links(workspace, opened)
        yield opened
    finally:
        os.close(opened.fd)


@contextmanager
def open_folder(workspace: Path, path: str) -> Iterator[tuple[int, str]]:
    """A descriptor of the folder ``path`` of the workspace, and its workspace-relative name ('' for the root)."""
    with _Walk(workspace, path) as walk:
        parent, leaf = walk.to_leaf(make_folders=False)
        fd = walk.open_folder(parent, leaf)
        shown = walk.shown
    try:
        yield fd, shown
    finally:
        os.close(fd)


def describe_special(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


class _Walk:
    """One resolution of a path from the workspace's descriptor, component by component."""

    def __init__(self, workspace: Path, path: str) -> None:
        self.path = check_path(path)
        self.workspace = workspace
        self.roots = _root_spellings(workspace)
        self.stack: list[int] = []
        self.names: list[str] = []
        self.links = 0

    def __enter__(self) -> _Walk:
        try:
            self.stack.append(os.open(self.roots[-1], _DIR_FLAGS))
        except OSError as exc:
            raise ToolFailure(f"Cannot open the workspace {self.workspace}: {exc.strerror}") from None
        self.pending = self._start(self.path)
        return self

    def __exit__(self, *exc: object) -> None:
        for fd in self.stack:
            os.close(fd)

    @property
    def shown(self) -> str:
        return "/".join(self.names)

    def _start(self, path: str) -> list[str]:
        """The components to walk from the workspace root; an absolute path must name a place inside it."""
        given = os.path.expanduser(path)
        if not os.path.isabs(given):
            return given.split("/")
        for root in self.roots:
            if given == root or given.startswith(root.rstrip("/") + "/"):
                return given[len(root) :].split("/")
        # a path outside as written may still lead inside through links above the workspace
        real = os.path.realpath(given)
        for root in self.roots:
            if real == root or real.startswith(root.rstrip("/") + "/"):
                return real[len(root) :].split("/")
        raise PathOutsideWorkspace(f"Refused: {path!r} is outside the workspace {self.roots[-1]}")

    def _follow(self, link_name: str, dir_fd: int) -> bool:
        """Replace the symlink ``link_name`` by its target in the walk; False when it is no longer a link."""
        try:
            target = os.readlink(link_name, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # swapped back to a non-link: look again
                return False
            raise
        self.links += 1
        if self.links > MAX_SYMLINKS:
            raise ToolFailure(f"Cannot resolve {self.path!r}: too many levels of symbolic links")
        if os.path.isabs(target):
            for root in self.roots:
                if target == root or target.startswith(root.rstrip("/") + "/"):
                    self._back_to_root()
                    self.pending = target[len(root) :].split("/") + self.pending
                    return True
            raise PathOutsideWorkspace(
                f"Refused: {self.path!r} is outside the workspace {self.roots[-1]} (a symlink leads there)"
            )
        self.pending = target.split("/") + self.pending
        return True

    def _back_to_root(self) -> None:
        while len(self.stack) > 1:
            os.close(self.stack.pop())
        self.names.clear()

    def to_leaf(self, *, make_folders: bool) -> tuple[int, str | None]:
        """Walk every folder of the path; returns (the folder's descriptor, the last name) — None when the
        path names a folder itself (``.``, ``a/..``)."""
        retries = 0
        while self.pending:
            part = self.pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if len(self.stack) == 1:
                    raise PathOutsideWorkspace(f"Refused: {self.path!r} is outside the workspace {self.roots[-1]}")
                os.close(self.stack.pop())
                self.names.pop()
                continue
            if all(rest in ("", ".") for rest in self.pending):
                self.pending.clear()  # "dir/" names dir: the caller opens it as a file or a folder
                return self.stack[-1], part
            try:
                fd = os.open(part, _DIR_FLAGS, dir_fd=self.stack[-1])
            except OSError as exc:
                retries += 1
                if retries > MAX_RETRIES:
                    raise ToolFailure(f"Cannot resolve {self.path!r}: it keeps changing") from None
                self._step_failed(part, exc, make_folders)
                continue
            self.stack.append(fd)
            self.names.append(part)
        return self.stack[-1], None

    def _step_failed(self, part: str, exc: OSError, make_folders: bool) -> None:
        """A folder component that did not open: a symlink to follow, a folder to make, or a clear failure."""
        here = self.stack[-1]
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            if _is_symlink(part, here):
                if not self._follow(part, here):
                    self.pending.insert(0, part)
                return
            if exc.errno == errno.ENOTDIR:
                raise NotAFolder(f"Cannot use {self.path!r}: {'/'.join([*self.names, part])} is not a folder")
        if exc.errno == errno.ENOENT and make_folders:
            try:
                os.mkdir(part, mode=0o777, dir_fd=here)
            except FileExistsError:
                pass
            self.pending.insert(0, part)
            return
        if exc.errno == errno.ENOENT:
            raise FileMissing(f"File not found: {self.path}")
        raise ToolFailure(f"Cannot open {self.path!r}: {exc.strerror}")

    def open_leaf(self, parent: int, leaf: str, *, write: bool, create: bool) -> Opened:
        flags = (os.O_RDWR if write else os.O_RDONLY) | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        for _ in range(MAX_RETRIES):
            created = False
            try:
                fd = os.open(leaf, flags, dir_fd=parent)
            except FileNotFoundError:
                if not create:
                    raise FileMissing(f"File not found: {self.path}") from None
                try:
                    fd = os.open(leaf, flags | os.O_CREAT | os.O_EXCL, 0o666, dir_fd=parent)
                    created = True
                except FileExistsError:
                    continue  # something appeared there: look again
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.EMLINK) and _is_symlink(leaf, parent):
                    if self._follow(leaf, parent):
                        parent, next_leaf = self.to_leaf(make_folders=create)
                        if next_leaf is None:
                            raise ToolFailure(
                                f"{self.path} is a directory, not a file; use Glob to list its files"
                            ) from None
                        leaf = next_leaf
                    continue
                raise self._leaf_failure(leaf, parent, exc) from None
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                os.close(fd)
                shown = "/".join([*self.names, leaf])
                if stat.S_ISDIR(info.st_mode):
                    raise ToolFailure(f"{shown} is a directory, not a file; use Glob to list its files")
                raise NotRegularFile(
                    f"Refused: {shown} is {describe_special(info.st_mode)}; the file tools read and write regular files only"
                )
            os.set_blocking(fd, True)
            return Opened(fd=fd, shown="/".join([*self.names, leaf]), created=created, size=info.st_size)
        raise ToolFailure(f"Cannot open {self.path!r}: it keeps changing")

    def _leaf_failure(self, leaf: str, parent: int, exc: OSError) -> ToolFailure:
        shown = "/".join([*self.names, leaf])
        if exc.errno == errno.EISDIR:
            return ToolFailure(f"{shown} is a directory; give the path of a file inside it")
        if exc.errno == errno.ENXIO:  # a FIFO with no reader, opened for writing
            return NotRegularFile(f"Refused: {shown} is a FIFO (named pipe); the file tools write regular files only")
        try:
            info = os.stat(leaf, dir_fd=parent, follow_symlinks=False)
        except OSError:
            return ToolFailure(f"Cannot open {shown}: {exc.strerror}")
        if not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode):
            return NotRegularFile(f"Refused: {shown} is {describe_special(info.st_mode)}")
        return ToolFailure(f"Cannot open {shown}: {exc.strerror}")

    def open_folder(self, parent: int, leaf: str | None) -> int:
        if leaf is None:
            return os.dup(parent)
        for _ in range(MAX_RETRIES):
            try:
                fd = os.open(leaf, _DIR_FLAGS, dir_fd=parent)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK) and _is_symlink(leaf, parent):
                    if self._follow(leaf, parent):
                        parent, next_leaf = self.to_leaf(make_folders=False)
                        if next_leaf is None:
                            return os.dup(parent)
                        leaf = next_leaf
                    continue
                if exc.errno == errno.ENOENT:
                    raise ToolFailure(f"Path not found: {self.path}") from None
                if exc.errno == errno.ENOTDIR:
                    raise NotAFolder(f"{self.path} is not a folder") from None
                raise ToolFailure(f"Cannot open {self.path!r}: {exc.strerror}") from None
            self.names.append(leaf)
            return fd
        raise ToolFailure(f"Cannot open {self.path!r}: it keeps changing")


def _root_spellings(workspace: Path) -> list[str]:
    """The workspace as given (absolute) and as its real path; the real one last (it is opened)."""
    real = os.path.realpath(workspace)
    given = os.path.abspath(workspace)
    return [given, real] if given != real else [real]


def _is_symlink(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _refuse_outside_hard_links(workspace: Path, opened: Opened) -> None:
    """Writing through a hard link changes every name of the file: refused when one is outside the workspace."""
    info = os.fstat(opened.fd)
    if info.st_nlink <= 1:
        return
    found = 0
    seen = 0
    for _, _, files, dir_fd in os.fwalk(os.path.realpath(workspace), follow_symlinks=False):
        for name in files:
            seen += 1
            try:
                other = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except OSError:
                continue
            found += (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino)
        if found >= info.st_nlink or seen > MAX_LINK_SEARCH_ENTRIES:
            break
    if found < info.st_nlink:
        raise ToolFailure(
            f"Refused: {opened.shown} is a hard link ({info.st_nlink} names) to a file that also lives outside "
            "the workspace; writing through it would change that file too. Copy it to a fresh file first."
        )


@dataclass(frozen=True)
class FoundFile:
    """A file met while walking a folder: its path relative to the folder walked, and how to open it."""

    relative: str
    name: str
    dir_fd: int
    is_link: bool


def walk_files(folder_fd: int) -> Iterator[FoundFile]:
    """Every file name under the folder (symlinks included, special files not), skipping VCS, virtualenv and
    cache folders; folders are opened by descriptor without following links, so none can be swapped in."""
    for folder, dirs, files, dir_fd in os.fwalk(".", dir_fd=folder_fd, follow_symlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        prefix = "" if folder == "." else folder.removeprefix("./") + "/"
        for name in sorted(files):
            try:
                mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
            except OSError:
                continue
            if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
                yield FoundFile(relative=prefix + name, name=name, dir_fd=dir_fd, is_link=stat.S_ISLNK(mode))


def read_found(workspace: Path, shown: str, found: FoundFile) -> bytes | None:
    """The bytes of a file met in a walk: a symlink is followed only inside the workspace; None when it
    cannot be read as a regular file (a special file, a link outside, a file gone since)."""
    if found.is_link:
        try:
            with open_file(workspace, shown) as opened:
                return opened.read()
        except ToolFailure:
            return None
    try:
        fd = os.open(found.name, _READ_FLAGS, dir_fd=found.dir_fd)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        os.set_blocking(fd, True)
        return Opened(fd=fd, shown=shown).read()
    finally:
        os.close(fd)
