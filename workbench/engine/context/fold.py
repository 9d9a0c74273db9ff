"""``fold(events) -> Context``: the messages an agent sends to the model.

Fold is pure and deterministic, and for every prefix of a valid log it yields
messages the Messages API accepts: the first is from the user, roles
alternate, every ``tool_use`` is answered by a ``tool_result`` in the next
message, and no message or text block is empty. An interrupted turn is closed
cleanly: a tool call that never got its result is answered with an error
result saying so.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from workbench.log.gc_pause import gc_paused
from workbench.protocol.content import (
    ImageBlock,
    RedactedThinkingBlock,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    WebSearchToolResultBlock,
    api_form,
)
from workbench.protocol.events import (
    AgentSpawned,
    AssistantMessage,
    Compaction,
    Event,
    Primed,
    Reduction,
    Remounted,
    ToolResult,
    UserMessage,
)

INTERRUPTED_RESULT = "Interrupted: this tool call did not run to completion."
INTERRUPTED_NOTE = "[reply interrupted]"
CONTINUED_NOTE = "(continuing the conversation)"


# the only kinds fold looks at; the rest (status, usage, tool_call …) never change the messages
_SHAPES_CONTEXT = frozenset(
    {
        "agent_spawned",
        "remounted",
        "user_message",
        "primed",
        "assistant_message",
        "tool_result",
        "compaction",
        "reduction",
    }
)


class Context(BaseModel):
    system: str = ""
    messages: list[dict[str, Any]] = Field(default_factory=list)


def summary_text(summary: str) -> str:
    return f"<conversation-summary>\n{summary}\n</conversation-summary>"


def facts_text(facts: str) -> str:
    return f"<facts>\n{facts}\n</facts>"


def facts_carrier(events: Iterable[Event]) -> Compaction | Reduction | None:
    """The reduction or compaction whose facts ledger the context shows: the latest that carries one
    (each ledger holds all that earlier ones did) and that no later compaction summarised away."""
    found: Compaction | Reduction | None = None
    for e in events:
        if isinstance(e, Compaction) and found is not None and e.from_seq <= found.seq <= e.to_seq:
            found = None
        if isinstance(e, (Compaction, Reduction)) and e.facts:
            found = e
    return found


def primer_text(event: Primed) -> str:
    return f'<primer name="{event.primer}">\n{event.text}\n</primer>'


class _Builder:
    """Accumulates messages while keeping them valid at every step."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.pending: list[str] = []  # tool_use ids of the last reply still awaiting a result

    def _last(self, role: str) -> list[dict[str, Any]]:
        if self.messages and self.messages[-1]["role"] == role:
            last: list[dict[str, Any]] = self.messages[-1]["content"]
            return last
        content: list[dict[str, Any]] = []
        self.messages.append({"role": role, "content": content})
        return content

    def add_user_text(self, text: str, images: list[ImageBlock] | None = None) -> None:
        if text.strip():
            self._last("user").append({"type": "text", "text": text})
        if images:
            self._last("user").extend(image.api_block() for image in images)

    def add_result(
        self, tool_use_id: str, content: str, is_error: bool, images: list[ImageBlock] | None = None
    ) -> None:
        if tool_use_id not in self.pending:
            return  # answers a call this context no longer holds
        self.pending.remove(tool_use_id)
        blocks = self._last("user")
        body: str | list[dict[str, Any]] = content or "(empty)"
        if images:
            body = [{"type": "text", "text": content}] if content.strip() else []
            body += [image.api_block() for image in images]
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": body}
        if is_error:
            block["is_error"] = True
        # results lead the user message; text typed while the tools ran follows them
        index = next((i for i, b in enumerate(blocks) if b["type"] != "tool_result"), len(blocks))
        blocks.insert(index, block)

    def close_pending(self) -> None:
        for tool_use_id in list(self.pending):
            self.add_result(tool_use_id, INTERRUPTED_RESULT, is_error=True)

    def add_assistant(self, event: AssistantMessage) -> None:
        blocks: list[dict[str, Any]] = []
        calls: list[str] = []
        for block in event.content:
            if isinstance(block, TextBlock):
                if block.citations is not None:  # the API takes cited text back only as it sent it
                    blocks.append(
                        {"type": "text", "text": block.text, "citations": list(map(api_form, block.citations))}
                    )
                elif block.text.strip():
                    blocks.append({"type": "text", "text": block.text})
            elif isinstance(block, ToolUseBlock):
                blocks.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
                calls.append(block.id)
            elif isinstance(block, ThinkingBlock):
                if block.signature:  # the API rejects thinking without its signature
                    blocks.append({"type": "thinking", "thinking": block.thinking, "signature": block.signature})
            elif isinstance(block, RedactedThinkingBlock):
                blocks.append({"type": "redacted_thinking", "data": block.data})
            elif isinstance(block, (ServerToolUseBlock, WebSearchToolResultBlock)):
                blocks.append(api_form(block))
        if event.interrupted:
            blocks.append({"type": "text", "text": INTERRUPTED_NOTE})
        if not any(b["type"] in ("text", "tool_use", "server_tool_use") for b in blocks):
            return
        self.close_pending()
        if not self.messages:
            self.add_user_text(CONTINUED_NOTE)
        self._last("assistant").extend(blocks)
        self.pending = calls

    def add_messages(self, messages: list[dict[str, Any]]) -> None:
        # copies: the builder appends to the last message, and the event must stay as written
        self.messages.extend({"role": m["role"], "content": list(m["content"])} for m in messages)
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant":
            self.pending = [b["id"] for b in last["content"] if b.get("type") == "tool_use"]

    def finish(self) -> list[dict[str, Any]]:
        self.close_pending()
        return self.messages


