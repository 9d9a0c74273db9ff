"""Import a Claude Code transcript (``~/.claude/projects/<project>/<session>.jsonl``) as a session.

The lines of a transcript form a tree (``uuid``/``parentUuid``). What is kept:

- **The active conversation.** The chain from the last message back to the first,
  plus what hangs off it without being a new prompt: each block of one reply
  (Claude Code writes one line per content block, sharing ``message.id``, and may
  fan parallel ``tool_use`` lines out from one parent), each ``tool_result`` (one
  line per result, whose parent may be its own call), meta lines and attachments.
  A branch that starts with a new prompt is a rewind: it is left out and counted.
  A ``compact_boundary`` continues the chain through ``logicalParentUuid``; a
  boundary's ``preservedSegment`` links the messages a compaction kept back in.
- ``user`` text → ``user_message`` (images as image blocks); ``tool_result`` blocks →
  ``tool_result`` (the structured ``toolUseResult`` stands in for an empty result);
  ``isMeta`` lines — a command's or skill's expanded prompt, an ``@file`` read, a
  notice — → ``primed`` named after the command, skill or file; an
  ``isCompactSummary`` message → a ``compaction`` (``compactMetadata`` gives the
  tokens before and after) of everything before it but the kept messages.
- ``assistant`` lines → one ``assistant_message`` per API message, a ``tool_call``
  per ``tool_use`` and one ``usage``.
- ``attachment`` lines: ``file``/``directory`` (``@path`` mentions) → ``primed``,
  ``queued_command`` (a prompt typed while the agent worked) → ``user_message``.
- **Sub-agents**: ``<session>/subagents/agent-*.jsonl`` (and older ``agent-*.jsonl``
  beside the transcript, or ``isSidechain`` lines in it) become delegated children,
  written right after the ``Task``/``Agent`` call that started them — linked by the
  result's ``toolUseResult.agentId``, a progress line's ``parentToolUseID`` or,
  failing both, the prompt. ``agent-acompact-*`` files are Claude Code's compaction
  helper, not sub-agents: they are left out and counted.
- ``summary``/``custom-title``/``ai-title`` → the session's title. Lines are kept
  in file order: a file's order is the order things happened.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from workbench import __version__
from workbench.log.bundle import BundleStore
from workbench.log.importers.base import (
    IMPORTED,
    Draft,
    ImportIndex,
    ImportReport,
    JsonLine,
    file_time,
    parse_ts,
    read_json_lines,
    save_import,
)
from workbench.protocol.commands import PRIMARY
from workbench.protocol.content import (
    ContentBlock,
    ImageBlock,
    ImageError,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    image_block,
    text_of,
)
from workbench.protocol.events import (
    AgentFinished,
    AgentSpawned,
    AssistantMessage,
    ChildResult,
    Compaction,
    Delegated,
    Primed,
    SessionStarted,
    Status,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
)
from workbench.protocol.json_line import json_value
from workbench.protocol.slash_command import slash_command

CONVERSATION = frozenset({"user", "assistant"})
IN_TREE = frozenset({"user", "assistant", "system", "attachment", "progress"})
DELEGATING_TOOLS = frozenset({"Task", "Agent"})
SKILL_TOOLS = frozenset({"Skill"})
# sub-agent files that are Claude Code's own helpers, not agents the model started
HELPER_FILES = {"agent-acompact-": "compaction helper files (agent-acompact-*, not sub-agents)"}
HELPER_FILES["agent-aside_question-"] = "side-question helper files (agent-aside_question-*, not sub-agents)"
NAME_CHARS = 48
_READ_CALL = re.compile(r"^Called the (?P<tool>\w+) tool with the following input: (?P<input>\{.*?\})\s*$", re.DOTALL)


def source_key(path: Path) -> str:
    """What identifies a transcript across imports: Claude Code names the file after the session."""
    return f"claude-code:{path.stem}"


def is_helper_file(path: Path) -> bool:
    return path.name.startswith(tuple(HELPER_FILES))


def session_of(path: Path) -> str | None:
    """The ``sessionId`` a transcript's first lines name."""
    try:
        with path.open("rb") as f:
            for _ in range(20):
                raw = f.readline()
                if not raw:
                    break
                try:
                    line = json_value(raw)
                except ValueError:
                    continue
                if isinstance(line, dict) and isinstance(line.get("sessionId"), str):
                    return line["sessionId"]
    except OSError:
        pass
    return None


