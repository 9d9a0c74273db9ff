"""Import a Claude Code transcript (``~/.claude/projects/<project>/<session>.jsonl``) as a new session.

What each line becomes:

- ``user`` text → ``user_message``; its ``tool_result`` blocks → ``tool_result`` (the
  structured ``toolUseResult`` stands in for an empty result); ``isMeta`` notices are
  left out; an ``isCompactSummary`` message → a ``compaction`` of everything before it.
- ``assistant`` lines → one ``assistant_message`` per API message (Claude Code writes
  one line per content block, sharing ``message.id``), then a ``tool_call`` per
  ``tool_use`` and the ``usage``.
- ``isSidechain`` lines → child agents, one per ``agentId`` (or per sidechain thread),
  linked to the ``Task`` call whose prompt they were given; sub-agent files
  (``agent-*.jsonl`` beside the transcript or in ``<session>/subagents/``) join in.
- ``summary`` → the session's title, when its ``leafUuid`` is in this file.
- Only the active branch of the ``parentUuid`` tree is kept: a rewind leaves the
  abandoned branch in the file. A ``compact_boundary`` continues its chain through
  ``logicalParentUuid``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from workbench import __version__
from workbench.log.bundle import BundleStore
from workbench.log.importers.base import Draft, ImportReport, JsonLine, parse_ts, read_json_lines, write_session
from workbench.protocol.content import (
    ContentBlock,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    text_of,
)
from workbench.protocol.events import (
    AgentFinished,
    AgentSpawned,
    AssistantMessage,
    ChildResult,
    Compaction,
    Delegated,
    SessionStarted,
    Status,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
)
from workbench.protocol.json_line import json_value

CONVERSATION = frozenset({"user", "assistant", "system"})
DELEGATING_TOOLS = frozenset({"Task", "Agent"})
PRIMARY = "primary"
NAME_CHARS = 48


def agent_files(path: Path, session_id: str) -> list[Path]:
    """The sub-agent transcripts Claude Code wrote for ``session_id`` in their own files."""
    candidates = [*path.parent.glob("agent-*.jsonl"), *(path.parent / path.stem / "subagents").glob("agent-*.jsonl")]
    found = []
    for candidate in sorted(candidates):
        try:
            with candidate.open("rb") as f:
                first = json_value(f.readline() or b"null")
        except (OSError, ValueError):
            continue
        if isinstance(first, dict) and first.get("sessionId") == session_id:
            found.append(candidate)
    return found


class _Message(BaseModel):
    """The fields of a line's ``message`` the conversion reads, with the types Claude Code writes."""

    model_config = ConfigDict(extra="allow", strict=True)
    id: str | None = None
    model: str | None = None
    stop_reason: str | None = None
    usage: dict[str, Any] | None = None
    content: str | list[Any] | None = None


