"""Compaction: the brain summarises an agent's older turns; the last turns stay verbatim.

``compact`` returns the ``Compaction`` event to append; fold then puts the
summary where the summarised range was. The boundary is always a turn start
(a step start inside a single long turn), never between a tool call and its result.

Summaries drop details, whoever writes them, so a compaction starts from the
agent's facts ledger (the files, commands, errors, the user's instructions and
the decisions, exactly as the log has them): the ledger goes to the brain with
the request and into the event verbatim, and the brain writes the rest (goal,
state, next steps).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from workbench.brains.base import Brain
from workbench.engine.context.fold import facts_text, fold
from workbench.engine.context.reduce import context_tokens, memo_counter
from workbench.engine.context.tokens import MEMORY_PRIMER, TokenCounter
from workbench.engine.views.facts import ledger_of, ledger_text
from workbench.protocol.brain_io import BrainRequest, MessageDone, ToolSpec, UsageReport
from workbench.protocol.content import text_of, tool_uses
from workbench.protocol.events import AssistantMessage, Compaction, Event, Primed, Reduction, ToolResult, UserMessage
from workbench.protocol.markers import COMPACTION_MARKER, SUMMARY_REQUEST

# The scripted brain answers a request whose system prompt carries the marker with an extractive summary.
SUMMARY_PROMPT = f"""{COMPACTION_MARKER}
You are compacting an agent's conversation so that it can go on in a fresh context.
The engine keeps a ledger of the conversation's facts, exact, from its log: the user's instructions, the
files read and changed, the commands run and how they ended, the errors (open and resolved) and the
decisions. It is below, and it goes verbatim ahead of your summary: do not repeat it. Write the rest of
what the agent needs to go on, under exactly these headings:
## Goal — what the user wants overall, and what they asked for last
## State — where the work stands: what is done, what was tried and failed, what the agent was doing
## Next steps — what remains to do, in order
Be specific and brief: exact names, no narration of the conversation. Do not call tools. Reply with the summary
only."""
LEDGER_HEADING = "The facts ledger (kept verbatim ahead of your summary):"

USER_INSTRUCTIONS = "Instructions from the user for this summary (they take precedence):"

DEFAULT_KEEP_TURNS = 2
MAX_KEPT_SHARE = 0.25  # of the context, for the turns a compaction keeps verbatim
SUMMARY_MAX_TOKENS = 4096

# kinds whose events become part of the messages fold builds
_CONTEXT_KINDS = frozenset({"user_message", "primed", "assistant_message", "tool_result", "remounted"})


class NothingToCompact(Exception):
    """Every turn of the context is among those to keep (or already summarised), or what the summary
    would replace is smaller than the summary."""


class CompactionFailed(Exception):
    """The brain's reply held no summary."""


def compaction_range(
    events: Sequence[Event], agent: str, keep_turns: int = DEFAULT_KEEP_TURNS, max_kept_share: float = MAX_KEPT_SHARE
) -> tuple[int, int]:
    """The seq range to summarise: from the first context event up to the last ``keep_turns`` turns.

    A turn starts at a user message. When the context holds too few turns
    (one long delegated task), steps (assistant replies) stand in for turns;
    when the turns kept would hold more than ``max_kept_share`` of the context,
    the boundary moves on to a later step. The boundary moves back past any tool
    call whose result comes after it. The standing primer (the memory files) is never
    summarised: it stays verbatim, and so does the cached prefix it ends.
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
            return start, _within_share(mine, boundary, result_at, max_kept_share) - 1
    raise NothingToCompact(f"fewer than {keep_turns + 1} turns to compact")


def _within_share(mine: Sequence[Event], boundary: int, result_at: dict[str, int], share: float) -> int:
    """The boundary, or the first later step from which the rest holds at most ``share`` of the context
    (the last step when none does)."""
    sizes = _sizes(mine)
    total = sum(sizes.values()) or 1
    kept = sum(size for seq, size in sizes.items() if seq >= boundary)
    if kept / total <= share:
        return boundary
    steps = [e.seq for e in mine if isinstance(e, AssistantMessage) and e.seq > boundary]
    valid = [step for step in steps if not _splits_a_call(mine, step, result_at)]
    for step in valid:
        if sum(size for seq, size in sizes.items() if seq >= step) / total <= share:
            return step
    return valid[-1] if valid else boundary


def _sizes(mine: Sequence[Event]) -> dict[int, int]:
    """Roughly what each event puts into the context (characters), stubs standing in for reduced results."""
    stubs = {i: stub for e in mine if isinstance(e, Reduction) for i, stub in e.replacements.items()}
    covered = [(c.from_seq, c.to_seq) for c in mine if isinstance(c, Compaction)]
    sizes: dict[int, int] = {}
    for e in mine:
        if any(low <= e.seq <= high for low, high in covered):
            continue
        if isinstance(e, UserMessage):
            sizes[e.seq] = len(e.text)
        elif isinstance(e, Primed):
            sizes[e.seq] = len(e.text)
        elif isinstance(e, AssistantMessage):
            sizes[e.seq] = len(json.dumps([b.model_dump() for b in e.content]))
        elif isinstance(e, ToolResult):
            sizes[e.seq] = len(stubs.get(e.tool_use_id, e.content))
    return sizes


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
    facts: str = "",
) -> BrainRequest:
    """The request that asks the brain to summarise the context up to ``to_seq``, the ledger ``facts`` aside."""
    # earlier compactions apply wherever they were logged: their ranges end before to_seq
    prefix = [e for e in events if e.agent == agent and (e.seq <= to_seq or isinstance(e, Compaction))]
    context = fold(prefix, agent=agent)
    system = SUMMARY_PROMPT
    if facts:
        system += f"\n\n{LEDGER_HEADING}\n{facts_text(facts)}"
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
    max_kept_share: float = MAX_KEPT_SHARE,
) -> Compaction:
    """Summarise all but the last ``keep_turns`` turns of ``agent``; the Compaction to append.

    ``on_usage`` is told what the summary request cost. Raises NothingToCompact, CompactionFailed,
    or the brain's BrainError.
    """
    counter = memo_counter(counter)  # before and after share most blocks
    mine = [e for e in events if e.agent == agent]
    from_seq, to_seq = compaction_range(mine, agent, keep_turns, max_kept_share)
    facts = ledger_text(ledger_of(events, agent))
    request = compaction_request(
        mine, agent, to_seq, instructions=instructions, model=brain.model, tools=tools, facts=facts
    )
    done: MessageDone | None = None
    async for item in brain.stream(request):
        if isinstance(item, MessageDone):
            done = item
        elif isinstance(item, UsageReport) and on_usage is not None:
            on_usage(item)
    summary = text_of(done.content).strip() if done is not None else ""
    if not summary:
        raise CompactionFailed("the brain's reply held no summary")
    compaction = Compaction(
        agent=agent,
        summary=summary,
        from_seq=from_seq,
        to_seq=to_seq,
        instructions=instructions,
        automatic=automatic,
        facts=facts,
    )
    before = context_tokens(fold(mine, agent=agent), counter)
    after = context_tokens(fold([*mine, compaction], agent=agent), counter)
    if after >= before:
        raise NothingToCompact(
            f"the summary and the facts ledger ({after - before:+,} tokens) would not shrink the context"
        )
    return compaction.model_copy(update={"tokens_before": before, "tokens_after": after})