def agent_files(path: Path, session_id: str) -> list[Path]:
    """The sub-agent transcripts Claude Code wrote for ``session_id`` in files of their own."""
    candidates = [*path.parent.glob("agent-*.jsonl"), *(path.parent / path.stem / "subagents").rglob("agent-*.jsonl")]
    return [c for c in sorted(set(candidates)) if c != path and session_of(c) == session_id]


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


async def import_claude_code(store: BundleStore, path: Path, index: ImportIndex | None = None) -> ImportReport:
    lines, problems = await read_json_lines(path)
    lines, misshapen = well_formed(lines)
    report = ImportReport(source=path, format="claude-code", problems=problems + misshapen)
    session_id = next((x.data["sessionId"] for x in lines if isinstance(x.data.get("sessionId"), str)), None)
    files: list[_AgentFile] = []
    helpers: dict[str, int] = {}
    if session_id and not path.name.startswith("agent-"):
        for extra in agent_files(path, session_id):
            if is_helper_file(extra):
                why = next(why for prefix, why in HELPER_FILES.items() if extra.name.startswith(prefix))
                helpers[why] = helpers.get(why, 0) + 1
                continue
            more, more_problems = await read_json_lines(extra)
            more, misshapen = well_formed(more)
            report.problems += [f"{extra.name} {p}" for p in more_problems + misshapen]
            files.append(_AgentFile(path=extra, lines=[x.data for x in more], meta=_sidecar(extra)))
    draft = _Converter([x.data for x in lines], files, path).run()
    for why, count in helpers.items():
        draft.skip(why, count)
    return await save_import(store, draft, report, source_key(path), index)


