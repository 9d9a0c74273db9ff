"""What every importer shares: tolerant line reading, numbering events, writing the new session."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import aiofiles
from pydantic import BaseModel, Field

from workbench.log.bundle import BundleStore, BundleWriter, new_session_id
from workbench.protocol.events import Event, as_utc, utc_now
from workbench.protocol.json_line import UnreadableLine, json_value

ImportFormat = Literal["workbench", "claude-code", "codex"]


class ImportReport(BaseModel):
    source: Path
    format: ImportFormat
    session_id: str | None = None  # None when the file held nothing to import
    events: int = 0
    problems: list[str] = Field(default_factory=list)  # unreadable lines, each skipped
    skipped: dict[str, int] = Field(default_factory=dict)  # lines deliberately left out, by what they were

    def __str__(self) -> str:
        made = f"session {self.session_id}, {self.events} events" if self.session_id else "nothing to import"
        notes = [f"{n} {what}" for what, n in sorted(self.skipped.items())]
        if self.problems:
            notes.append(f"{len(self.problems)} unreadable line(s)")
        return f"{self.source} ({self.format}): {made}" + (f" · skipped {', '.join(notes)}" if notes else "")


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
    """The events of a session being imported, numbered and stamped as they are added."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.skipped: Counter[str] = Counter()
        self._ts: datetime | None = None

    @property
    def last_seq(self) -> int:
        return len(self.events)

    def add(self, event: Event, agent: str, ts: datetime | None = None) -> Event:
        # a line without a usable time takes its predecessor's, so time never runs backwards
        ts = max(ts, self._ts) if ts is not None and self._ts is not None else ts or self._ts or utc_now()
        self._ts = ts
        stamped = event.model_copy(update={"seq": len(self.events) + 1, "agent": agent, "ts": ts})
        self.events.append(stamped)
        return stamped

    def skip(self, what: str) -> None:
        self.skipped[what] += 1


async def write_session(store: BundleStore, events: list[Event]) -> str:
    """A new session of ``store`` holding ``events`` with their own seq and time; returns its id."""
    session_id = await store.create(new_session_id(events[0].ts if events else None))
    # the appends are submitted at once, so they go in a few large batches: fsyncing each costs little
    writer = BundleWriter(store.folder(session_id), session_id, fsync="always")
    await writer.start()
    acks = []
    for event in events:
        writer.last_seq = event.seq - 1  # keep the source's numbering: compactions and remounts refer to it
        acks.append(writer.submit(event))
    await asyncio.gather(*acks)
    await writer.close()
    return session_id
