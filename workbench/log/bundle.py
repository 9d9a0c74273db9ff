"""The bundle: a session's append-only event log on disk.

``BundleWriter`` serialises every append of a session through one task;
``BundleReader`` reads a log back, reporting and skipping what it cannot read;
``BundleStore`` finds, creates and lists sessions in a store folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import aiofiles
import aiofiles.os

from workbench.log.gc_pause import gc_paused
from workbench.log.meta import SessionMeta
from workbench.log.redact import Redactor
from workbench.log.session_lock import SessionLock
from workbench.protocol.events import Event, UnwritableEvent, as_utc, decode_event, encoded
from workbench.protocol.json_line import UnreadableLine

FsyncPolicy = Literal["always", "interval", "never"]

EVENTS_FILE = "events.jsonl"
META_FILE = "meta.json"
FILE_MODE = 0o600
DIR_MODE = 0o700
TEMP_SUFFIX = ".tmp"

log = logging.getLogger(__name__)


class BundleError(Exception):
    """A bundle operation failed in a way the user should be told about."""


class SessionNotFound(BundleError):
    pass


class AmbiguousSession(BundleError):
    pass


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class ReadProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(repr=False)
class BundleContents:
    events: list[Event] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)
    size: int = 0

    def __repr__(self) -> str:
        # asyncio formats task results with repr(); a 100k-event repr costs seconds
        return f"BundleContents({len(self.events)} events, {len(self.problems)} problems, {self.size} bytes)"


def parse_bundle(data: bytes) -> BundleContents:
    """Every readable event of a log; each unreadable line is reported, never fatal."""
    contents = BundleContents(size=len(data))
    with gc_paused():
        _parse_lines(data.split(b"\n"), contents)
    return contents


def _parse_lines(lines: list[bytes], contents: BundleContents) -> None:
    torn_tail = lines[-1] != b""
    if not torn_tail:
        lines.pop()
    last = len(lines)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            if number != last or not torn_tail:
                contents.problems.append(ReadProblem(number, "blank line"))
            continue
        try:
            contents.events.append(decode_event(line))
        except UnreadableLine as exc:
            reason = str(exc)
            if number == last and torn_tail:
                reason = f"torn last line, probably a crash mid-write ({reason})"
            contents.problems.append(ReadProblem(number, reason))


class BundleReader:
    """Reads one session's log, tolerating torn and corrupt lines."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def read(self) -> BundleContents:
        try:
            async with aiofiles.open(self.path, "rb") as f:
                data = await f.read()
        except FileNotFoundError:
            raise SessionNotFound(f"no event log at {self.path}") from None
        return parse_bundle(data)


# ---------------------------------------------------------------- writing


class _Close:
    pass


_CLOSE = _Close()


@dataclass
class _Pending:
    event: Event
    line: str
    future: asyncio.Future[Event]