def _sidecar(path: Path) -> dict[str, Any]:
    """``agent-<id>.meta.json`` beside a sub-agent file (newer versions): its type and description."""
    try:
        data = json_value(path.with_suffix(".meta.json").read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass
class _AgentFile:
    path: Path
    lines: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------ the tree


def _parent(line: dict[str, Any], relinked: dict[str, str]) -> str | None:
    uuid = line.get("uuid")
    if isinstance(uuid, str) and uuid in relinked:
        return relinked[uuid]
    parent = line.get("parentUuid") or line.get("logicalParentUuid")
    return parent if isinstance(parent, str) else None


def _is_prompt(line: dict[str, Any]) -> bool:
    """A user line that starts a turn: typed text, a command — not a tool result, not a tool's meta line."""
    if line.get("type") != "user" or line.get("sourceToolUseID") or line.get("isCompactSummary"):
        return False
    content = (line.get("message") or {}).get("content")
    blocks = content if isinstance(content, list) else []
    return not any(isinstance(b, dict) and b.get("type") == "tool_result" for b in blocks)


def _message_id(line: dict[str, Any]) -> str | None:
    message = line.get("message")
    value = message.get("id") if isinstance(message, dict) else None
    return value if isinstance(value, str) else None


def active_lines(lines: list[dict[str, Any]], draft: Draft) -> list[dict[str, Any]]:
    """The lines of the active conversation, in file order; lines of abandoned branches are counted."""
    tree = [x for x in lines if x.get("type") in IN_TREE and isinstance(x.get("uuid"), str)]
    by_uuid = {x["uuid"]: x for x in tree}
    # a compaction that kept messages: they follow its summary, and what came before them leads to it
    relinked: dict[str, str] = {}
    for line in lines:
        segment = (line.get("compactMetadata") or {}).get("preservedSegment")
        head = segment.get("headUuid") if isinstance(segment, dict) else None
        anchor = (segment or {}).get("anchorUuid") or line.get("uuid")
        if isinstance(head, str) and isinstance(anchor, str) and isinstance(line.get("uuid"), str):
            before = _parent(by_uuid[head], relinked) if head in by_uuid else None
            relinked[head] = anchor
            if before is not None:
                relinked[line["uuid"]] = before
    position = {id(x): i for i, x in enumerate(lines)}
    chain: set[str] = set()
    end = len(lines)
    while True:  # a chain broken by a parent the file does not hold continues from the lines before the break
        leaf = next(
            (x for x in reversed(lines[:end]) if x.get("type") in CONVERSATION and isinstance(x.get("uuid"), str)),
            None,
        )
        if leaf is None or leaf["uuid"] in chain:
            break
        node: dict[str, Any] | None = leaf
        top = leaf
        while node is not None and node["uuid"] not in chain:
            chain.add(node["uuid"])
            top = node
            parent = _parent(node, relinked)
            node = by_uuid.get(parent) if parent else None
        parent = _parent(top, relinked)
        if parent is None or parent in by_uuid:
            break
        end = position[id(top)]
    children: dict[str, list[dict[str, Any]]] = {}
    for line in tree:
        parent = _parent(line, relinked)
        if parent:
            children.setdefault(parent, []).append(line)
    replies = {_message_id(by_uuid[u]) for u in chain if by_uuid[u].get("type") == "assistant"} - {None}
    kept = set(chain)
    todo = list(chain)
    while todo:
        for child in children.get(todo.pop(), []):
            if child["uuid"] in kept:
                continue
            fork = _is_prompt(child) or (child.get("type") == "assistant" and _message_id(child) not in replies)
            if not fork:
                kept.add(child["uuid"])
                todo.append(child["uuid"])
    result = []
    for line in lines:
        uuid = line.get("uuid")
        if line.get("type") not in IN_TREE or not isinstance(uuid, str) or uuid in kept:
            result.append(line)
        elif line.get("type") in CONVERSATION:
            draft.skip("lines of abandoned branches (a rewind restarted from an earlier message)")
        else:
            result.append(line)  # notices off the branch are told apart (and skipped) by kind later
    return result


# ------------------------------------------------------------------------------ conversion


@dataclass
class _Child:
    key: str
    lines: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)
    emitted: bool = False

    @property
    def task(self) -> str:
        first = next((x for x in self.lines if x.get("type") == "user" and _is_prompt(x)), None)
        return _plain_text((first or {}).get("message", {}).get("content")) if first else ""


@dataclass
class _Stream:
    """One agent's events in the making: lines of one API message merge into one reply."""

    agent: str
    level: int
    first_seq: int
    message_id: str | None = None
    blocks: list[ContentBlock] = field(default_factory=list)
    model: str = ""
    stop_reason: str | None = None
    usage: dict[str, Any] | None = None
    ts: datetime | None = None
    results: list[tuple[ToolResult, datetime | None]] = field(default_factory=list)
    last_text: str = ""
    tool_names: dict[str, str] = field(default_factory=dict)
    tool_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    command: tuple[str, str] | None = None  # the slash command whose expansion may come next
    attachment: str = ""  # the file an @-mention read, for its result line
    boundary: dict[str, Any] = field(default_factory=dict)
    heads: dict[str, int | None] = field(default_factory=dict)  # preserved segment heads -> last seq before them


