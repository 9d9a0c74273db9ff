"""Reduction strategies: pure functions from an agent's events to the ``Reduction`` that shrinks its context.

A strategy looks at the context as ``fold`` builds it (results already stubbed
or summarised away are left alone), picks tool results to replace by short
stubs, and returns one ``Reduction`` carrying the stubs, the facts ledger in its
compact form, and the folded context's tokens before and after; or ``None`` when
it would save nothing. Appending that event is what reduces the context: fold
swaps the stubs in and shows the ledger where the reduction was logged.

A stub keeps what the ledger needs of the result it replaces and nothing else:
the call (tool, path, range, command), the exit code, and the error lines the
ledger still holds open.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workbench.engine.context.fold import Context, facts_carrier, facts_text, fold
from workbench.engine.context.tokens import TokenCounter, block_tokens, default_counter
from workbench.engine.context.tool_facts import CallFacts, call_facts, covers, error_lines, outcome
from workbench.engine.views.facts import ledger_of, ledger_text
from workbench.protocol.events import (
    AgentSpawned,
    Event,
    Reduction,
    SessionStarted,
    ToolResult,
    UserMessage,
)
from workbench.protocol.facts import FactLedger

SUPERSEDED = "superseded"
STALE = "stale"

DEFAULT_KEEP_TURNS = 3
# the results of the last calls stay (Anthropic's clear_tool_uses keeps 3 by default)
DEFAULT_KEEP_CALLS = 4
DEFAULT_MIN_TOKENS = 400


@dataclass(frozen=True)
class Exchange:
    """One tool call of the folded context and its result as the context now holds it."""

    tool_use_id: str
    name: str
    input: dict[str, Any]
    content: str
    is_error: bool
    position: int  # order of the call in the context
    seq: int  # the ToolResult event's seq
    tokens: int
    call: CallFacts


@dataclass
class _Scan:
    """An agent's folded context, measured block by block, and the exchanges a strategy may stub."""

    agent: str
    context_tokens: int
    exchanges: list[Exchange]
    turn_starts: list[int]  # seqs of the agent's user messages
    ledger: FactLedger
    shown_facts: str  # the ledger text the context shows now


class MemoCounter:
    """Counts each distinct text once: a file read twice, or the blocks a second pass sees again."""

    def __init__(self, counter: TokenCounter) -> None:
        self.counter = counter
        self.seen: dict[str, int] = {}

    def count(self, text: str) -> int:
        tokens = self.seen.get(text)
        if tokens is None:
            tokens = self.seen[text] = self.counter.count(text)
        return tokens


def memo_counter(counter: TokenCounter | None) -> MemoCounter:
    return counter if isinstance(counter, MemoCounter) else MemoCounter(counter or default_counter())


def context_tokens(context: Context, counter: TokenCounter) -> int:
    """Tokens of a folded context, counted block by block as the ledger counts them."""
    total = counter.count(context.system)
    for message in context.messages:
        for block in message["content"]:
            total += block_tokens(block, counter)
    return total


def _agent_of(events: Sequence[Event], agent: str | None) -> str:
    if agent is not None:
        return agent
    return next((e.agent for e in events if isinstance(e, AgentSpawned)), "")


