"""Compaction: the brain summarises an agent's older turns; the last turns stay verbatim.

``compact`` returns the ``Compaction`` event to append; fold then puts the
summary where the summarised range was. The boundary is always a turn start
(a step start inside a single long turn), never between a tool call and its result.

Summaries drop details, whoever writes them, so the engine checks the brain's
summary for what it can compute exactly (the user's own messages, the files
touched, the error lines still open) and appends whatever the summary left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from workbench.brains.base import Brain
from workbench.engine.context.fold import fold
from workbench.engine.context.reduce import context_tokens, describe, error_lines, memo_counter
from workbench.engine.context.tokens import MEMORY_PRIMER, TokenCounter
from workbench.protocol.brain_io import BrainRequest, MessageDone, ToolSpec, UsageReport
from workbench.protocol.content import text_of, tool_uses
from workbench.protocol.events import AssistantMessage, Compaction, Event, Primed, ToolResult, UserMessage
from workbench.protocol.markers import COMPACTION_MARKER, SUMMARY_REQUEST

# The scripted brain answers a request whose system prompt carries the marker with an extractive summary.
SUMMARY_PROMPT = f"""{COMPACTION_MARKER}
You are compacting an agent's conversation so that it can go on in a fresh context.
Write one summary of the conversation above that replaces it entirely. Keep, under these headings:
## Goal — what the user wants overall
## Instructions — every explicit instruction and constraint the user gave, verbatim where short
## Decisions — what was decided, and why
## Files touched — each path read, written or edited, and what changed
## Open errors — errors not yet resolved, with their exact messages
## Next steps — what remains to do
Be specific: exact paths, names, commands and error messages. Do not call tools. Reply with the summary only."""

USER_INSTRUCTIONS = "Instructions from the user for this summary (they take precedence):"

DEFAULT_KEEP_TURNS = 2
SUMMARY_MAX_TOKENS = 4096
PINNED_HEADING = "## Kept verbatim by the engine (missing from the summary above)"
MAX_PINNED_MESSAGE_CHARS = 1000

# kinds whose events become part of the messages fold builds
_CONTEXT_KINDS = frozenset({"user_message", "primed", "assistant_message", "tool_result", "remounted"})


class NothingToCompact(Exception):
    """Every turn of the context is among those to keep (or already summarised)."""


class CompactionFailed(Exception):
    """The brain's reply held no summary."""


def compaction_range(events: Sequence[Event], agent: str, keep_turns: int = DEFAULT_KEEP_TURNS) -> tuple[int, int]:
    """The seq range to summarise: from the first context event up to the last ``keep_turns`` turns.

    A turn starts at a user message. When the context holds too few turns
    (one long delegated task), steps (assistant replies) stand in for turns.
    The boundary moves back past any tool call whose result comes after it. The standing primer
    (the memory files) is never summarised: it stays verbatim, and so does the cached prefix it ends.
    """
    mine = [e for e in events if e.agent == agent]
    earlier = [e for e in mine if isinstance(e, Compaction)]
    covered_to = max((c.to_seq for c in earlier), default=0)
    shaping = [
        e.seq for e in mine if e.kind in _CONTEXT_KINDS and not (isinstance(e, Primed) and e.primer == MEMORY_PRIMER)
    ]
    if not shaping:
        raise NothingToCompact("the context is empty")
    start = min([shaping[0], *(c.from_seq for c in earlier)])

    turns = [e.seq for e in mine if isinstance(e, UserMessage) and e.seq > covered_to]
    if len(turns) <= keep_turns:
        last_turn = turns[-1] if turns else covered_to
        turns = [e.seq for e in mine if isinstance(e, AssistantMessage) and e.seq > last_turn]
    # a boundary at turns[-keep_turns] keeps exactly keep_turns turns; earlier ones keep more
    candidates = turns[: len(turns) - keep_turns + 1] if keep_turns else [*turns, mine[-1].seq + 1]
    result_at = {e.tool_use_id: e.seq for e in mine if isinstance(e, ToolResult)}
    for boundary in reversed(candidates):
        fresh = [s for s in shaping if covered_to < s < boundary]
        if not fresh:
            break
        if not _splits_a_call(mine, boundary, result_at):
            return start, boundary - 1
    raise NothingToCompact(f"fewer than {keep_turns + 1} turns to compact")


def _splits_a_call(mine: Sequence[Event], boundary: int, result_at: dict[str, int]) -> bool:
    for e in mine:
        if e.seq >= boundary:
            return False
        if isinstance(e, AssistantMessage) and any(result_at.get(b.id, 0) >= boundary for b in tool_uses(e.content)):
            return True
    return False