class _Converter:
    def __init__(self, main: list[dict[str, Any]], files: list[_AgentFile], path: Path) -> None:
        self.path = path
        # a sub-agent's file imported on its own is that agent's conversation
        standalone = path.name.startswith("agent-")
        self.main = main if standalone else [x for x in main if not x.get("isSidechain")]
        self.draft = Draft(file_time(path))
        self.children: list[_Child] = []
        for key, group in _sidechains([] if standalone else [x for x in main if x.get("isSidechain")]).items():
            self.children.append(_Child(key=key, lines=group))
        for file in files:
            agent_id = next((x["agentId"] for x in file.lines if isinstance(x.get("agentId"), str)), None)
            key = f"id:{agent_id}" if agent_id else f"file:{file.path.stem}"
            self.children.append(_Child(key=key, lines=file.lines, meta=file.meta))
        self.child_of_call = self._link([*main, *(x for f in files for x in f.lines)])
        self.streams = 0

    # -- linking sub-agents to the calls that started them

    def _link(self, lines: Iterable[dict[str, Any]]) -> dict[str, _Child]:
        by_key = {child.key: child for child in self.children}
        linked: dict[str, _Child] = {}
        prompts: dict[str, str] = {}
        for line in lines:
            agent_id = None
            call = None
            extra = line.get("toolUseResult")
            if isinstance(extra, dict) and isinstance(extra.get("agentId"), str):
                agent_id = extra["agentId"]
                call = next((b.get("tool_use_id") for b in _blocks(line) if b.get("type") == "tool_result"), None)
            data = line.get("data")
            if line.get("type") == "progress" and isinstance(data, dict) and isinstance(data.get("agentId"), str):
                agent_id, call = data["agentId"], line.get("parentToolUseID")
            if isinstance(call, str) and f"id:{agent_id}" in by_key:
                linked.setdefault(call, by_key[f"id:{agent_id}"])
            for block in _blocks(line) if line.get("type") == "assistant" else []:
                if block.get("type") == "tool_use" and block.get("name") in DELEGATING_TOOLS:
                    prompt = (block.get("input") or {}).get("prompt")
                    if isinstance(prompt, str) and isinstance(block.get("id"), str):
                        prompts.setdefault(" ".join(prompt.split()), block["id"])
        for child in self.children:
            if isinstance(child.meta.get("toolUseId"), str):
                linked.setdefault(child.meta["toolUseId"], child)
            if child not in linked.values():
                call = prompts.get(" ".join(child.task.split()))
                if call is not None and call not in linked:
                    linked[call] = child
        return linked

    # -- the session

    def run(self) -> Draft:
        lines = active_lines(self.main, self.draft)
        first = next((x for x in lines if x.get("timestamp")), {})
        ts = parse_ts(first.get("timestamp"))
        started = SessionStarted(
            title=self._title(self.main) or self._first_words(lines),
            cwd=next((x["cwd"] for x in lines if isinstance(x.get("cwd"), str)), ""),
            brain="claude-code",
            model=_first_model(lines),
            app_version=__version__,
            source=f"claude-code:{self.path.stem}",
        )
        self.draft.add(started, "", ts)
        primary = self._spawn(PRIMARY, AgentSpawned(name=PRIMARY, model=started.model), 1, ts)
        self._convert(lines, primary)
        self._flush(primary)
        for child in self.children:
            if not child.emitted:  # no call of this file started it: it is shown, after the rest
                self.draft.notes.append(f"sub-agent {child.key.split(':', 1)[1]}: no Task call found that started it")
                self._child(child, primary, None, {})
        self.draft.add(Status(state="idle", detail=IMPORTED), PRIMARY, primary.ts)
        return self.draft

    def _title(self, lines: list[dict[str, Any]]) -> str:
        uuids = {x.get("uuid") for x in lines}
        titles = {"custom-title": "", "summary": "", "ai-title": ""}
        for line in lines:
            kind = line.get("type")
            if kind == "custom-title" and isinstance(line.get("customTitle"), str):
                titles[kind] = line["customTitle"]
            elif kind == "ai-title" and isinstance(line.get("aiTitle"), str):
                titles[kind] = line["aiTitle"]
            # Claude Code may copy other sessions' summaries into a file: only one naming this file's lines counts
            elif kind == "summary" and line.get("leafUuid") in uuids and isinstance(line.get("summary"), str):
                titles[kind] = line["summary"]
        return next((t.strip() for t in titles.values() if t.strip()), "")

    def _first_words(self, lines: list[dict[str, Any]]) -> str:
        """A title for a session without one, so that it is never listed as an empty one."""
        for line in lines:
            if line.get("type") == "user" and _is_prompt(line) and not line.get("isMeta"):
                text = _plain_text((line.get("message") or {}).get("content"))
                command = slash_command(text)
                shown = f"/{command[0]} {command[1]}" if command else text
                if shown.strip():
                    return " ".join(shown.split())[:80]
        return f"Claude Code session {self.path.stem}"

    def _spawn(self, agent: str, event: AgentSpawned, level: int, ts: datetime | None) -> _Stream:
        spawned = self.draft.add(event, agent, ts)
        self.streams += 1
        return _Stream(agent=agent, level=level, first_seq=spawned.seq + 1)

    def _child(self, child: _Child, parent: _Stream, call: str | None, call_input: dict[str, Any]) -> None:
        child.emitted = True
        lines = active_lines(child.lines, self.draft)
        first = next((x for x in lines if x.get("timestamp")), {})
        ts = parse_ts(first.get("timestamp"))
        task = child.task or str(call_input.get("prompt") or "")
        agent = f"agent-{self.streams}"
        name = str(child.meta.get("agentType") or call_input.get("subagent_type") or "")
        about = str(child.meta.get("description") or call_input.get("description") or " ".join(task.split()))
        background = call_input.get("run_in_background") is True
        self.draft.add(
            Delegated(child=agent, task=task, tool_use_id=call, mode="background" if background else "delegated"),
            parent.agent,
            ts,
        )
        spawned = AgentSpawned(
            name=(f"{name}: {about}" if name else about)[:NAME_CHARS] or agent,
            parent=parent.agent,
            level=parent.level + 1,
            mode="background" if background else "delegated",
            task=task,
            model=_first_model(lines) or parent.model,
        )
        stream = self._spawn(agent, spawned, parent.level + 1, ts)
        self._convert(lines, stream)
        self._flush(stream)
        last: dict[str, Any] = next((x for x in reversed(lines) if x.get("timestamp")), {})
        end = parse_ts(last.get("timestamp"))
        self.draft.add(AgentFinished(state="done", result=stream.last_text), agent, end)
        self.draft.add(ChildResult(child=agent, summary=stream.last_text, tool_use_id=call), parent.agent, end)

    # -- lines

    def _convert(self, lines: list[dict[str, Any]], stream: _Stream) -> None:
        for line in lines:
            segment = (line.get("compactMetadata") or {}).get("preservedSegment")
            if isinstance(segment, dict) and isinstance(segment.get("headUuid"), str):
                stream.heads[segment["headUuid"]] = None
        for line in lines:
            if line.get("uuid") in stream.heads:
                self._flush(stream)
                stream.heads[line["uuid"]] = self.draft.last_seq
            self._line(line, stream)

    def _line(self, line: dict[str, Any], stream: _Stream) -> None:
        kind = line.get("type")
        message = line.get("message")
        if kind == "system":
            if line.get("subtype") == "compact_boundary":
                self._flush(stream)
                stream.boundary = line.get("compactMetadata") or {}
            else:
                self.draft.skip(f"system notices ({line.get('subtype') or 'untyped'}: shown by Claude Code, not sent)")
        elif kind == "attachment":
            self._attachment(line, stream)
        elif kind == "progress":
            self.draft.skip("progress lines (live output shown while a tool ran, not sent to the model)")
        elif kind in ("summary", "custom-title", "ai-title"):
            pass  # the title
        elif kind not in CONVERSATION:
            self.draft.skip(f"{kind or 'untyped'} lines (Claude Code's bookkeeping, not the conversation)")
        elif not isinstance(message, dict):
            self.draft.skip(f"{kind} lines without a message")
        elif kind == "assistant":
            self._assistant(line, message, stream)
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
                kind = block.get("type", "untyped") if isinstance(block, dict) else "untyped"
                self.draft.skip(f"{kind} blocks of replies (not a kind the Messages API takes back)")
                continue
            stream.blocks.append(converted)
            if isinstance(converted, ToolUseBlock):
                stream.tool_names[converted.id] = converted.name
                stream.tool_inputs[converted.id] = converted.input

    def _user(self, line: dict[str, Any], message: dict[str, Any], stream: _Stream) -> None:
        ts = parse_ts(line.get("timestamp"))
        blocks = _blocks(line)
        results = [b for b in blocks if b.get("type") == "tool_result"]
        text, images = self._text_and_images([b for b in blocks if b.get("type") != "tool_result"])
        if line.get("isCompactSummary"):
            self._compaction(text, stream, ts)
            return
        extra = line.get("toolUseResult") if len(results) == 1 else None
        converted = [(self._result(b, extra, stream), ts) for b in results]
        if stream.message_id is not None and not text.strip() and not images:
            stream.results += converted  # the reply they answer may still have lines to come
        else:
            self._flush(stream)
            for result, at in converted:
                self.draft.add(result, stream.agent, at)
        if not text.strip() and not images:
            return
        self._flush(stream)
        if line.get("isMeta"):
            self.draft.add(self._meta(line, text, stream), stream.agent, ts)
            return
        stream.command = slash_command(text)
        self.draft.add(UserMessage(text=text, images=images), stream.agent, ts)

    def _meta(self, line: dict[str, Any], text: str, stream: _Stream) -> Primed:
        """A meta line is context the model was given: a command's or skill's prompt, a file read, a notice."""
        command, stream.command = stream.command, None
        called = line.get("sourceToolUseID")
        if isinstance(called, str) and stream.tool_names.get(called) in SKILL_TOOLS:
            skill = stream.tool_inputs.get(called, {})
            name = skill.get("skill") or skill.get("command") or "skill"
            return Primed(primer=str(name).lstrip("/"), arguments=str(skill.get("args") or ""), text=text)
        if command is not None:
            return Primed(primer=command[0], arguments=command[1], text=text)
        read = _READ_CALL.match(text)
        if read is not None:
            try:
                tool_input = json_value(read["input"])
            except ValueError:
                tool_input = {}
            path = tool_input.get("file_path") or tool_input.get("path") if isinstance(tool_input, dict) else None
            stream.attachment = f"@{path}" if path else "@file"
            return Primed(primer=stream.attachment, text=text)
        if text.startswith("Result of calling the ") and stream.attachment:
            return Primed(primer=stream.attachment, text=text)
        return Primed(primer="notice" if text.startswith("Caveat:") else "meta", text=text)

    def _attachment(self, line: dict[str, Any], stream: _Stream) -> None:
        attachment = line.get("attachment")
        kind = attachment.get("type") if isinstance(attachment, dict) else None
        ts = parse_ts(line.get("timestamp"))
        if not isinstance(attachment, dict) or not isinstance(kind, str):
            self.draft.skip("attachment lines without an attachment")
            return
        if kind == "queued_command" and isinstance(attachment.get("prompt"), str):
            if attachment.get("commandMode", "prompt") == "prompt":
                self._flush(stream)
                self.draft.add(UserMessage(text=attachment["prompt"], queued=True), stream.agent, ts)
                return
        if kind in ("file", "directory"):
            where = attachment.get("displayPath") or attachment.get("filename") or attachment.get("path") or ""
            body = _attachment_text(attachment.get("content"))
            if body.strip():
                self._flush(stream)
                self.draft.add(Primed(primer=f"@{where}", text=body), stream.agent, ts)
                return
        self.draft.skip(f"{kind} attachments (Claude Code's own reminders and hook output)")

    def _compaction(self, summary: str, stream: _Stream, ts: datetime | None) -> None:
        self._flush(stream)
        kept_from = [seq for seq in stream.heads.values() if seq is not None]
        stream.heads = {head: seq for head, seq in stream.heads.items() if seq is None}  # later compactions' own
        boundary, stream.boundary = stream.boundary, {}

        def tokens(key: str) -> int:
            value = boundary.get(key)
            return value if isinstance(value, int) else 0

        self.draft.add(
            Compaction(
                summary=summary,
                from_seq=stream.first_seq,
                to_seq=min(kept_from) if kept_from else self.draft.last_seq,
                tokens_before=tokens("preTokens"),
                tokens_after=tokens("postTokens"),
                automatic=boundary.get("trigger") == "auto",
            ),
            stream.agent,
            ts,
        )

    def _result(self, block: dict[str, Any], extra: object, stream: _Stream) -> ToolResult:
        tool_use_id = str(block.get("tool_use_id", ""))
        content, images = self._text_and_images(block.get("content"))
        if not content.strip() and not images and extra:
            content = _structured_result(extra)
        return ToolResult(
            tool_use_id=tool_use_id,
            name=stream.tool_names.get(tool_use_id, ""),
            content=content,
            is_error=bool(block.get("is_error")),
            images=images,
        )

    def _text_and_images(self, content: object) -> tuple[str, list[ImageBlock]]:
        if isinstance(content, str):
            return content, []
        parts: list[str] = []
        images: list[ImageBlock] = []
        for block in content if isinstance(content, list) else []:
            if not isinstance(block, dict):
                continue
            if block.get("type") in ("text", None) and isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif block.get("type") == "image":
                try:
                    images.append(image_block(block.get("source")))
                except ImageError as exc:
                    self.draft.skip(f"images that could not be carried ({exc})")
                    parts.append("[image left out: it could not be read]")
            elif block.get("type") is not None:
                self.draft.skip(f"{block['type']} blocks of user messages")
        return "\n".join(parts), images

    def _flush(self, stream: _Stream) -> None:
        """Record the reply being assembled, its calls and usage, then the results that answer it."""
        if stream.message_id is not None and stream.blocks:
            self.draft.add(
                AssistantMessage(content=stream.blocks, stop_reason=stream.stop_reason, model=stream.model),
                stream.agent,
                stream.ts,
            )
            stream.last_text = text_of(stream.blocks) or stream.last_text
            calls = [b for b in stream.blocks if isinstance(b, ToolUseBlock)]
            for block in calls:
                self.draft.add(
                    ToolCall(tool_use_id=block.id, name=block.name, input=block.input), stream.agent, stream.ts
                )
            if stream.usage:
                self.draft.add(_usage(stream.usage, stream.model), stream.agent, stream.ts)
            for block in calls:
                child = self.child_of_call.get(block.id)
                if child is not None and not child.emitted:
                    self._child(child, stream, block.id, block.input)
        for result, ts in stream.results:
            self.draft.add(result, stream.agent, ts)
        stream.message_id, stream.blocks, stream.results = None, [], []
        stream.stop_reason, stream.usage = None, None


