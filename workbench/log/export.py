"""Export a session: a Markdown transcript to read, or its events as JSONL to keep or import.

The JSONL export holds exactly the readable events, each encoded as the bundle
encodes it, so reading the export (or importing it) gives the same events back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Literal

from workbench.log.bundle import BundleStore
from workbench.log.catalog import user_title
from workbench.log.meta import SessionMeta
from workbench.log.redact import redact
from workbench.log.transcript import describe, one_line, with_images
from workbench.protocol.content import RedactedThinkingBlock, TextBlock, ThinkingBlock
from workbench.protocol.events import (
    AgentSpawned,
    AssistantMessage,
    Compaction,
    Event,
    Status,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
    encode_event,
)

ExportFormat = Literal["markdown", "jsonl"]
# bookkeeping a reader of the transcript does not need
_QUIET = (Status, Usage)


def jsonl(events: Iterable[Event]) -> Iterator[str]:
    for event in events:
        yield encode_event(event) + "\n"


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}\n{text.rstrip()}\n{fence}"


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.rstrip().splitlines())


def markdown(meta: SessionMeta, events: Iterable[Event]) -> Iterator[str]:
    """The session as a Markdown document: a header, then each message, call and result in order."""
    yield f"# {meta.title or meta.id}\n\n"
    yield f"- session: `{meta.id}`\n"
    if meta.created:
        yield f"- created: {meta.created:%Y-%m-%d %H:%M:%S} UTC\n"
    yield f"- brain: {meta.brain} {meta.model}".rstrip() + "\n"
    yield f"- events: {meta.events}, tokens in {meta.input_tokens:,} · out {meta.output_tokens:,}\n"
    names: dict[str, str] = {}
    for event in events:
        if isinstance(event, AgentSpawned):
            names[event.agent] = event.name or event.agent
        if isinstance(event, _QUIET):
            continue
        who = names.get(event.agent, event.agent) or "session"
        stamp = f"{event.ts:%H:%M:%S} · {who} · seq {event.seq}"
        if isinstance(event, UserMessage):
            yield f"\n## User\n\n<sub>{stamp}</sub>\n\n{with_images(event.text, event.images)}\n"
        elif isinstance(event, AssistantMessage):
            yield f"\n## Assistant\n\n<sub>{stamp}</sub>\n\n"
            for block in event.content:
                if isinstance(block, TextBlock) and block.text.strip():
                    yield block.text.rstrip() + "\n\n"
                elif isinstance(block, ThinkingBlock) and block.thinking.strip():
                    yield _quote(f"*thinking:* {block.thinking}") + "\n\n"
                elif isinstance(block, RedactedThinkingBlock):
                    yield "> *thinking (redacted)*\n\n"
            if event.interrupted:
                yield "*(reply interrupted)*\n"
        elif isinstance(event, ToolCall):
            yield f"\n**→ {event.name}** `{one_line(event.input, 160)}` <sub>{stamp}</sub>\n"
        elif isinstance(event, ToolResult):
            flag = " (error)" if event.is_error else ""
            yield f"\n**← {event.name or 'result'}{flag}**, {len(event.content):,} chars\n\n{_fence(event.content)}\n"
            for image in event.images:
                yield f"\n{image.placeholder()}\n"
        elif isinstance(event, Compaction):
            yield f"\n## Compaction\n\n<sub>{stamp} · {describe(event)}</sub>\n\n{_quote(event.summary)}\n"
        else:
            yield f"\n*{event.kind}: {describe(event)}* <sub>{stamp}</sub>\n"


async def export(store: BundleStore, session_id: str, fmt: ExportFormat) -> Iterator[str]:
    """The session in ``fmt``, every piece masked of secrets (a bundle written before a rule existed, or a
    title, may still hold one)."""
    contents = await store.read(session_id)
    if fmt == "jsonl":
        return map(redact, jsonl(contents.events))
    meta = await store.meta(session_id)
    meta.title = user_title(store.folder(session_id)) or meta.title
    return map(redact, markdown(meta, contents.events))
