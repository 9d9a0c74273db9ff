"""What every importer shares: tolerant line reading, numbering events, writing the session, the account.

An imported session names its origin in ``session_started.source``, so importing
the same source again finds it: unchanged, it is left as it is; changed (the
conversation went on in the other tool, or this version imports more of it), its
log is replaced in place; continued in Workbench since the import, it is kept.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import aiofiles
from pydantic import BaseModel, Field

from workbench.log.bundle import EVENTS_FILE, META_FILE, BundleStore, BundleWriter, new_session_id
from workbench.log.redact import Redactor
from workbench.log.session_lock import SessionLock, SessionLocked
from workbench.protocol.events import (
    AgentSpawned,
    AssistantMessage,
    Compaction,
    Event,
    Primed,
    SessionStarted,
    Status,
    ToolCall,
    ToolResult,
    UserMessage,
    as_utc,
    decode_event,
    encode_event,
    utc_now,
)
from workbench.protocol.json_line import UnreadableLine, json_value

ImportFormat = Literal["workbench", "claude-code", "codex"]
# what a re-import did with the session it made before
Outcome = Literal["new", "updated", "unchanged", "kept", "empty"]
IMPORTED = "imported"  # the detail of the status that ends every import


class ImportReport(BaseModel):
    """The honest account of one import: what was kept, what was left out and why."""

    source: Path
    format: ImportFormat
    session_id: str | None = None  # None when the file held nothing to import
    outcome: Outcome = "empty"
    events: int = 0
    kept: dict[str, int] = Field(default_factory=dict)  # what the session holds, by kind
    problems: list[str] = Field(default_factory=list)  # unreadable lines, each skipped
    skipped: dict[str, int] = Field(default_factory=dict)  # lines deliberately left out, by what and why
    notes: list[str] = Field(default_factory=list)

    def __str__(self) -> str:
        made = {
            "new": f"new session {self.session_id}, {self.events} events",
            "updated": f"updated session {self.session_id}, {self.events} events",
            "unchanged": f"already imported as session {self.session_id}, unchanged",
            "kept": f"session {self.session_id} continued in Workbench since its import: left as it is",
            "empty": "nothing to import",
        }[self.outcome]
        lines = [f"{self.source} ({self.format}): {made}"]
        if self.kept:
            lines.append("  kept: " + ", ".join(f"{n} {what}" for what, n in self.kept.items()))
        skipped = [f"{n} {what}" for what, n in sorted(self.skipped.items())]
        if self.problems:
            skipped.append(f"{len(self.problems)} unreadable line(s)")
        if skipped:
            lines.append("  skipped: " + ", ".join(skipped))
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def tally(events: list[Event]) -> dict[str, int]:
    """What an imported session holds, in words a user counts in: prompts, calls, results, sub-agents …"""
    counts: Counter[str] = Counter()
    for event in events:
        if isinstance(event, UserMessage):
            counts["prompts"] += 1
            counts["images"] += len(event.images)
        elif isinstance(event, AssistantMessage):
            counts["replies"] += 1
        elif isinstance(event, ToolCall):
            counts["tool calls"] += 1
        elif isinstance(event, ToolResult):
            counts["tool results"] += 1
            counts["images"] += len(event.images)
        elif isinstance(event, AgentSpawned) and event.parent is not None:
            counts["sub-agents"] += 1
        elif isinstance(event, Compaction):
            counts["compactions"] += 1
        elif isinstance(event, Primed):
            counts["commands and attachments"] += 1
    order = ["prompts", "replies", "tool calls", "tool results", "sub-agents", "compactions"]
    order += ["commands and attachments", "images"]
    return {what: counts[what] for what in order if counts[what]}


class JsonLine(BaseModel):
    number: int
    data: dict[str, Any]


async def read_json_lines(path: Path) -> tuple[list[JsonLine], list[str]]:
    """Every line that is a JSON object; each other non-blank line is reported, never fatal."""
    async with aiofiles.open(path, "rb") as f:
        data = await f.read()
    lines: list[JsonLine] = []
    problems: list[str] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            value = json_value(raw)
        except UnreadableLine as exc:
            problems.append(f"line {number}: {exc}")
            continue
        if not isinstance(value, dict):
            problems.append(f"line {number}: not a JSON object")
            continue
        lines.append(JsonLine(number=number, data=value))
    return lines, problems


def parse_ts(value: object) -> datetime | None:
    """An ISO 8601 time as bundles store it (UTC, milliseconds); None when absent or garbled."""
    if not isinstance(value, str):
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    ts = as_utc(ts)
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


class Draft:
    """The events of a session being imported, numbered and stamped as they are added.

    ``fallback`` is the time of a line that has none and follows none that has one
    (the source file's time): an import of an unchanged file gives the same events.
    """

    def __init__(self, fallback: datetime | None = None) -> None:
        self.events: list[Event] = []
        self.skipped: Counter[str] = Counter()
        self.notes: list[str] = []
        self._ts: datetime | None = None
        self._fallback = fallback

    @property
    def last_seq(self) -> int:
        return len(self.events)

    def add(self, event: Event, agent: str, ts: datetime | None = None) -> Event:
        # a line without a usable time takes its predecessor's, so time never runs backwards
        ts = (
            max(ts, self._ts)
            if ts is not None and self._ts is not None
            else ts or self._ts or self._fallback or utc_now()
        )
        self._ts = ts
        stamped = event.model_copy(update={"seq": len(self.events) + 1, "agent": agent, "ts": ts})
        self.events.append(stamped)
        return stamped

    def skip(self, what: str, count: int = 1) -> None:
        self.skipped[what] += count


def file_time(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0)
    except OSError:
        return None


async def write_session(store: BundleStore, events: list[Event]) -> str:
    """A new session of ``store`` holding ``events`` with their own seq and time; returns its id."""
    session_id = await store.create(new_session_id(events[0].ts if events else None))
    await _write_events(store.folder(session_id), session_id, events)
    return session_id


async def _write_events(folder: Path, session_id: str, events: list[Event]) -> None:
    # the appends are submitted at once, so they go in a few large batches: fsyncing each costs little
    writer = BundleWriter(folder, session_id, fsync="always")
    await writer.start()
    acks = []
    for event in events:
        writer.last_seq = event.seq - 1  # keep the source's numbering: compactions and remounts refer to it
        acks.append(writer.submit(event))
    await asyncio.gather(*acks)
    await writer.close()


class ImportIndex:
    """The sessions of a store that came from an import, by their source."""

    def __init__(self, store: BundleStore) -> None:
        self.store = store
        self._by_source: dict[str, str] | None = None

    def find(self, source: str) -> str | None:
        if self._by_source is None:
            self._by_source = {}
            for session_id in reversed(self.store.session_ids()):  # oldest first: the first import wins
                origin = _source_of(self.store.folder(session_id) / EVENTS_FILE)
                if origin:
                    self._by_source.setdefault(origin, session_id)
        return self._by_source.get(source)

    def add(self, source: str, session_id: str) -> None:
        if self._by_source is not None:
            self._by_source[source] = session_id


def _source_of(path: Path) -> str:
    try:
        with path.open("rb") as f:
            first = f.readline()
        event = decode_event(first)
    except (OSError, ValueError):
        return ""
    return event.source if isinstance(event, SessionStarted) else ""


async def save_import(
    store: BundleStore, draft: Draft, report: ImportReport, source: str, index: ImportIndex | None = None
) -> ImportReport:
    """Write the draft as a session (or update the one an earlier import of ``source`` made); fill the report."""
    report.skipped = dict(draft.skipped)
    report.notes += draft.notes
    events = draft.events
    if not any(isinstance(e, (UserMessage, AssistantMessage, Primed)) for e in events):
        return report
    report.kept = tally(events)
    report.events = len(events)
    index = index or ImportIndex(store)
    existing = index.find(source)
    if existing is None:
        report.session_id = await write_session(store, events)
        report.outcome = "new"
        index.add(source, report.session_id)
        return report
    report.session_id = existing
    report.outcome = await _update(store, existing, events)
    return report


async def _update(store: BundleStore, session_id: str, events: list[Event]) -> Outcome:
    folder = store.folder(session_id)
    try:
        current = (folder / EVENTS_FILE).read_bytes()
    except OSError:
        current = b""
    redact = Redactor()
    wanted = "".join(redact(encode_event(e.model_copy(update={"session": session_id}))) + "\n" for e in events)
    if current == wanted.encode("utf-8"):
        return "unchanged"
    if not _ends_as_imported(current):
        return "kept"
    lock = SessionLock(folder)
    try:
        lock.acquire()
    except SessionLocked:
        return "kept"
    try:
        staging = folder / ".reimport"
        shutil.rmtree(staging, ignore_errors=True)
        await _write_events(staging, session_id, events)
        os.replace(staging / EVENTS_FILE, folder / EVENTS_FILE)
        os.replace(staging / META_FILE, folder / META_FILE)
        shutil.rmtree(staging, ignore_errors=True)
    finally:
        lock.release()
    return "updated"


def _ends_as_imported(log: bytes) -> bool:
    """True when nothing was appended to the session after the import that made it."""
    last = log.rstrip(b"\n").rpartition(b"\n")[2]
    try:
        event = decode_event(last)
    except ValueError:
        return False
    return isinstance(event, Status) and event.detail == IMPORTED