def _scan(events: Sequence[Event], agent: str | None, counter: TokenCounter) -> _Scan:
    agent = _agent_of(events, agent)
    mine = [e for e in events if e.agent == agent]
    context = fold(mine, agent=agent)
    result_seq = {e.tool_use_id: e.seq for e in mine if isinstance(e, ToolResult)}
    stubbed = {i for e in mine if isinstance(e, Reduction) for i in e.replacements}
    ledger = ledger_of(events, agent)
    cwd = next((e.cwd for e in events if isinstance(e, SessionStarted)), "")

    total = counter.count(context.system)
    calls: dict[str, tuple[str, dict[str, Any], int]] = {}
    exchanges: list[Exchange] = []
    for message in context.messages:
        for block in message["content"]:
            tokens = block_tokens(block, counter)
            total += tokens
            if block["type"] == "tool_use":
                calls[block["id"]] = (block["name"], block["input"], len(calls))
            elif block["type"] == "tool_result":
                tool_use_id = block["tool_use_id"]
                if tool_use_id in stubbed or tool_use_id not in result_seq or tool_use_id not in calls:
                    continue  # already reduced, or an answer fold made up for an interrupted call
                name, tool_input, position = calls[tool_use_id]
                content = block["content"] if isinstance(block["content"], str) else ""
                exchanges.append(
                    Exchange(
                        tool_use_id=tool_use_id,
                        name=name,
                        input=tool_input,
                        content=content,
                        is_error=bool(block.get("is_error")),
                        position=position,
                        seq=result_seq[tool_use_id],
                        tokens=tokens,
                        call=call_facts(name, tool_input, cwd, content),
                    )
                )
    exchanges.sort(key=lambda x: x.position)
    carrier = facts_carrier(mine)
    return _Scan(
        agent=agent,
        context_tokens=total,
        exchanges=exchanges,
        turn_starts=[e.seq for e in mine if isinstance(e, UserMessage)],
        ledger=ledger,
        shown_facts=carrier.facts if carrier is not None else "",
    )


def _reduction(scan: _Scan, strategy: str, stubs: dict[str, str], counter: TokenCounter) -> Reduction | None:
    """The Reduction for the stubs that save tokens, carrying the ledger; None when it would not save any."""
    by_id = {x.tool_use_id: x for x in scan.exchanges}
    kept: dict[str, str] = {}
    saved = 0
    for tool_use_id, stub in stubs.items():
        gain = by_id[tool_use_id].tokens - counter.count(stub)
        if gain > 0:
            kept[tool_use_id] = stub
            saved += gain
    facts = ledger_text(scan.ledger)
    if facts == scan.shown_facts:
        facts = ""  # the context shows this very ledger already
    elif facts:
        shown = counter.count(facts_text(scan.shown_facts)) if scan.shown_facts else 0
        saved -= counter.count(facts_text(facts)) - shown
    if not kept or saved <= 0:
        return None
    return Reduction(
        agent=scan.agent,
        strategy=strategy,
        tokens_before=scan.context_tokens,
        tokens_after=scan.context_tokens - saved,
        replacements=kept,
        facts=facts,
    )


# --- what a stub keeps --------------------------------------------------------------------


def kept_errors(x: Exchange, ledger: FactLedger) -> tuple[list[str], int]:
    """The error lines of a result the ledger still holds open, and how many others it shows resolved."""
    ended = outcome(x.call, x.content, x.is_error)
    failed = ended.failed and not x.call.search
    lines = error_lines(x.content, fallback=failed) if failed or x.call.runs_something else []
    still = {line for fact in ledger.errors for line in fact.open}
    kept = [line for line in lines if line in still]
    return kept, len(lines) - len(kept)


def stub(x: Exchange, ledger: FactLedger, why: str, *, hint: bool = True) -> str:
    """``[why: the call → how it ended: open error lines]``: what the ledger needs, nothing else."""
    ended = outcome(x.call, x.content, x.is_error)
    end = f" → {ended.label}" if x.call.command or ended.failed else ""
    kept, resolved = kept_errors(x, ledger)
    errors = ": " + " | ".join(kept) if kept else ""
    later = f" ({resolved} error line{'s' if resolved != 1 else ''} resolved since)" if resolved else ""
    again = "; repeat the call to see it" if hint else ""
    return f"[{why}: {x.call.label}{end}{errors}{later}{again}]"


# --- strategy 1: superseded results -------------------------------------------------------