class BundleWriter:
    """The one task that appends a session's events, in order.

    ``submit`` stamps the event with the session, the next ``seq`` and the time,
    encodes it, and returns a future that resolves once the line is written and
    flushed (and fsynced, per policy). ``on_written`` is called in ``seq`` order
    right after the acknowledgement: it is how events reach the bus.

    Nothing an event holds and no failure of the disk stops the writer: an event
    that cannot be encoded is refused by its ``submit`` (no seq is spent on it), and
    a write that fails (disk full, read-only) fails its appends and every later one
    with a BundleError saying why.
    """

    def __init__(
        self,
        folder: Path,
        session_id: str,
        *,
        fsync: FsyncPolicy = "interval",
        fsync_interval_s: float = 1.0,
        redactor: Redactor | None = None,
        on_written: Callable[[Event], None] | None = None,
        clock: Callable[[], datetime] | None = None,
        meta: SessionMeta | None = None,
    ) -> None:
        self.folder = folder
        self.session_id = session_id
        self.fsync = fsync
        self.fsync_interval_s = fsync_interval_s
        self.redact = redactor or Redactor()
        self.on_written = on_written
        self.clock = clock
        self.meta = meta or SessionMeta.new(session_id)
        self.last_seq = self.meta.last_seq
        self._queue: asyncio.Queue[_Pending | _Close] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None
        self._last_fsync = time.monotonic()
        self._last_meta = time.monotonic()
        self._lock = SessionLock(folder)

    @property
    def path(self) -> Path:
        return self.folder / EVENTS_FILE

    @property
    def failure(self) -> str | None:
        """Why the log can no longer be written, once a write has failed."""
        return None if self._failure is None else _reason(self._failure)

    async def start(self) -> None:
        await _make_private_dir(self.folder)
        # raises SessionLocked while another live process writes here; only the holder may cut a torn tail
        self._lock.acquire()
        try:
            await asyncio.to_thread(remove_leftovers, self.folder)
            await _drop_torn_tail(self.path)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
            self.meta.bytes = os.fstat(fd).st_size
            os.close(fd)
            self._file = await aiofiles.open(self.path, "a", encoding="utf-8")
        except BaseException:
            self._lock.release()
            raise
        self._task = asyncio.create_task(self._run(), name=f"bundle-writer-{self.session_id}")

    def submit(self, event: Event) -> asyncio.Future[Event]:
        if self._failure is not None:
            raise BundleError(f"the bundle {self.path} can no longer be written: {_reason(self._failure)}")
        if self._task is None or self._task.done():
            raise BundleError("the bundle writer is not running")
        update: dict[str, object] = {"seq": self.last_seq + 1, "session": self.session_id}
        if self.clock is not None:
            update["ts"] = self.clock()
        try:
            stamped, line = encoded(event.model_copy(update=update))
        except UnwritableEvent as exc:
            raise BundleError(f"not written to {self.path}: {exc}") from None
        self.last_seq += 1
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(stamped, self.redact(line), future))
        return future

    async def append(self, event: Event) -> Event:
        return await self.submit(event)

    async def close(self) -> None:
        """Write what is queued, then let go of the log. Never raises: what failed was said by the appends."""
        if self._task is None:
            return
        self._queue.put_nowait(_CLOSE)
        await asyncio.wait([self._task])
        self._task = None
        try:
            if self.fsync != "never" and self._failure is None:
                # the last batches may have come inside the interval: what was acknowledged reaches the disk
                await asyncio.to_thread(os.fsync, self._file.fileno())
            await self._file.close()
        except OSError as exc:  # the file is closed all the same
            self._failure = self._failure or exc
            log.warning("closing %s failed: %s", self.path, exc)
        finally:
            await self._write_meta()
            self._lock.release()

    async def _run(self) -> None:
        try:
            await self._serve()
        except BaseException as exc:
            # stopped (the loop shuts down without close()) or a bug: nobody may wait forever on an append
            if isinstance(exc, asyncio.CancelledError):
                self._failure = self._failure or RuntimeError("the writer was stopped")
            else:
                self._failure = self._failure or exc
                log.error("the writer of %s stopped", self.path, exc_info=exc)
            why = _reason(self._failure)
            while not self._queue.empty():
                item = self._queue.get_nowait()
                if isinstance(item, _Pending) and not item.future.done():
                    item.future.set_exception(BundleError(f"not written to {self.path}: {why}"))
            if not isinstance(exc, Exception):
                raise

    async def _serve(self) -> None:
        closing = False
        while not closing:
            batch: list[_Pending] = []
            item = await self._queue.get()
            while True:
                if isinstance(item, _Close):
                    closing = True
                    break
                batch.append(item)
                if self._queue.empty() or len(batch) >= 2048:
                    break
                item = self._queue.get_nowait()
            if batch:
                await self._write(batch, final=closing)

    async def _write(self, batch: list[_Pending], final: bool) -> None:
        if self._failure is not None:  # an earlier write failed: the log may end mid-line, nothing goes after it
            self._fail(batch, self._failure)
            return
        data = "".join(item.line + "\n" for item in batch)
        try:
            await self._file.write(data)
            await self._file.flush()
            now = time.monotonic()
            if self.fsync == "always" or (
                self.fsync == "interval" and (final or now - self._last_fsync >= self.fsync_interval_s)
            ):
                await asyncio.to_thread(os.fsync, self._file.fileno())
                self._last_fsync = now
        except OSError as exc:
            self._failure = exc
            self._fail(batch, exc)
            return
        self.meta.bytes += len(data.encode("utf-8"))
        for item in batch:
            self.meta.observe(item.event)
            if not item.future.done():
                item.future.set_result(item.event)
            if self.on_written is not None:
                self.on_written(item.event)
        if now - self._last_meta >= 2.0:
            self._last_meta = now
            await self._write_meta()

    def _fail(self, batch: list[_Pending], failure: BaseException) -> None:
        for item in batch:
            if not item.future.done():
                item.future.set_exception(BundleError(f"could not write {self.path}: {_reason(failure)}"))

    async def _write_meta(self) -> None:
        """meta.json is derived from the log: when it cannot be written, readers rebuild it."""
        try:
            await write_meta(self.folder, self.meta)
        except OSError as exc:
            log.warning("could not write the summary of %s: %s", self.folder, _reason(exc))


def _reason(exc: BaseException) -> str:
    """An error as a person reads it: ``No space left on device`` rather than ``[Errno 28] …: '/path'``."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


async def _make_private_dir(folder: Path) -> None:
    """Create ``folder`` (and its parents) private to the user; a folder that already exists is left as it
    is — it may be shared (``/tmp``), and its mode is its owner's business."""
    if folder.is_dir():
        return
    await aiofiles.os.makedirs(folder.parent, exist_ok=True)
    try:
        os.mkdir(folder, DIR_MODE)
    except FileExistsError:
        if not folder.is_dir():
            raise BundleError(f"{folder} exists and is not a folder") from None
        return
    os.chmod(folder, DIR_MODE)  # mkdir's mode is cut by the umask


def _is_shared(info: os.stat_result) -> bool:
    """Writable by others, sticky like /tmp, or someone else's: not a place to keep sessions in directly."""
    return bool(info.st_mode & (stat.S_IWOTH | stat.S_ISVTX)) or info.st_uid != os.getuid()