def _sidechains(lines: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Sidechain lines kept in the main file (older versions): one group per ``agentId`` or thread root."""
    by_uuid = {x["uuid"]: x for x in lines if isinstance(x.get("uuid"), str)}
    groups: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        if isinstance(line.get("agentId"), str):
            key = "id:" + line["agentId"]
        else:
            node, seen = line, set()
            while isinstance(node.get("parentUuid"), str) and node["parentUuid"] in by_uuid and id(node) not in seen:
                seen.add(id(node))
                node = by_uuid[node["parentUuid"]]
            key = "root:" + str(node.get("uuid"))
        groups.setdefault(key, []).append(line)
    return groups


def _first_model(lines: list[dict[str, Any]]) -> str:
    for line in lines:
        message = line.get("message")
        if line.get("type") == "assistant" and isinstance(message, dict) and isinstance(message.get("model"), str):
            return message["model"]
    return ""


def _blocks(line: dict[str, Any]) -> list[dict[str, Any]]:
    message = line.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _plain_text(content: object) -> str:
    if isinstance(content, str):
        return content
    blocks = content if isinstance(content, list) else []
    return "\n".join(b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str))


def _attachment_text(content: object) -> str:
    """The text of an @-mention's attachment: a file read (``{type, file: {content}}``) or a listing."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        file = content.get("file")
        if isinstance(file, dict) and isinstance(file.get("content"), str):
            return file["content"]
        if isinstance(content.get("content"), str):
            return content["content"]
    return ""


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


def _structured_result(extra: object) -> str:
    """Claude Code's ``toolUseResult``: a string, or an object per tool (Bash, Read, Glob, Task …)."""
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
        if isinstance(extra.get("content"), list):
            return _plain_text(extra["content"])
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
