"""Reduction strategies: pure functions from an agent's events to the ``Reduction`` that shrinks its context.

A strategy looks at the context as ``fold`` builds it (results already stubbed
or summarised away are left alone), picks tool results to replace by short
stubs, and returns one ``Reduction`` carrying the stubs and the folded
context's tokens before and after; or ``None`` when it would save nothing.
Appending that event is what reduces the context: fold swaps the stubs in.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workbench.engine.context.fold import Context, fold
from workbench.engine.context.tokens import TokenCounter, block_tokens, default_counter
from workbench.protocol.events import AgentSpawned, Event, Reduction, SessionStarted, ToolResult, UserMessage
from workbench.tools.read import DEFAULT_LIMIT

SUPERSEDED = "superseded"
STALE = "stale"

DEFAULT_KEEP_TURNS = 3
DEFAULT_MIN_TOKENS = 400

_READ, _WRITE, _EDIT = "Read", "Write", "Edit"
# tools whose repeated identical call answers the same question with a newer answer
_REPEATABLE = frozenset({"Grep", "Glob", "Bash"})
# the Read tool's closing note when it stopped before the end of the file (tools/read.py)
_MORE_LINES = re.compile(r"\n\[\d+ more lines; call Read with offset=\d+ to continue\]$")
# a Python exception line, a test run's verdict, a compiler or linter "error:", a non-zero exit
_ERROR_LINE = re.compile(
    r"^\s*(?:E\s+)?[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failure)\b(?::|$)"
    r"|^FAILED\b|(?:^|\s)(?:error|fatal)(?:\[\w+\])?:\s|^\[exit code [1-9]\d*\]|^\[timed out"
)
MAX_ERROR_LINES = 8
MAX_ERROR_LINE_CHARS = 160


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


@dataclass
class _Scan:
    """An agent's folded context, measured block by block, and the exchanges a strategy may stub."""

    agent: str
    cwd: str
    context_tokens: int
    exchanges: list[Exchange]
    turn_starts: list[int]  # seqs of the agent's user messages


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
                exchanges.append(
                    Exchange(
                        tool_use_id=tool_use_id,
                        name=name,
                        input=tool_input,
                        content=block["content"],
                        is_error=bool(block.get("is_error")),
                        position=position,
                        seq=result_seq[tool_use_id],
                        tokens=tokens,
                    )
                )
    exchanges.sort(key=lambda x: x.position)
    turn_starts = [e.seq for e in mine if isinstance(e, UserMessage)]
    return _Scan(agent, cwd, total, exchanges, turn_starts)


def _reduction(scan: _Scan, strategy: str, stubs: dict[str, str], counter: TokenCounter) -> Reduction | None:
    """The Reduction for the stubs that save tokens; None when none does."""
    by_id = {x.tool_use_id: x for x in scan.exchanges}
    kept: dict[str, str] = {}
    saved = 0
    for tool_use_id, stub in stubs.items():
        gain = by_id[tool_use_id].tokens - counter.count(stub)
        if gain > 0:
            kept[tool_use_id] = stub
            saved += gain
    if not kept:
        return None
    return Reduction(
        agent=scan.agent,
        strategy=strategy,
        tokens_before=scan.context_tokens,
        tokens_after=scan.context_tokens - saved,
        replacements=kept,
    )


# --- what a result was --------------------------------------------------------------------


def _path(raw: object, cwd: str) -> str:
    """A file path as the workspace names it, so ``./a.py``, ``a.py`` and ``/ws/a.py`` compare equal."""
    if not isinstance(raw, str) or not raw:
        return ""
    path = raw
    if cwd and path.startswith(cwd.rstrip("/") + "/"):
        path = path[len(cwd.rstrip("/")) + 1 :]
    return posixpath.normpath(path)


def _line_count(content: str) -> int:
    return content.count("\n") + 1 if content else 0


def _read_span(tool_input: dict[str, Any], content: str) -> tuple[int, float]:
    """First and last line a Read showed; a read that reached the end of the file runs to infinity."""
    start = tool_input.get("offset") or 1
    limit = tool_input.get("limit") or DEFAULT_LIMIT
    end = start + limit - 1 if _MORE_LINES.search(content) else float("inf")
    return start, end


def _lines_label(tool_input: dict[str, Any], content: str) -> str:
    start, end = _read_span(tool_input, content)
    if start == 1 and end == float("inf"):
        return ""
    last = "end" if end == float("inf") else str(int(end))
    return f" (lines {start}–{last})"


def describe(name: str, tool_input: dict[str, Any], content: str = "", cwd: str = "") -> str:
    """What a call was, in a few words: ``Read of src/app.py``, ``Bash `make test```."""
    if name == _READ:
        return f"Read of {_path(tool_input.get('file_path'), cwd)}{_lines_label(tool_input, content)}"
    if name == "Bash":
        return f"Bash `{_one_line(tool_input.get('command', ''), 200)}`"
    if name == "Grep":
        where = f" in {tool_input['path']}" if tool_input.get("path") else ""
        return f"Grep for `{_one_line(tool_input.get('pattern', ''), 120)}`{where}"
    if name == "Glob":
        where = f" in {tool_input['path']}" if tool_input.get("path") else ""
        return f"Glob `{tool_input.get('pattern', '')}`{where}"
    for key in ("file_path", "path", "description", "pattern", "command"):
        if isinstance(tool_input.get(key), str):
            return f"{name} {_one_line(tool_input[key], 120)}"
    return name


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_lines(content: str) -> list[str]:
    """The lines of a failed result that say what went wrong (exception lines, FAILED, exit code)."""
    found: list[str] = []
    for line in content.splitlines():
        if _ERROR_LINE.search(line):
            text = _one_line(line.strip().removeprefix("E ").strip(), MAX_ERROR_LINE_CHARS)
            if text not in found:
                found.append(text)
    if not found:
        first = next((line for line in content.splitlines() if line.strip()), "")
        return [_one_line(first, MAX_ERROR_LINE_CHARS)] if first else []
    # the last lines hold the verdict (the final exception, the summary, the exit code)
    return found[-MAX_ERROR_LINES:]


