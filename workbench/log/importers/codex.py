"""Import a Codex CLI rollout (``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``) as a session.

Each line is ``{timestamp, type, payload}``. What each becomes:

- ``session_meta`` → the session's cwd, and its ``instructions`` start the system prompt;
  ``turn_context`` → the model of the replies that follow (the first one names the
  session's model, wherever it comes).
- ``response_item``: a user ``message`` → ``user_message`` (``input_image`` parts as image
  blocks; the ``<environment_context>`` preamble is left out; ``<user_instructions>`` and
  developer messages before the first turn join the system prompt); assistant ``message``
  text, ``reasoning`` summaries and ``function_call`` / ``custom_tool_call`` /
  ``local_shell_call`` items of one response → one ``assistant_message`` (thinking
  unsigned, so it is shown but never sent back) and a ``tool_call`` each;
  ``*_call_output`` → ``tool_result`` (text, or a list of content items whose images are
  kept; a non-zero exit code is an error).
- ``event_msg``: ``user_message`` → ``user_message`` when no response item holds that
  prompt (some versions record it only there); ``token_count`` → ``usage``;
  ``turn_aborted`` → the turn ends interrupted; the rest repeat response items.
- ``compacted`` → a ``compaction`` of everything before it (its ``message``, or the text
  of its ``replacement_history``).

Rollouts from before the ``payload`` wrapper — a first line ``{id, timestamp}`` (with
``instructions`` only when there were some), then bare items and ``record_type`` state
lines — import the same way.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

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
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    image_block,
)
from workbench.protocol.events import (
    AgentSpawned,
    AssistantMessage,
    Compaction,
    SessionStarted,
    Status,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
)
from workbench.protocol.json_line import UnreadableLine, json_value

ITEM_TYPES = frozenset(
    {
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
        "custom_tool_call",
        "custom_tool_call_output",
        "local_shell_call",
        "web_search_call",
    }
)
CALLS = frozenset({"function_call", "custom_tool_call", "local_shell_call"})
OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output"})
INSTRUCTIONS = ("<user_instructions>", "# AGENTS.md instructions")
ENVIRONMENT = "<environment_context>"
# the header of a plain-text command output, before its "Output:" line
_EXIT_HEADER = re.compile(r"^(?:Exit code:|Process exited with code) (?P<code>-?\d+)\s*$", re.MULTILINE)


async def import_codex(store: BundleStore, path: Path, index: ImportIndex | None = None) -> ImportReport:
    lines, problems = await read_json_lines(path)
    converter = _Converter(path)
    draft = converter.run(lines)
    report = ImportReport(source=path, format="codex", problems=problems)
    return await save_import(store, draft, report, f"codex:{converter.rollout_id or path.stem}", index)


def _unwrap(line: JsonLine) -> tuple[str, dict[str, Any]]:
    """``(type, payload)`` of a line, in either the wrapped or the early bare format."""
    data = line.data
    if isinstance(data.get("payload"), dict) and isinstance(data.get("type"), str):
        return data["type"], data["payload"]
    if data.get("type") in ITEM_TYPES:
        return "response_item", data
    if line.number == 1 and "id" in data and "type" not in data:
        return "session_meta", data
    if "record_type" in data:
        return "state", data
    return str(data.get("type", "untyped")), data


class _Converter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.draft = Draft(file_time(path))
        self.rollout_id = ""
        self.cwd = ""
        self.model = ""
        self.system: list[str] = []
        self.title = ""
        self.prompts: list[str] = []  # prompts recorded since the last reply: the same one may come twice
        self.started = False
        self.first_seq = 0  # the agent's first event after its spawn: where a compaction's range starts
        self.started_at: datetime | None = None
        self.blocks: list[ContentBlock] = []
        self.reply_ts: datetime | None = None
        self.tool_names: dict[str, str] = {}

    def run(self, lines: list[JsonLine]) -> Draft:
        unwrapped = [_unwrap(line) for line in lines]
        # the session's model is the first turn's, even when its turn_context comes after the prompt
        self.model = next((str(p["model"]) for k, p in unwrapped if k == "turn_context" and p.get("model")), "")
        for line, (kind, payload) in zip(lines, unwrapped):
            ts = parse_ts(line.data.get("timestamp")) or parse_ts(payload.get("timestamp"))
            self.started_at = self.started_at or ts
            if kind == "session_meta":
                self.rollout_id = self.rollout_id or str(payload.get("id") or "")
                self.cwd = str(payload.get("cwd") or self.cwd)
                if isinstance(payload.get("instructions"), str) and payload["instructions"].strip():
                    self.system.append(payload["instructions"].strip())
            elif kind == "turn_context":
                self.cwd = str(payload.get("cwd") or self.cwd)
                self.model = str(payload.get("model") or self.model)
            elif kind == "response_item":
                self._item(payload, ts)
            elif kind == "event_msg":
                self._event(payload, ts)
            elif kind == "compacted":
                self._compacted(payload, ts)
            else:
                self.draft.skip(f"{kind} lines")
        if self.started:
            self._flush()
            self.draft.add(Status(state="idle", detail=IMPORTED), PRIMARY)
            first = next((e for e in self.draft.events if isinstance(e, UserMessage)), None)
            title = " ".join(first.text.split())[:80] if first else f"Codex session {self.rollout_id or self.path.stem}"
            self.draft.events[0] = self.draft.events[0].model_copy(update={"title": title})
        return self.draft

    def _start(self, ts: datetime | None) -> None:
        """The session and its agent begin at the first turn, once the instructions are known."""
        if self.started:
            return
        self.started = True
        at = self.started_at or ts
        started = SessionStarted(
            cwd=self.cwd,
            brain="codex",
            model=self.model,
            app_version=__version__,
            source=f"codex:{self.rollout_id or self.path.stem}",
        )
        self.draft.add(started, "", at)
        spawned = self.draft.add(
            AgentSpawned(name=PRIMARY, system="\n\n".join(self.system), model=self.model), PRIMARY, at
        )
        self.first_seq = spawned.seq + 1

    # ------------------------------------------------------------ items

    def _item(self, item: dict[str, Any], ts: datetime | None) -> None:
        kind = item.get("type")
        if kind == "message":
            self._message(item, ts)
        elif kind == "reasoning":
            text = _texts(item.get("summary")) or _texts(item.get("content"))
            if text:
                self._reply(ThinkingBlock(thinking=text), ts)
        elif kind in CALLS:
            call_id = str(item.get("call_id") or item.get("id") or "")
            name = str(item.get("name") or ("local_shell" if kind == "local_shell_call" else ""))
            self.tool_names[call_id] = name
            self._reply(ToolUseBlock(id=call_id, name=name, input=_call_input(item)), ts)
        elif kind in OUTPUTS:
            self._start(ts)
            self._flush()
            call_id = str(item.get("call_id", ""))
            content, failed = _output(item.get("output"))
            images = self._images(item.get("output"))
            name = self.tool_names.get(call_id, "")
            self.draft.add(
                ToolResult(tool_use_id=call_id, name=name, content=content, is_error=failed, images=images),
                PRIMARY,
                ts,
            )
        else:
            self.draft.skip(f"{kind} items")

    def _message(self, item: dict[str, Any], ts: datetime | None) -> None:
        role = item.get("role")
        text = _texts(item.get("content"))
        images = self._images(item.get("content")) if role == "user" else []
        if role == "assistant":
            if text.strip():
                self._reply(TextBlock(text=text), ts)
        elif role in ("developer", "system") or (role == "user" and text.lstrip().startswith(INSTRUCTIONS)):
            if self.started:
                self.draft.skip("instructions after the first turn")
            else:
                self.system.append(text.strip())
        elif role == "user" and text.lstrip().startswith(ENVIRONMENT):
            self.draft.skip("environment context messages")
        elif role == "user" and (text.strip() or images):
            self._prompt(text, images, ts)
        else:
            self.draft.skip(f"{role} messages with no text")

    def _prompt(self, text: str, images: list[ImageBlock], ts: datetime | None) -> None:
        said = " ".join(text.split())
        if said in self.prompts:
            self.draft.skip("prompts recorded twice (as a response item and as an event)")
            return
        self._start(ts)
        self._flush()
        self.prompts.append(said)
        self.draft.add(UserMessage(text=text, images=images), PRIMARY, ts)

    def _images(self, content: object) -> list[ImageBlock]:
        """The ``input_image`` parts of a message or an output (data URLs, as Codex records them)."""
        images = []
        for part in content if isinstance(content, list) else []:
            url = part.get("image_url") if isinstance(part, dict) and part.get("type") == "input_image" else None
            if url is None:
                continue
            try:
                images.append(image_block(url))
            except ImageError as exc:
                self.draft.skip(f"images that could not be carried ({exc})")
        return images

    def _reply(self, block: ContentBlock, ts: datetime | None) -> None:
        self._start(ts)
        self.reply_ts = self.reply_ts or ts
        self.blocks.append(block)
        self.prompts = []

    def _flush(self, interrupted: bool = False) -> None:
        """Record the response being assembled: its items arrive one line each."""
        if not self.blocks:
            return
        calls = [b for b in self.blocks if isinstance(b, ToolUseBlock)]
        stop = None if interrupted else "tool_use" if calls else "end_turn"
        self.draft.add(
            AssistantMessage(content=self.blocks, stop_reason=stop, interrupted=interrupted, model=self.model),
            PRIMARY,
            self.reply_ts,
        )
        for call in calls:
            self.draft.add(ToolCall(tool_use_id=call.id, name=call.name, input=call.input), PRIMARY, self.reply_ts)
        self.blocks, self.reply_ts = [], None

    # ------------------------------------------------------------ events

    def _event(self, payload: dict[str, Any], ts: datetime | None) -> None:
        kind = payload.get("type")
        if kind == "token_count":
            info = payload.get("info")
            last = info.get("last_token_usage") if isinstance(info, dict) else None
            if isinstance(last, dict) and self.started:
                self._flush()
                self.draft.add(_usage(last, self.model), PRIMARY, ts)
            else:
                self.draft.skip("token counts without usage")
        elif kind == "turn_aborted" and self.started:
            self._flush(interrupted=True)
            self.draft.add(Status(state="idle", detail="interrupted"), PRIMARY, ts)
        elif kind == "user_message" and isinstance(payload.get("message"), str):
            images = [u for u in payload.get("images") or [] if isinstance(u, str)]
            parts = [{"type": "input_image", "image_url": u} for u in images]
            if payload["message"].strip() or parts:
                self._prompt(payload["message"], self._images(parts), ts)
        else:
            self.draft.skip(f"{kind} events (shown by Codex; the response items hold what the model saw)")

    def _compacted(self, payload: dict[str, Any], ts: datetime | None) -> None:
        summary = payload.get("message")
        kept = payload.get("replacement_history")
        if not (isinstance(summary, str) and summary.strip()) and isinstance(kept, list):
            summary = "\n\n".join(t for item in kept if isinstance(item, dict) if (t := _texts(item.get("content"))))
        if not isinstance(summary, str) or not summary.strip() or not self.started:
            self.draft.skip("compactions with no summary")
            return
        self._flush()
        self.draft.add(Compaction(summary=summary, from_seq=self.first_seq, to_seq=self.draft.last_seq), PRIMARY, ts)


def _texts(content: object) -> str:
    """The text of Codex content parts (``input_text``, ``output_text``, ``summary_text`` …)."""
    if isinstance(content, str):
        return content
    parts = (
        [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        if isinstance(content, list)
        else []
    )
    return "\n".join(parts)


def _call_input(item: dict[str, Any]) -> dict[str, Any]:
    if item.get("type") == "local_shell_call":
        action = item.get("action")
        return action if isinstance(action, dict) else {}
    raw = item.get("arguments", item.get("input"))
    if isinstance(raw, str):
        try:
            parsed = json_value(raw)
        except UnreadableLine:
            return {"input": raw}  # custom tools (apply_patch) take free text
        return parsed if isinstance(parsed, dict) else {"input": parsed}
    return raw if isinstance(raw, dict) else {}


def _output(output: object) -> tuple[str, bool]:
    """A call's output text and whether it failed: plain text, content items, or JSON with an exit code.

    Plain text may open with the header newer versions write (``Exit code: 1`` for ``shell``,
    ``Process exited with code 1`` for ``exec_command``), which says how the command ended.
    """
    if isinstance(output, list):
        return _texts(output), False
    if isinstance(output, dict):
        content = output.get("content", output.get("output", ""))
        return _texts(content) or json.dumps(output, ensure_ascii=False), output.get("success") is False
    text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
    try:
        parsed = json_value(text)
    except UnreadableLine:
        header = _EXIT_HEADER.search(text.split("\nOutput:", 1)[0])
        return text, header is not None and int(header["code"]) != 0
    if isinstance(parsed, dict) and isinstance(parsed.get("output"), str):
        metadata = parsed.get("metadata")
        code = metadata.get("exit_code") if isinstance(metadata, dict) else None
        return parsed["output"], isinstance(code, int) and code != 0
    return text, False


def _usage(last: dict[str, Any], model: str) -> Usage:
    def count(key: str) -> int:
        value = last.get(key)
        return value if isinstance(value, int) else 0

    cached = count("cached_input_tokens")  # part of input_tokens in OpenAI's accounting
    return Usage(
        input_tokens=max(0, count("input_tokens") - cached),
        cache_read_input_tokens=cached,
        output_tokens=count("output_tokens") + count("reasoning_output_tokens"),
        model=model,
    )