def fold(events: Iterable[Event], agent: str | None = None) -> Context:
    """The context of ``agent`` (default: the first agent spawned) after ``events``."""
    with gc_paused():
        return _fold(events, agent)


def _fold(events: Iterable[Event], agent: str | None) -> Context:
    events = list(events)
    if agent is None:
        agent = next((e.agent for e in events if isinstance(e, AgentSpawned)), None)
    mine = [e for e in events if agent is None or e.agent == agent]

    # a compaction replaces a seq range by its summary; a later one may swallow an earlier one
    ranges: list[Compaction] = []
    stubs: dict[str, str] = {}
    for e in mine:
        if isinstance(e, Compaction):
            ranges = [c for c in ranges if not (e.from_seq <= c.from_seq and c.to_seq <= e.to_seq)]
            ranges.append(e)
        elif isinstance(e, Reduction):
            stubs.update(e.replacements)
    carrier = facts_carrier(mine)
    summarised: set[int] = set()

    context = Context()
    builder = _Builder()
    for e in mine:
        if e.kind not in _SHAPES_CONTEXT:
            continue
        covering = next((c for c in ranges if c.from_seq <= e.seq <= c.to_seq), None) if ranges else None
        if covering is not None or (isinstance(e, Compaction) and e in ranges):
            compaction = covering or e
            assert isinstance(compaction, Compaction)
            if compaction.seq not in summarised:
                summarised.add(compaction.seq)
                builder.close_pending()
                if compaction is carrier:
                    builder.add_user_text(facts_text(compaction.facts))
                builder.add_user_text(summary_text(compaction.summary))
            if covering is not None:
                if isinstance(e, AgentSpawned):
                    context.system = e.system
                continue
        if isinstance(e, AgentSpawned):
            context.system = e.system
        elif isinstance(e, Remounted):
            context.system = e.system or context.system
            builder.add_messages(e.messages)
        elif isinstance(e, UserMessage):
            builder.add_user_text(e.text, e.images)
        elif isinstance(e, Primed):
            builder.add_user_text(primer_text(e))
        elif isinstance(e, AssistantMessage):
            builder.add_assistant(e)
        elif isinstance(e, ToolResult):
            stub = stubs.get(e.tool_use_id)
            builder.add_result(e.tool_use_id, stub or e.content, e.is_error, None if stub else e.images)
        elif isinstance(e, Reduction) and e is carrier:
            builder.add_user_text(facts_text(e.facts))
    context.messages = builder.finish()
    return context