def _superseder(x: Exchange, later: list[Exchange]) -> str | None:
    """Why a later call made ``x`` obsolete, or None."""
    if x.call.reads_only and not x.is_error:
        pending = {t.path: t.span for t in x.call.touches}
        for y in later:
            if y.is_error:
                continue
            for touch in y.call.touches:
                if touch.path not in pending:
                    continue
                if touch.action == "read" and y.call.reads_only and covers(touch.span, pending[touch.path]):
                    del pending[touch.path]
                elif touch.action != "read" and not outcome(y.call, y.content, y.is_error).failed:
                    return f"superseded: {touch.path} was changed later ({y.call.label})"
            if not pending:
                return f"superseded by a later read ({y.call.label})"
        return None
    if x.call.search or x.call.runs_something:
        key = json.dumps([x.name, x.input], sort_keys=True) if x.call.search else x.call.key
        for y in reversed(later):  # the newest identical call is the one whose output stands
            same = json.dumps([y.name, y.input], sort_keys=True) if y.call.search else y.call.key
            if same == key:
                return "superseded by a later identical call"
    return None


def supersede(
    events: Sequence[Event], agent: str | None = None, counter: TokenCounter | None = None
) -> Reduction | None:
    """Stub tool results a later call made obsolete.

    A read of a file (Read, or a command such as ``sed -n``) is superseded by a
    later read covering the same lines or by a successful change to that file; a
    search's or command's output by a later identical call.
    """
    counter = memo_counter(counter)
    scan = _scan(events, agent, counter)
    stubs: dict[str, str] = {}
    exchanges = scan.exchanges
    for index, x in enumerate(exchanges):
        if (why := _superseder(x, exchanges[index + 1 :])) is not None:
            stubs[x.tool_use_id] = stub(x, scan.ledger, why, hint=False)
    return _reduction(scan, SUPERSEDED, stubs, counter)


# --- strategy 2: stale large results ------------------------------------------------------


def elide_stale(
    events: Sequence[Event],
    agent: str | None = None,
    counter: TokenCounter | None = None,
    *,
    keep_turns: int = DEFAULT_KEEP_TURNS,
    keep_calls: int = DEFAULT_KEEP_CALLS,
    min_tokens: int = DEFAULT_MIN_TOKENS,
) -> Reduction | None:
    """Stub results of at least ``min_tokens`` from before the last ``keep_turns`` turns, or older than the
    last ``keep_calls`` calls.

    A turn starts at a user message: one long turn (a task given once, worked
    through in many steps) has stale results too, past its last few calls.
    """
    counter = memo_counter(counter)
    scan = _scan(events, agent, counter)
    boundary = scan.turn_starts[-keep_turns] if keep_turns and len(scan.turn_starts) > keep_turns else 0
    recent = {x.tool_use_id for x in scan.exchanges[-keep_calls:]} if keep_calls else set()
    stubs = {
        x.tool_use_id: stub(x, scan.ledger, "elided to save context")
        for x in scan.exchanges
        if (x.seq < boundary or x.tool_use_id not in recent) and x.tokens >= min_tokens
    }
    return _reduction(scan, STALE, stubs, counter)


# --- both ---------------------------------------------------------------------------------


def reduce_context(
    events: Sequence[Event],
    agent: str | None = None,
    counter: TokenCounter | None = None,
    *,
    keep_turns: int = DEFAULT_KEEP_TURNS,
    keep_calls: int = DEFAULT_KEEP_CALLS,
    min_tokens: int = DEFAULT_MIN_TOKENS,
) -> list[Reduction]:
    """Superseded results first, then stale ones: the Reductions to append, in order."""
    counter = memo_counter(counter)
    agent = _agent_of(events, agent)
    superseded = supersede(events, agent, counter)
    found = [superseded] if superseded is not None else []
    stale = elide_stale(
        [*events, *found], agent, counter, keep_turns=keep_turns, keep_calls=keep_calls, min_tokens=min_tokens
    )
    return found + ([stale] if stale is not None else [])