class _CompactMetadata(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    preTokens: int | None = None
    trigger: str | None = None


class _Line(BaseModel):
    """The fields of a transcript line the conversion reads: a line holding another type there is
    reported and left out, rather than failing the import half-way."""

    model_config = ConfigDict(extra="allow", strict=True)
    type: str | None = None
    uuid: str | None = None
    parentUuid: str | None = None
    logicalParentUuid: str | None = None
    leafUuid: str | None = None
    sessionId: str | None = None
    agentId: str | None = None
    timestamp: str | None = None
    cwd: str = ""
    summary: str | None = None
    subtype: str | None = None
    isSidechain: bool | None = None
    isMeta: bool | None = None
    isCompactSummary: bool | None = None
    message: _Message | str | list[Any] | None = None  # only a dict is read, the rest is skipped as such
    compactMetadata: _CompactMetadata | None = None


def well_formed(lines: list[JsonLine]) -> tuple[list[JsonLine], list[str]]:
    """The lines whose fields have the types Claude Code writes; a problem for each other one."""
    kept: list[JsonLine] = []
    problems: list[str] = []
    for line in lines:
        try:
            _Line.model_validate(line.data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"] if not str(p).startswith(("function-", "_")))
            problems.append(f"line {line.number}: not a Claude Code line ({where}: {first['msg']})")
            continue
        kept.append(line)
    return kept, problems


async def import_claude_code(store: BundleStore, path: Path) -> ImportReport:
    lines, problems = await read_json_lines(path)
    lines, misshapen = well_formed(lines)
    problems += misshapen
    session_id = next((x.data["sessionId"] for x in lines if isinstance(x.data.get("sessionId"), str)), None)
    extras = agent_files(path, session_id) if session_id and not path.name.startswith("agent-") else []
    for extra in extras:
        more, more_problems = await read_json_lines(extra)
        more, misshapen = well_formed(more)
        more_problems += misshapen
        lines += more
        problems += [f"{extra.name} {p}" for p in more_problems]
    if extras:  # interleave by time; the sort is stable, so the main file's order wins ties
        lines.sort(key=lambda x: str(x.data.get("timestamp") or ""))
    draft = _Converter(lines).run()
    report = ImportReport(source=path, format="claude-code", problems=problems, skipped=dict(draft.skipped))
    if any(isinstance(e, (UserMessage, AssistantMessage)) for e in draft.events):
        report.session_id = await write_session(store, draft.events)
        report.events = len(draft.events)
    return report


def active_lines(lines: list[dict[str, Any]], draft: Draft) -> list[dict[str, Any]]:
    """The conversation lines on the active branch, plus every sidechain line, in file order."""
    by_uuid = {x["uuid"]: x for x in lines if isinstance(x.get("uuid"), str)}
    main = [x for x in lines if x.get("type") in CONVERSATION and not x.get("isSidechain")]
    chain: set[str] = set()
    cut = 0  # lines before this index are kept whatever their branch: the chain broke there
    node = main[-1] if main else None
    while node is not None and isinstance(node.get("uuid"), str) and node["uuid"] not in chain:
        chain.add(node["uuid"])
        parent = node.get("parentUuid") or node.get("logicalParentUuid")
        if parent and parent not in by_uuid:
            cut = next(i for i, x in enumerate(lines) if x is node)
        node = by_uuid.get(parent) if parent else None
    kept = []
    for index, line in enumerate(lines):
        if line.get("isSidechain"):
            kept.append(line)
        elif line.get("type") in CONVERSATION:
            if line.get("uuid") in chain or not isinstance(line.get("uuid"), str) or index < cut:
                kept.append(line)
            else:
                draft.skip("lines on abandoned branches")
        elif line.get("type") != "summary":
            draft.skip(f"{line.get('type', 'untyped')} lines")
    return kept


class _Stream:
    """One agent's events in the making: lines of one API message merge into one reply."""

    def __init__(self, agent: str, first_seq: int) -> None:
        self.agent = agent
        self.first_seq = first_seq  # where a compaction's range starts
        self.message_id: str | None = None
        self.blocks: list[ContentBlock] = []
        self.model = ""
        self.stop_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self.ts: datetime | None = None
        self.results: list[tuple[ToolResult, datetime | None]] = []
        self.last_text = ""
        self.delegation: str | None = None  # the parent's Task call this agent answers


class _Converter:
    def __init__(self, lines: list[JsonLine]) -> None:
        self.raw = [x.data for x in lines]
        self.draft = Draft()
        self.streams: dict[str, _Stream] = {}
        self.agent_of_key: dict[str, str] = {PRIMARY: PRIMARY}
        self.root_of: dict[str, str] = {}
        self.sidechain = {x["uuid"]: x for x in self.raw if x.get("isSidechain") and isinstance(x.get("uuid"), str)}
        self.tool_names: dict[str, str] = {}
        self.task_calls: dict[str, str] = {}  # Task prompt -> tool_use_id
        self.boundary: dict[str, Any] = {}

    def run(self) -> Draft:
        lines = active_lines(self.raw, self.draft)
        first = lines[0] if lines else {}
        model = next(
            (
                x["message"].get("model", "")
                for x in lines
                if x.get("type") == "assistant" and isinstance(x.get("message"), dict)
            ),
            "",
        )
        ts = parse_ts(first.get("timestamp"))
        self.draft.add(
            SessionStarted(
                title=self._title(), cwd=first.get("cwd", ""), brain="claude-code", model=model, app_version=__version__
            ),
            "",
            ts,
        )
        self._spawn(PRIMARY, AgentSpawned(name=PRIMARY, model=model), ts)
        last_line = {self._agent_key(x): i for i, x in enumerate(lines)}
        for index, line in enumerate(lines):
            key = self._agent_key(line)
            stream = self._stream(key, line)
            self._line(line, stream)
            if key != PRIMARY and last_line[key] == index:
                self._finish_child(stream, parse_ts(line.get("timestamp")))
        primary = self.streams[PRIMARY]
        self._flush(primary)
        self.draft.add(Status(state="idle", detail="imported"), PRIMARY, primary.ts)
        return self.draft

    def _title(self) -> str:
        uuids = {x.get("uuid") for x in self.raw}
        # Claude Code may copy other sessions' summaries into a file: only one naming this file's lines counts
        return next(
            (
                x["summary"]
                for x in reversed(self.raw)
                if x.get("type") == "summary" and x.get("leafUuid") in uuids and isinstance(x.get("summary"), str)
            ),
            "",
        )

    # ------------------------------------------------------------ agents

    def _agent_key(self, line: dict[str, Any]) -> str:
        if not line.get("isSidechain"):
            return PRIMARY
        if isinstance(line.get("agentId"), str):
            return "id:" + line["agentId"]
        # a sidechain thread is named by its root line; roots are remembered along the way
        path: dict[str, None] = {}  # ordered, and a loop in the parent links is seen at once
        node = line
        while True:
            uuid = str(node.get("uuid"))
            if uuid in self.root_of:
                root = self.root_of[uuid]
                break
            path[uuid] = None
            parent = self.sidechain.get(node.get("parentUuid"))
            if parent is None or str(parent.get("uuid")) in path:
                root = uuid
                break
            node = parent
        self.root_of.update(dict.fromkeys(path, root))
        return "root:" + root

    def _stream(self, key: str, line: dict[str, Any]) -> _Stream:
        if key in self.agent_of_key:
            return self.streams[self.agent_of_key[key]]
        agent = f"agent-{len(self.streams)}"
        message = line.get("message")
        task = _text_blocks(message.get("content")) if line.get("type") == "user" and isinstance(message, dict) else ""
        ts = parse_ts(line.get("timestamp"))
        primary = self.streams[PRIMARY]
        call = self.task_calls.get(task.strip())
        if call is not None:
            self.draft.add(Delegated(child=agent, task=task, tool_use_id=call), PRIMARY, ts)
        spawned = AgentSpawned(
            name=" ".join(task.split())[:NAME_CHARS] or agent,
            parent=PRIMARY,
            level=2,
            mode="delegated",
            task=task,
            model=primary.model,
        )
        stream = self._spawn(agent, spawned, ts)
        stream.delegation = call
        self.agent_of_key[key] = agent
        return stream

    def _spawn(self, agent: str, event: AgentSpawned, ts: datetime | None) -> _Stream:
        spawned = self.draft.add(event, agent, ts)
        stream = _Stream(agent, spawned.seq + 1)
        self.streams[agent] = stream
        return stream

    def _finish_child(self, stream: _Stream, ts: datetime | None) -> None:
        self._flush(stream)
        self.draft.add(AgentFinished(state="done", result=stream.last_text), stream.agent, ts)
        if stream.delegation is not None:
            self.draft.add(
                ChildResult(child=stream.agent, summary=stream.last_text, tool_use_id=stream.delegation), PRIMARY, ts
            )

    # ------------------------------------------------------------ lines

    def _line(self, line: dict[str, Any], stream: _Stream) -> None:
        message = line.get("message")
        kind = line.get("type")
        if kind == "system":
            if line.get("subtype") == "compact_boundary":
                self.boundary = line.get("compactMetadata") or {}
            else:
                self.draft.skip("system notices")
        elif not isinstance(message, dict):
            self.draft.skip(f"{kind} lines without a message")
        elif kind == "assistant":
            self._assistant(line, message, stream)
        elif line.get("isMeta"):
            self.draft.skip("meta notices")
        else:
            self._user(line, message, stream)

    def _assistant(self, line: dict[str, Any], message: dict[str, Any], stream: _Stream) -> None:
        message_id = message.get("id") or line.get("uuid")
        if stream.message_id != message_id:
            self._flush(stream)
            stream.message_id = message_id
            stream.ts = parse_ts(line.get("timestamp"))
        stream.model = message.get("model") or stream.model
        stream.stop_reason = message.get("stop_reason") or stream.stop_reason
        stream.usage = message.get("usage") or stream.usage
        content = message.get("content")
        for block in [{"type": "text", "text": content}] if isinstance(content, str) else content or []:
            converted = _assistant_block(block)
            if converted is None:
                self.draft.skip(f"{block.get('type', 'untyped')} blocks")
                continue
            stream.blocks.append(converted)
            if isinstance(converted, ToolUseBlock):
                self.tool_names[converted.id] = converted.name
                if converted.name in DELEGATING_TOOLS and isinstance(converted.input.get("prompt"), str):
                    self.task_calls[converted.input["prompt"].strip()] = converted.id

    def _user(self, line: dict[str, Any], message: dict[str, Any], stream: _Stream) -> None:
        ts = parse_ts(line.get("timestamp"))
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        results = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"]
        text = _text_blocks(blocks)
        if line.get("isCompactSummary"):
            self._flush(stream)
            self.draft.add(
                Compaction(
                    summary=text,
                    from_seq=stream.first_seq,
                    to_seq=self.draft.last_seq,
                    tokens_before=self.boundary.get("preTokens") or 0,
                    automatic=self.boundary.get("trigger") == "auto",
                ),
                stream.agent,
                ts,
            )
            self.boundary = {}
            return
        extra = line.get("toolUseResult") if len(results) == 1 else None
        converted = [(self._result(b, extra), ts) for b in results]
        if text.strip():
            self._flush(stream)
        if stream.message_id is not None:
            stream.results += converted  # the reply they answer may still have lines to come
        else:
            for result, at in converted:
                self.draft.add(result, stream.agent, at)
        if text.strip():
            self.draft.add(UserMessage(text=text), stream.agent, ts)

    def _result(self, block: dict[str, Any], extra: object) -> ToolResult:
        tool_use_id = str(block.get("tool_use_id", ""))
        content = _text_blocks(block.get("content"))
        if not content.strip() and extra:
            content = _structured_result(extra)
        return ToolResult(
            tool_use_id=tool_use_id,
            name=self.tool_names.get(tool_use_id, ""),
            content=content,
            is_error=bool(block.get("is_error")),
        )

    def _flush(self, stream: _Stream) -> None:
        """Record the reply being assembled, its calls and usage, then the results that answer it."""
        if stream.message_id is not None and stream.blocks:
            self.draft.add(
                AssistantMessage(content=stream.blocks, stop_reason=stream.stop_reason, model=stream.model),
                stream.agent,
                stream.ts,
            )
            stream.last_text = text_of(stream.blocks) or stream.last_text
            for block in stream.blocks:
                if isinstance(block, ToolUseBlock):
                    self.draft.add(
                        ToolCall(tool_use_id=block.id, name=block.name, input=block.input), stream.agent, stream.ts
                    )
            if stream.usage:
                self.draft.add(_usage(stream.usage, stream.model), stream.agent, stream.ts)
        for result, ts in stream.results:
            self.draft.add(result, stream.agent, ts)
        stream.message_id, stream.blocks, stream.results = None, [], []
        stream.stop_reason, stream.usage = None, None


def _assistant_block(block: object) -> ContentBlock | None:
    if not isinstance(block, dict):
        return None
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str):
        return TextBlock(text=block["text"])
    if kind == "tool_use" and isinstance(block.get("id"), str):
        tool_input = block.get("input")
        return ToolUseBlock(
            id=block["id"],
            name=str(block.get("name", "")),
            input=tool_input if isinstance(tool_input, dict) else {"input": tool_input},
        )
    if kind == "thinking" and isinstance(block.get("thinking"), str):
        return ThinkingBlock(thinking=block["thinking"], signature=str(block.get("signature") or ""))
    if kind == "redacted_thinking" and isinstance(block.get("data"), str):
        return RedactedThinkingBlock(data=block["data"])
    return None


def _text_blocks(content: object) -> str:
    """The text of a string or a list of content blocks; images become a placeholder."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif isinstance(block, dict) and block.get("type") == "image":
            parts.append("[image]")
    return "\n".join(parts)


def _structured_result(extra: object) -> str:
    """Claude Code's ``toolUseResult``: a string, or an object per tool (Bash, Read, Glob …)."""
    if isinstance(extra, str):
        return extra
    if isinstance(extra, dict):
        if "stdout" in extra or "stderr" in extra:
            return "\n".join(s for s in (extra.get("stdout"), extra.get("stderr")) if isinstance(s, str) and s)
        file = extra.get("file")
        if isinstance(file, dict) and isinstance(file.get("content"), str):
            return file["content"]
        if isinstance(extra.get("filenames"), list):
            return "\n".join(map(str, extra["filenames"]))
    return json.dumps(extra, ensure_ascii=False)


def _usage(usage: dict[str, Any], model: str) -> Usage:
    def count(key: str) -> int:
        value = usage.get(key)
        return value if isinstance(value, int) else 0

    return Usage(
        input_tokens=count("input_tokens"),
        output_tokens=count("output_tokens"),
        cache_creation_input_tokens=count("cache_creation_input_tokens"),
        cache_read_input_tokens=count("cache_read_input_tokens"),
        model=model,
    )
