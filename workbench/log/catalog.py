"""The catalog: the sessions of a store as the user sees them — listed, filtered, renamed, deleted.

Listing reads only each session's ``meta.json`` (rebuilt from the log when it
is stale). A title the user sets lives in ``title.txt`` beside the log: it is
not derived from the log, so no rebuild of ``meta.json`` can lose it.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from workbench.log.bundle import (
    EVENTS_FILE,
    META_FILE,
    BundleError,
    BundleStore,
    SessionNotFound,
    write_private_file,
)
from workbench.log.meta import SessionMeta
from workbench.log.redact import redact
from workbench.log.session_lock import LockHolder, SessionLocked, lock_holder

TITLE_FILE = "title.txt"
MAX_TITLE_CHARS = 200


class SessionFilter(BaseModel):
    """Which sessions to show: created within ``[since, until)``, model containing ``model``."""

    since: datetime | None = None
    until: datetime | None = None
    model: str | None = None

    def admits(self, meta: SessionMeta) -> bool:
        when = meta.created or meta.updated
        if self.since is not None and (when is None or when < self.since):
            return False
        if self.until is not None and (when is None or when >= self.until):
            return False
        return self.model is None or self.model.lower() in meta.model.lower()


class SessionEntry(BaseModel):
    meta: SessionMeta
    # the live process writing it, if any: such a session opens read-only
    holder: LockHolder | None = None


def user_title(folder: Path) -> str:
    try:
        return (folder / TITLE_FILE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return ""


def _fresh_entry(folder: Path) -> SessionEntry | None:
    """The entry from ``meta.json`` when it describes the log as it is now; None when stale."""
    try:
        size = (folder / EVENTS_FILE).stat().st_size
        meta = SessionMeta.model_validate_json((folder / META_FILE).read_bytes())
    except (OSError, ValidationError):
        return None
    if not meta.describes(size):
        return None
    return SessionEntry(meta=meta, holder=lock_holder(folder))


def _read_fresh(store: BundleStore, session_ids: list[str]) -> list[SessionEntry | None]:
    return [_fresh_entry(store.folder(i)) for i in session_ids]


def _empty(entry: SessionEntry) -> bool:
    """Opened and closed without a prompt: every app start makes one, and nobody wants to see them."""
    return not entry.meta.title and entry.holder is None and len(entry.meta.agents) <= 1


async def list_sessions(
    store: BundleStore, where: SessionFilter | None = None, *, include_empty: bool = False
) -> list[SessionEntry]:
    """Every session (newest first) that ``where`` admits, with user titles applied.

    Sessions where nothing was ever asked are left out unless ``include_empty``.
    """
    ids = store.session_ids()
    # one thread hop for all the small files: a thousand sessions fit the 0.5 s budget this way
    entries = await asyncio.to_thread(_read_fresh, store, ids)
    listed: list[SessionEntry] = []
    for session_id, entry in zip(ids, entries):
        if entry is None:
            folder = store.folder(session_id)
            entry = SessionEntry(meta=await store.meta(session_id), holder=lock_holder(folder))
        if where is not None and not where.admits(entry.meta):
            continue
        title = user_title(store.folder(session_id))
        if title:
            entry.meta.title = title
        if include_empty or not _empty(entry):
            listed.append(entry)
    return listed


async def rename(store: BundleStore, session_id: str, title: str) -> str:
    """Set the session's title (an empty title goes back to the derived one); returns it."""
    folder = _session_folder(store, session_id)
    title = redact(" ".join(title.split()))[:MAX_TITLE_CHARS]
    path = folder / TITLE_FILE
    if not title:
        path.unlink(missing_ok=True)
        return (await store.meta(session_id)).title
    await asyncio.to_thread(write_private_file, path, title + "\n")
    return title


async def delete(store: BundleStore, session_id: str) -> Path:
    """Remove one session's folder, and nothing else; refused while a live process writes it."""
    folder = _session_folder(store, session_id)
    holder = lock_holder(folder)
    if holder is not None:
        raise SessionLocked(folder, holder)
    await asyncio.to_thread(shutil.rmtree, folder)
    return folder


def _session_folder(store: BundleStore, session_id: str) -> Path:
    """The folder of ``session_id``, refusing any name that could reach outside the store."""
    if not session_id or session_id in (".", "..") or any(c in session_id for c in "/\\\0"):
        raise BundleError(f"'{session_id}' is not a session id")
    folder = store.folder(session_id)
    if folder.is_symlink() or folder.resolve().parent != store.root.resolve():
        raise BundleError(f"refused: {folder} is not a session folder of the store {store.root}")
    if not (folder / EVENTS_FILE).is_file():
        raise SessionNotFound(f"no session '{session_id}' in {store.root}")
    return folder
