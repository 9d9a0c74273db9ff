"""Hypothesis strategies for bundles that are almost right, and for what every reader does with one.

A bundle here is a list of lines. Most are real events, encoded as the writer encodes them,
with values chosen to stress what reads them: tool calls and results that match or do not,
compactions over any range, remounts carrying any messages, text with lone surrogates, times
at both ends of the calendar. The rest is damage: a line cut anywhere (in the middle of a
multi-byte character too), bytes that are not UTF-8, numbers of thousands of digits, nesting
a hundred thousand levels deep, fields of the wrong type, objects that are no event at all.

``read_everything`` runs each reader a user reaches on such a log: the tolerant reader, fold,
``bundles show``, the summary behind ``bundles ls``, search, both exports, the detection of an
interrupted session, the todo list, and an import of the log as a new session.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from workbench.engine.context.fold import fold
from workbench.log.bundle import BundleStore, parse_bundle
from workbench.log.catalog import list_sessions
from workbench.log.export import jsonl, markdown
from workbench.log.importers import UnknownFormat, import_file
from workbench.log.interruption import interruption
from workbench.log.meta import SessionMeta
from workbench.log.search import scan, search
from workbench.log.transcript import transcript
from workbench.protocol.content import RedactedThinkingBlock, TextBlock, ThinkingBlock, ToolUseBlock
from workbench.protocol.events import (
    KNOWN_EVENT_TYPES,
    AgentFinished,
    AgentSpawned,
    AssistantMessage,
    ChildResult,
    Compaction,
    Delegated,
    Error,
    PermissionDecision,
    Primed,
    Reduction,
    Remounted,
    SessionStarted,
    Status,
    ToolCall,
    ToolResult,
    UnwritableEvent,
    Usage,
    UserMessage,
    encode_event,
)
from workbench.tools.todo import todos_of

AGENTS = ["primary", "agent-1", "agent-2", ""]
TOOL_IDS = ["t1", "t2", "t3"]
FIELDS = sorted({name for kind in KNOWN_EVENT_TYPES for name in kind.model_fields})
KINDS = sorted(kind.model_fields["kind"].default for kind in KNOWN_EVENT_TYPES)

# any character, lone surrogates included (how Python spells a file name that is not UTF-8)
any_char = st.characters(codec=None, categories=None)
texts = st.one_of(st.text(max_size=30), st.text(any_char, max_size=12), st.sampled_from(["", " ", "\n", "TODO"]))
agents = st.sampled_from(AGENTS)
tool_ids = st.sampled_from(TOOL_IDS)
seqs = st.integers(min_value=-3, max_value=60)
times = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from([datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), datetime(2026, 1, 1)]),
)

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)

blocks = st.one_of(
    st.builds(TextBlock, text=texts),
    st.builds(ToolUseBlock, id=tool_ids, name=st.sampled_from(["Read", "Bash", "TodoWrite"]), input=st.just({})),
    st.builds(ThinkingBlock, thinking=texts, signature=st.sampled_from(["", "sig"])),
    st.builds(RedactedThinkingBlock, data=texts),
)
api_blocks = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": texts}),
    st.fixed_dictionaries({"type": st.just("tool_use"), "id": tool_ids, "name": texts, "input": st.just({})}),
    st.fixed_dictionaries({"type": st.just("tool_result"), "tool_use_id": tool_ids, "content": texts}),
    st.fixed_dictionaries({"type": st.just("image"), "source": json_values}),
)
api_messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "assistant"]), "content": st.one_of(texts, st.lists(api_blocks, max_size=3))}
    ),
    max_size=4,
)
todo_input = st.fixed_dictionaries(
    {"todos": st.lists(st.fixed_dictionaries({"content": texts, "status": st.sampled_from(["pending", "done"])}))}
)


def _event(kind: type, **fields: Any) -> st.SearchStrategy[Any]:
    return st.builds(kind, agent=agents, seq=seqs, ts=times, **fields)


events = st.one_of(
    _event(SessionStarted, title=texts, cwd=texts),
    _event(AgentSpawned, name=texts, parent=st.one_of(st.none(), agents), level=st.integers(0, 4), system=texts),
    _event(UserMessage, text=texts, queued=st.booleans()),
    _event(AssistantMessage, content=st.lists(blocks, max_size=4), interrupted=st.booleans()),
    _event(ToolCall, tool_use_id=tool_ids, name=st.sampled_from(["Read", "TodoWrite"]), input=todo_input),
    _event(ToolResult, tool_use_id=tool_ids, name=texts, content=texts, is_error=st.booleans()),
    _event(PermissionDecision, tool_use_id=tool_ids, tool=texts, decision=st.sampled_from(["allow", "deny"])),
    _event(Usage, input_tokens=st.integers(0, 10**6), output_tokens=st.integers(0, 10**6)),
    _event(Compaction, summary=texts, from_seq=seqs, to_seq=seqs),
    _event(Reduction, strategy=texts, replacements=st.dictionaries(tool_ids, texts, max_size=2)),
    _event(Primed, primer=texts, text=texts),
    _event(Delegated, child=agents, task=texts),
    _event(ChildResult, child=agents, summary=texts, is_error=st.booleans()),
    _event(Status, state=st.sampled_from(["idle", "thinking", "tool", "done", "failed", "paused"])),
    _event(Error, message=texts, retryable=st.booleans()),
    _event(Remounted, source_session=texts, up_to_seq=seqs, system=texts, messages=api_messages),
    _event(AgentFinished, state=st.sampled_from(["done", "failed", "cancelled"]), result=texts),
)


@st.composite
def event_lines(draw: st.DrawFn) -> bytes:
    event = draw(events)
    try:
        return encode_event(event).encode("utf-8")
    except UnwritableEvent:
        return b'{"kind":"status","state":"idle"}'


@st.composite
def almost_events(draw: st.DrawFn) -> bytes:
    """An object shaped like an event with fields of any kind and type: invalid for its kind, or opaque."""
    fields = draw(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5))
    fields["kind"] = draw(st.one_of(st.sampled_from(KINDS), st.text(max_size=8)))
    if draw(st.booleans()):
        fields["v"] = draw(st.integers(0, 3))
    return json.dumps(fields).encode()


def _nested(depth: int) -> bytes:
    return b'{"kind":"hologram","x":' + b"[" * depth + b"]" * depth + b"}"


damage = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"",
            b"   ",
            b"null",
            b"[1,2]",
            b'"kind"',
            b'{"kind":"usage","input_tokens":' + b"9" * 5000 + b"}",
            b'{"kind":"hologram","n":-' + b"1" * 4400 + b"}",
            _nested(100_000),
            _nested(199),
            b"[" * 100_000,
            b'{"kind":"user_message","text":"caf\xe9"}',
            b'{"kind":"user_message","text":"\\udce9"}',
            b'{"kind":"remounted","source_session":"s","up_to_seq":1,"messages":[{"role":"user"}]}',
            b'{"kind":"remounted","source_session":"s","up_to_seq":1,"messages":[{"role":"x","content":[]}]}',
            b'{"kind":"remounted","source_session":"s","up_to_seq":1,"messages":[{"role":"user","content":[7]}]}',
            b'{"kind":"remounted","source_session":"s","up_to_seq":1,"messages":"all of them"}',
            b'{"kind":"compaction","summary":"s","from_seq":' + b"9" * 30 + b',"to_seq":-1}',
            b'{"kind":"status","state":"idle","ts":"0001-01-01T00:30:00+01:00"}',
            b'{"kind":"status","state":"idle","ts":"9999-12-31T23:30:00-01:00"}',
            b'{"kind":"status","state":"idle","ts":"not a time"}',
            b'{"kind":"user_message","text":NaN}',
        ]
    ),
)


@st.composite
def damaged(draw: st.DrawFn, line: bytes) -> bytes:
    """``line`` cut anywhere, or with a byte flipped, or with bytes that are not UTF-8 put in."""
    how = draw(st.sampled_from(["cut", "flip", "insert"]))
    if not line:
        return line
    at = draw(st.integers(0, len(line) - 1))
    if how == "cut":
        return line[:at]
    if how == "flip":
        return line[:at] + bytes([line[at] ^ draw(st.integers(1, 255))]) + line[at + 1 :]
    return line[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\x00", b"\n"])) + line[at:]


@st.composite
def bundles(draw: st.DrawFn) -> bytes:
    """A log: mostly events, some damaged, some junk; it may end torn, inside a multi-byte character too."""
    lines: list[bytes] = []
    for _ in range(draw(st.integers(0, 14))):
        choice = draw(st.integers(0, 9))
        if choice < 6:
            lines.append(draw(event_lines()))
        elif choice < 7:
            lines.append(draw(almost_events()))
        elif choice < 8:
            lines.append(draw(damaged(draw(event_lines()))))
        else:
            lines.append(draw(damage))
    data = b"\n".join(lines)
    if lines and draw(st.booleans()):
        data += b"\n"
    elif draw(st.booleans()):
        data += '{"kind":"user_message","text":"é€'.encode()[: draw(st.integers(20, 36))]
    return data


queries = st.one_of(st.text(max_size=6), st.sampled_from(["TODO", "é", "\\", '"', "kind", "t1"]))


def read_everything(data: bytes, query: str) -> None:
    """Every reader of a log, on ``data``: any exception here is a crash a user would see."""
    contents = parse_bundle(data)
    events = contents.events
    for agent in {None, *(e.agent for e in events)}:
        fold(events, agent)
        todos_of(events, agent or "")
    list(transcript(events))
    interruption(events, contents.problems)
    meta = SessionMeta.rebuild("20260101T000000Z-fuzz", events, size=len(data))
    "".join(markdown(meta, events))
    exported = "".join(jsonl(events)).encode("utf-8")
    again = parse_bundle(exported)
    assert again.problems == [] and len(again.events) == len(events), "the export reads back as it was"
    scan(data, query, "s")
    asyncio.run(_import_and_list(data, query, len(events)))


async def _import_and_list(data: bytes, query: str, readable: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "events.jsonl"
        source.write_bytes(data)
        store = BundleStore(Path(tmp) / "store")
        try:
            report = await import_file(store, source)
        except UnknownFormat:  # nothing in the first lines looked like a bundle: said so, not a crash
            return
        assert report.events == readable
        await list_sessions(store, include_empty=True)
        async for _ in search(store, query or "x"):
            pass


# ---------------------------------------------------------------- transcripts of other tools

TRANSCRIPT_KEYS = (
    "action agentId arguments call_id compactMetadata content cwd data exit_code id info input instructions "
    "isCompactSummary isMeta isSidechain is_error last_token_usage leafUuid logicalParentUuid message metadata "
    "model name output parentUuid payload preTokens role sessionId signature stderr stdout stop_reason subtype "
    "success summary text thinking timestamp toolUseResult tool_use_id trigger type usage uuid"
).split()
TRANSCRIPT_WORDS = (
    "assistant user system summary compact_boundary compacted developer event_msg response_item session_meta "
    "turn_context message reasoning function_call function_call_output local_shell_call custom_tool_call "
    "token_count turn_aborted text thinking redacted_thinking tool_use tool_result image input_text output_text"
).split()

transcript_scalars = st.one_of(json_scalars, st.sampled_from(TRANSCRIPT_WORDS), times.map(lambda t: t.isoformat()))
transcript_values = st.recursive(
    transcript_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(TRANSCRIPT_KEYS), inner, max_size=4)
    ),
    max_leaves=10,
)


@st.composite
def transcript_lines(draw: st.DrawFn) -> bytes:
    record = draw(st.dictionaries(st.sampled_from(TRANSCRIPT_KEYS), transcript_values, max_size=6))
    record["type"] = draw(st.sampled_from(TRANSCRIPT_WORDS))
    return json.dumps(record).encode()


@st.composite
def transcripts(draw: st.DrawFn) -> bytes:
    """A Claude Code transcript or a Codex rollout of any shape, damage included."""
    lines = draw(st.lists(st.one_of(transcript_lines(), transcript_lines(), damage), max_size=10))
    return b"\n".join(lines) + b"\n"


def import_transcript(data: bytes, fmt: str) -> None:
    asyncio.run(_import_transcript(data, fmt))


async def _import_transcript(data: bytes, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        name = "rollout-2026-01-01T00-00-00-x.jsonl" if fmt == "codex" else "session.jsonl"
        source = Path(tmp) / name
        source.write_bytes(data)
        store = BundleStore(Path(tmp) / "store")
        report = await import_file(store, source, fmt)  # type: ignore[arg-type]
        if report.session_id is not None:
            contents = await store.read(report.session_id)
            assert contents.problems == [] and len(contents.events) == report.events
            for agent in {e.agent for e in contents.events}:
                fold(contents.events, agent)