def private_root(root: Path) -> Path:
    """Where a store given as ``root`` keeps its sessions: ``root`` itself, or — when ``root`` is a shared
    folder — a private subfolder of it, ``workbench-<uid>``, the same one every time."""
    try:
        info = os.stat(root)
    except OSError:
        return root
    if not stat.S_ISDIR(info.st_mode) or not _is_shared(info):
        return root
    own = root / f"workbench-{os.getuid()}"
    try:
        mine = os.lstat(own)
    except FileNotFoundError:
        return own
    if not stat.S_ISDIR(mine.st_mode) or _is_shared(mine) or mine.st_mode & (stat.S_IWGRP | stat.S_IRWXO):
        raise BundleError(
            f"{root} is a shared folder and {own}, where this user's sessions would go, is not a private folder "
            "of yours: remove it, or give --bundles a folder of your own"
        )
    return own


async def _drop_torn_tail(path: Path) -> None:
    """Cut an unacknowledged partial line left by a crash, so appends start clean."""
    try:
        async with aiofiles.open(path, "rb") as f:
            data = await f.read()
    except FileNotFoundError:
        return
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        await asyncio.to_thread(os.truncate, path, keep)


async def write_meta(folder: Path, meta: SessionMeta) -> None:
    await asyncio.to_thread(write_private_file, folder / META_FILE, meta.model_dump_json(indent=2))


def write_private_file(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` at once (a temporary file renamed into place), mode 0600.

    The temporary file is named for this process (see ``remove_leftovers``) and removed
    again when anything fails, the disk being full or read-only for instance.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_leftovers(folder: Path) -> int:
    """Remove the temporary files of ``write_private_file`` whose process is gone (killed mid-write).

    Returns how many were removed. Those of live processes, this one included, are theirs to finish.
    """
    removed = 0
    try:
        names = [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(TEMP_SUFFIX)]
    except OSError:
        return 0
    for path in names:
        owner = path.name.removesuffix(TEMP_SUFFIX).split(".")
        pid = next((int(part) for part in owner if part.isdigit()), None)
        if pid is None or _alive(pid):
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


# ---------------------------------------------------------------- the store


def default_store_root(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("WORKBENCH_BUNDLES"):
        return Path(env["WORKBENCH_BUNDLES"]).expanduser()
    data_home = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "workbench" / "bundles"


def new_session_id(now: datetime | None = None, suffix: str | None = None) -> str:
    """A session id that sorts by creation time: ``20261121T153002Z-7f3a``."""
    now = as_utc(now or datetime.now(UTC))
    return f"{now.year:04d}{now:%m%dT%H%M%SZ}-{suffix or secrets.token_hex(2)}"


class BundleStore:
    """A folder of sessions, one sub-folder each."""

    def __init__(self, root: Path) -> None:
        self.root = private_root(root)

    def folder(self, session_id: str) -> Path:
        return self.root / session_id

    async def create(self, session_id: str | None = None) -> str:
        await _make_private_dir(self.root)
        session_id = session_id or new_session_id()
        while (self.root / session_id).exists():
            session_id = new_session_id()
        await _make_private_dir(self.folder(session_id))
        return session_id

    def remove_leftovers(self) -> int:
        """Remove what killed writers left in every session (see ``remove_leftovers``); how many files."""
        if not self.root.is_dir():
            return 0
        return sum(remove_leftovers(folder) for folder in self.root.iterdir() if folder.is_dir())

    def session_ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        ids = [p.name for p in self.root.iterdir() if (p / EVENTS_FILE).is_file()]
        return sorted(ids, reverse=True)

    def resolve(self, id_or_prefix: str) -> str:
        """The one session whose id is, or starts with, the given text."""
        ids = self.session_ids()
        if id_or_prefix in ids:
            return id_or_prefix
        matches = [i for i in ids if i.startswith(id_or_prefix)]
        if not matches:
            raise SessionNotFound(f"no session matches '{id_or_prefix}' in {self.root}")
        if len(matches) > 1:
            shown = ", ".join(matches[:5]) + (" …" if len(matches) > 5 else "")
            raise AmbiguousSession(f"'{id_or_prefix}' matches {len(matches)} sessions: {shown}")
        return matches[0]

    async def read(self, session_id: str) -> BundleContents:
        return await BundleReader(self.folder(session_id) / EVENTS_FILE).read()

    async def meta(self, session_id: str) -> SessionMeta:
        """The session's summary; rebuilt from the log when missing, corrupt or stale."""
        folder = self.folder(session_id)
        size = (folder / EVENTS_FILE).stat().st_size
        try:
            async with aiofiles.open(folder / META_FILE, encoding="utf-8") as f:
                meta = SessionMeta.model_validate_json(await f.read())
            if meta.describes(size):
                return meta
        except (OSError, ValueError):
            pass
        contents = await self.read(session_id)
        meta = SessionMeta.rebuild(session_id, contents.events, size=contents.size)
        try:
            await write_meta(folder, meta)
        except OSError:  # a read-only store: the summary is rebuilt on every read instead
            pass
        return meta

    async def list(self) -> list[SessionMeta]:
        """Every session, newest first."""
        return [await self.meta(i) for i in self.session_ids()]
