"""Full-text search across every session of a store: messages, tool calls, tool results.

Most lines of most logs do not match, so the scan never parses them: a bundle
line holds its text JSON-escaped, so the query, escaped the same way, is looked
for in the raw bytes first, and only the lines that contain it are decoded.
Sessions are narrowed by their ``meta.json`` (dates, model) before any log is
opened.

Matching ignores the case of ASCII letters and compares every other character
exactly. That folding commutes with JSON escaping, so the byte pre-filter can
never hide a match (full Unicode lowercasing could: ``K``, the Kelvin sign,
lowercases to an ASCII ``k`` that its bytes do not hold).
"""

from __future__ import annotations

import json
import string
from collections.abc import AsyncIterator
from typing import Any

import aiofiles
from pydantic import BaseModel, Field

from workbench.log.bundle import EVENTS_FILE, BundleStore
from workbench.log.catalog import SessionFilter, list_sessions
from workbench.log.meta import SessionMeta
from workbench.protocol.content import TextBlock, ThinkingBlock
from workbench.protocol.events import (
    AssistantMessage,
    ChildResult,
    Compaction,
    Delegated,
    Error,
    Event,
    Primed,
    ToolCall,
    ToolResult,
    UserMessage,
    decode_event,
)
from workbench.protocol.json_line import UnreadableLine

_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
LINE_CHARS = 240  # a matching line longer than this is shown as a window around the match
HITS_PER_SESSION = 50


class SearchHit(BaseModel):
    session: str
    seq: int
    agent: str
    kind: str
    line: str
    before: list[str] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)


class SessionHits(BaseModel):
    meta: SessionMeta
    hits: list[SearchHit]
    total: int  # every hit in the session, of which ``hits`` holds the first few


def searchable_text(event: Event) -> str:
    """The words of an event a person might look for; empty for bookkeeping events."""
    if isinstance(event, UserMessage):
        return event.text
    if isinstance(event, AssistantMessage):
        parts = [
            b.text if isinstance(b, TextBlock) else b.thinking
            for b in event.content
            if isinstance(b, (TextBlock, ThinkingBlock))
        ]
        return "\n".join(parts)
    if isinstance(event, ToolCall):
        return "\n".join([event.name, *(f"{k}: {_plain(v)}" for k, v in event.input.items())])
    if isinstance(event, ToolResult):
        return event.content
    if isinstance(event, (Compaction, ChildResult)):
        return event.summary
    if isinstance(event, Primed):
        return event.text
    if isinstance(event, Delegated):
        return event.task
    if isinstance(event, Error):
        return event.message
    return ""


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _needle(query: str) -> bytes:
    """The query as it appears inside a JSON string of a bundle line, ASCII-folded like the line."""
    return json.dumps(query, ensure_ascii=False)[1:-1].encode().lower()  # bytes.lower folds ASCII only


def _clip(line: str, at: int, width: int) -> str:
    if len(line) <= LINE_CHARS:
        return line
    start = max(0, min(at - (LINE_CHARS - width) // 2, len(line) - LINE_CHARS))
    return ("…" if start else "") + line[start : start + LINE_CHARS] + ("…" if start + LINE_CHARS < len(line) else "")


def hits_in(
    event: Event, query: str, session_id: str, context: int = 1, limit: int | None = None
) -> tuple[list[SearchHit], int]:
    """The hits of one event (at most ``limit`` of them built) and how many lines match in all."""
    folded = query.translate(_FOLD)
    lines = searchable_text(event).splitlines()
    hits: list[SearchHit] = []
    matched = 0
    for number, line in enumerate(lines):
        at = line.translate(_FOLD).find(folded)
        if at < 0:
            continue
        matched += 1
        if limit is not None and len(hits) >= limit:
            continue
        hits.append(
            SearchHit(
                session=session_id,
                seq=event.seq,
                agent=event.agent,
                kind=event.kind,
                line=_clip(line, at, len(query)),
                before=[_clip(x, 0, 0) for x in lines[max(0, number - context) : number]],
                after=[_clip(x, 0, 0) for x in lines[number + 1 : number + 1 + context]],
            )
        )
    return hits, matched


def scan(
    data: bytes, query: str, session_id: str, *, context: int = 1, limit: int | None = None
) -> tuple[list[SearchHit], int]:
    """The first ``limit`` hits of ``query`` in one log's bytes, and how many there are in all.

    Lines without the query's bytes are never parsed.
    """
    needle = _needle(query)
    hits: list[SearchHit] = []
    total = 0
    if not needle:
        return hits, total
    lowered = data.lower()
    at = lowered.find(needle)
    while at >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        try:
            event = decode_event(data[start:end])
        except UnreadableLine:
            event = None  # a torn or corrupt line: the reader reports those; search just skips them
        if event is not None:
            found, matched = hits_in(event, query, session_id, context, None if limit is None else limit - len(hits))
            hits += found
            total += matched
        at = lowered.find(needle, end + 1)
    return hits, total


async def search(
    store: BundleStore,
    query: str,
    *,
    where: SessionFilter | None = None,
    context: int = 1,
    per_session: int = HITS_PER_SESSION,
) -> AsyncIterator[SessionHits]:
    """Sessions with hits, newest first, each as soon as it is scanned."""
    if not query.strip():
        return
    for entry in await list_sessions(store, where):
        path = store.folder(entry.meta.id) / EVENTS_FILE
        try:
            async with aiofiles.open(path, "rb") as f:
                data = await f.read()
        except FileNotFoundError:
            continue  # deleted while we searched
        hits, total = scan(data, query, entry.meta.id, context=context, limit=per_session)
        if hits:
            yield SessionHits(meta=entry.meta, hits=hits, total=total)