def compaction_request(
    events: Sequence[Event],
    agent: str,
    to_seq: int,
    *,
    instructions: str = "",
    model: str = "",
    tools: Sequence[ToolSpec] = (),
    max_tokens: int = SUMMARY_MAX_TOKENS,
) -> BrainRequest:
    """The request that asks the brain to summarise the context up to ``to_seq``."""
    # earlier compactions apply wherever they were logged: their ranges end before to_seq
    prefix = [e for e in events if e.agent == agent and (e.seq <= to_seq or isinstance(e, Compaction))]
    context = fold(prefix, agent=agent)
    system = SUMMARY_PROMPT
    if instructions.strip():
        system += f"\n\n{USER_INSTRUCTIONS}\n{instructions.strip()}"
    messages: list[dict[str, Any]] = [*context.messages]
    ask = {"type": "text", "text": SUMMARY_REQUEST}
    if messages and messages[-1]["role"] == "user":
        messages[-1] = {"role": "user", "content": [*messages[-1]["content"], ask]}
    else:
        messages.append({"role": "user", "content": [ask]})
    # the tool definitions go along because the messages hold tool calls
    return BrainRequest(model=model, system=system, messages=messages, tools=list(tools), max_tokens=max_tokens)


async def compact(
    events: Sequence[Event],
    agent: str,
    brain: Brain,
    instructions: str = "",
    keep_turns: int = DEFAULT_KEEP_TURNS,
    counter: TokenCounter | None = None,
    *,
    automatic: bool = False,
    tools: Sequence[ToolSpec] = (),
    on_usage: Callable[[UsageReport], None] | None = None,
) -> Compaction:
    """Summarise all but the last ``keep_turns`` turns of ``agent``; the Compaction to append.

    ``on_usage`` is told what the summary request cost. Raises NothingToCompact, CompactionFailed,
    or the brain's BrainError.
    """
    counter = memo_counter(counter)  # before and after share most blocks
    mine = [e for e in events if e.agent == agent]
    from_seq, to_seq = compaction_range(mine, agent, keep_turns)
    request = compaction_request(mine, agent, to_seq, instructions=instructions, model=brain.model, tools=tools)
    done: MessageDone | None = None
    async for item in brain.stream(request):
        if isinstance(item, MessageDone):
            done = item
        elif isinstance(item, UsageReport) and on_usage is not None:
            on_usage(item)
    summary = text_of(done.content).strip() if done is not None else ""
    if not summary:
        raise CompactionFailed("the brain's reply held no summary")
    summary += missing_facts(mine, from_seq, to_seq, summary)
    compaction = Compaction(
        agent=agent,
        summary=summary,
        from_seq=from_seq,
        to_seq=to_seq,
        instructions=instructions,
        automatic=automatic,
    )
    return compaction.model_copy(
        update={
            "tokens_before": context_tokens(fold(mine, agent=agent), counter),
            "tokens_after": context_tokens(fold([*mine, compaction], agent=agent), counter),
        }
    )


# --- what the summary must not lose -------------------------------------------------------


def _flat(text: str) -> str:
    return " ".join(text.split())


def missing_facts(events: Sequence[Event], from_seq: int, to_seq: int, summary: str) -> str:
    """A section listing the user messages, paths and open error lines of the range that ``summary`` lacks.

    Empty when the summary holds them all.
    """
    held = _flat(summary)
    calls = _calls(events)
    sections = [
        ("User messages", [m for m in _user_messages(events, from_seq, to_seq) if m not in held]),
        ("Files touched", [p for p in _paths(calls, from_seq, to_seq) if p not in held]),
        ("Errors still open", _open_errors(events, calls, from_seq, to_seq, held)),
    ]
    body = [f"{title}:\n" + "\n".join(f"- {item}" for item in items) for title, items in sections if items]
    return f"\n\n{PINNED_HEADING}\n" + "\n".join(body) if body else ""


_Call = tuple[str, dict[str, Any], int]  # tool name, input, seq of the reply that made the call


def _calls(events: Sequence[Event]) -> dict[str, _Call]:
    return {
        block.id: (block.name, block.input, e.seq)
        for e in events
        if isinstance(e, AssistantMessage)
        for block in tool_uses(e.content)
    }


def _user_messages(events: Sequence[Event], from_seq: int, to_seq: int) -> list[str]:
    texts = (
        _flat(e.text)[:MAX_PINNED_MESSAGE_CHARS]
        for e in events
        if isinstance(e, UserMessage) and from_seq <= e.seq <= to_seq
    )
    return [text for text in dict.fromkeys(texts) if text]


def _paths(calls: dict[str, _Call], from_seq: int, to_seq: int) -> list[str]:
    found = (
        value
        for _, tool_input, seq in calls.values()
        if from_seq <= seq <= to_seq
        for key, value in tool_input.items()
        if key in ("file_path", "path") and isinstance(value, str) and value
    )
    return list(dict.fromkeys(found))


def _open_errors(events: Sequence[Event], calls: dict[str, _Call], from_seq: int, to_seq: int, held: str) -> list[str]:
    """Error lines of the range's failed calls whose latest result (same tool, same input) in the log failed."""
    latest: dict[str, ToolResult] = {}
    for e in events:
        if isinstance(e, ToolResult) and e.tool_use_id in calls:
            name, tool_input, _ = calls[e.tool_use_id]
            latest[name + json.dumps(tool_input, sort_keys=True)] = e
    found: list[str] = []
    for result in latest.values():
        if not result.is_error or not from_seq <= result.seq <= to_seq:
            continue
        name, tool_input, _ = calls[result.tool_use_id]
        lines = [line for line in error_lines(result.content) if _flat(line) not in held]
        if lines:
            found.append(f"{describe(name, tool_input, result.content)}: " + " | ".join(lines))
    return found