# --- strategy 1: superseded results -------------------------------------------------------


def _superseder(x: Exchange, later: list[Exchange], cwd: str) -> str | None:
    """The stub saying which later call made ``x`` obsolete, or None."""
    lines = _line_count(x.content)
    if x.name == _READ and not x.is_error:
        path = _path(x.input.get("file_path"), cwd)
        start, end = _read_span(x.input, x.content)
        for y in later:
            if y.is_error or _path(y.input.get("file_path"), cwd) != path:
                continue
            if y.name == _READ:
                y_start, y_end = _read_span(y.input, y.content)
                if y_start <= start and end <= y_end:
                    return (
                        f"[Superseded by a later Read of {path} ({y.tool_use_id}); "
                        f"this older copy ({lines} lines) was removed to save context.]"
                    )
            elif y.name in (_WRITE, _EDIT):
                return (
                    f"[Superseded: {path} was changed by {y.name} ({y.tool_use_id}) after this Read; the older "
                    f"copy ({lines} lines) was removed to save context. Read the file again for its current text.]"
                )
    elif x.name in _REPEATABLE:
        key = json.dumps(x.input, sort_keys=True)
        for y in reversed(later):  # the newest identical call is the one whose output stands
            if y.name == x.name and json.dumps(y.input, sort_keys=True) == key:
                return (
                    f"[Superseded by a later identical call ({y.tool_use_id}): {describe(x.name, x.input, cwd=cwd)}; "
                    f"this older output ({lines} lines) was removed to save context.]"
                )
    return None


def supersede(
    events: Sequence[Event], agent: str | None = None, counter: TokenCounter | None = None
) -> Reduction | None:
    """Stub tool results a later call made obsolete.

    A Read is superseded by a later Read of the same file covering the same
    lines, or by a successful Write or Edit of that file; a Grep, Glob or
    Bash result by a later call with the identical input.
    """
    counter = memo_counter(counter)
    scan = _scan(events, agent, counter)
    stubs: dict[str, str] = {}
    exchanges = scan.exchanges
    for index, x in enumerate(exchanges):
        if (stub := _superseder(x, exchanges[index + 1 :], scan.cwd)) is not None:
            stubs[x.tool_use_id] = stub
    return _reduction(scan, SUPERSEDED, stubs, counter)


# --- strategy 2: stale large results ------------------------------------------------------


def stale_stub(x: Exchange, turns_ago: int, cwd: str = "") -> str:
    """A stub that says what the result was, so the model can ask for it again; a failure's error lines first."""
    what = describe(x.name, x.input, x.content, cwd)
    failed = " failed: " + " | ".join(error_lines(x.content)) + ";" if x.is_error else ","
    return (
        f"[Elided to save context: {what}{failed} {_line_count(x.content)} lines ({x.tokens:,} tokens) "
        f"from {turns_ago} turns ago; call {x.name} again if you need it.]"
    )


def elide_stale(
    events: Sequence[Event],
    agent: str | None = None,
    counter: TokenCounter | None = None,
    *,
    keep_turns: int = DEFAULT_KEEP_TURNS,
    min_tokens: int = DEFAULT_MIN_TOKENS,
) -> Reduction | None:
    """Stub results of at least ``min_tokens`` from before the last ``keep_turns`` turns.

    A turn starts at a user message. Stubs keep the tool, its subject, the
    size and, for failures, the error lines.
    """
    counter = memo_counter(counter)
    scan = _scan(events, agent, counter)
    if len(scan.turn_starts) <= keep_turns:
        return None
    boundary = scan.turn_starts[-keep_turns] if keep_turns else float("inf")
    stubs: dict[str, str] = {}
    for x in scan.exchanges:
        if x.seq < boundary and x.tokens >= min_tokens:
            turns_ago = sum(1 for start in scan.turn_starts if start > x.seq)
            stubs[x.tool_use_id] = stale_stub(x, turns_ago, scan.cwd)
    return _reduction(scan, STALE, stubs, counter)


# --- both ---------------------------------------------------------------------------------


def reduce_context(
    events: Sequence[Event],
    agent: str | None = None,
    counter: TokenCounter | None = None,
    *,
    keep_turns: int = DEFAULT_KEEP_TURNS,
    min_tokens: int = DEFAULT_MIN_TOKENS,
) -> list[Reduction]:
    """Superseded results first, then stale ones: the Reductions to append, in order."""
    counter = memo_counter(counter)
    agent = _agent_of(events, agent)
    superseded = supersede(events, agent, counter)
    found = [superseded] if superseded is not None else []
    stale = elide_stale([*events, *found], agent, counter, keep_turns=keep_turns, min_tokens=min_tokens)
    return found + ([stale] if stale is not None else [])
