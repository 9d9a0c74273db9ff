"""Every agent's facts ledger, folded from its events: what the log establishes, exactly.

Files read and changed (with the last known state), commands run and how they
ended, errors seen and whether a later try cleared them, the user's own words,
and the decisions the agent stated. Summaries drop details, whoever writes them;
the ledger does not, so every reduction and compaction carries its compact text
(``ledger_text``) into the context, and delegation briefs are built from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, assert_never

from workbench.brains.extractive import decisions_in, prose_sentences
from workbench.engine.context.tokens import TokenCounter
from workbench.engine.context.tool_facts import CallFacts, call_facts, error_lines, one_line, outcome
from workbench.protocol.content import TextBlock, tool_uses
from workbench.protocol.events import (
    AgentFinished,
    AgentPlaced,
    AgentSpawned,
    ApprovalDecided,
    ApprovalRequested,
    AssistantMessage,
    ChildResult,
    ClusterStatus,
    Compaction,
    Delegated,
    DelegationDecided,
    DelegationProposed,
    Error,
    Event,
    FilesChanged,
    FilesRestored,
    ModeChanged,
    OpaqueEvent,
    PatchStored,
    PauseChanged,
    PermissionDecision,
    PlanDecided,
    PlanProposed,
    Primed,
    PromptQueued,
    QuestionAnswered,
    QuestionAsked,
    Reduction,
    Remounted,
    RuleAdded,
    SessionRenamed,
    SessionStarted,
    ShellEnded,
    ShellStarted,
    SpendCap,
    Status,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
    WorktreeCommitted,
    WorktreeConflicted,
    WorktreeCreated,
    WorktreeDiscarded,
    WorktreeKept,
    WorktreeMerged,
    WorktreeSkipped,
)
from workbench.protocol.facts import CommandFact, ErrorFact, FactLedger, FileFact
from workbench.protocol.markers import RETURNED_RESULT_PREFIX
from workbench.protocol.slash_command import as_typed, slash_command

MAX_INSTRUCTION_CHARS = 1200
MAX_DECISIONS = 20
MAX_COMMAND_CHARS = 300
HEADING = "Facts the engine keeps from this conversation's log (exact; the rest of the context may be summarised):"

# what Claude Code writes into user lines besides the user's words
_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.S)
_NOT_SAID = re.compile(r"^\s*(?:<local-command-std(?:out|err)>|\[Request interrupted by user)")
_FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
_CUE = re.compile(
    r"\b(must|mustn't|don't|do not|never|always|only|should|avoid|keep|without|instead|please|make sure|no\b)",
    re.I,
)
_MISSING = re.compile(r"not found|does not exist|No such file", re.I)
_INJECTED = ("<conversation-summary>", "<facts>", "<primer ")


# --- the ledger of one agent ----------------------------------------------------------------


@dataclass
class _Ledger:
    files: dict[str, FileFact] = field(default_factory=dict)
    commands: dict[str, CommandFact] = field(default_factory=dict)
    errors: dict[str, ErrorFact] = field(default_factory=dict)
    instructions: dict[str, None] = field(default_factory=dict)  # in order, each once
    decisions: list[str] = field(default_factory=list)
    version: int = 0

    @classmethod
    def adopt(cls, ledger: FactLedger) -> _Ledger:
        return cls(
            files={f.path: f for f in ledger.files},
            commands={c.command: c for c in ledger.commands},
            errors={e.key: e for e in ledger.errors},
            instructions=dict.fromkeys(ledger.instructions),
            decisions=list(ledger.decisions),
        )

    def snapshot(self) -> FactLedger:
        return FactLedger(
            files=list(self.files.values()),
            commands=list(self.commands.values()),
            errors=list(self.errors.values()),
            instructions=list(self.instructions),
            decisions=list(self.decisions),
        )

    def said(self, text: str) -> bool:
        words = instruction_of(text)
        if not words or words in self.instructions:
            return False
        self.instructions[words] = None
        return True

    def decided(self, text: str) -> bool:
        found = [d for d in decisions_in(text) if d not in self.decisions]
        self.decisions = (self.decisions + found)[-MAX_DECISIONS:]
        return bool(found)

    def ran(self, call: CallFacts, content: str, is_error: bool) -> None:
        ended = outcome(call, content, is_error)
        failed = ended.failed
        if call.runs_something:
            text = one_line(call.command, MAX_COMMAND_CHARS)
            earlier = self.commands.pop(text, None)
            runs = earlier.runs + 1 if earlier is not None else 1
            self.commands[text] = CommandFact(command=text, runs=runs, outcome=ended.label)
        for touch in call.touches:
            earlier_file = self.files.pop(touch.path, None)
            changed = earlier_file is not None and earlier_file.changed
            if failed and touch.action == "read":
                state = "not found" if _MISSING.search(content) else "read failed"
            elif failed and call.runs_something:
                state = earlier_file.state if earlier_file is not None else touch.label
            elif failed:
                state = f"{touch.how or call.name} failed"
            else:
                state = touch.label
                changed = changed or touch.action in ("change", "create", "delete")
            self.files[touch.path] = FileFact(path=touch.path, state=state, changed=changed)
        # a command may fail without saying so (`pytest | tail`): its error lines are read anyway
        lines: list[str] = []
        if failed and not call.search:
            lines = error_lines(content)
        elif call.runs_something or (call.search and failed):
            lines = error_lines(content, fallback=False)
        self._errors(call, lines, ended.label if call.command else "")

    def _errors(self, call: CallFacts, lines: list[str], ended: str) -> None:
        earlier = self.errors.pop(call.key, None)
        if earlier is None and not lines:
            return
        source = f"{call.label} ({ended})" if ended and lines else call.label
        still = [line for line in (earlier.open if earlier else []) if line not in lines]
        resolved = list(dict.fromkeys([*(earlier.resolved if earlier else []), *still]))
        resolved = [line for line in resolved if line not in lines]
        self.errors[call.key] = ErrorFact(key=call.key, source=source, open=lines, resolved=resolved)


def instruction_of(text: str) -> str:
    """The user's own words in a user message ("" when it holds none), verbatim: Claude Code's
    reminders, command wrappers and local command output left out. A long message loses its pasted
    code and logs; when its prose alone is still long, its first sentences and those that instruct
    (must, don't, never, only, instead …) are kept."""
    if text.startswith(RETURNED_RESULT_PREFIX) or _NOT_SAID.match(text):
        return ""
    text = _REMINDER.sub("", text)
    if slash_command(text) is not None:
        return as_typed(text)
    flat = " ".join(text.split())
    if len(flat) <= MAX_INSTRUCTION_CHARS:
        return flat
    prose = " ".join(
        line for line in _FENCE.sub(" ", text).splitlines() if line.strip() and not error_lines(line, fallback=False)
    )
    if len(" ".join(prose.split())) <= MAX_INSTRUCTION_CHARS:
        return " ".join(prose.split()) or flat[:MAX_INSTRUCTION_CHARS]
    sentences = prose_sentences(prose)
    kept = [s for i, s in enumerate(sentences) if i < 2 or _CUE.search(s)]
    return " ".join(" ".join(kept).split()) or flat[:MAX_INSTRUCTION_CHARS]


# --- the projection -------------------------------------------------------------------------


class Facts:
    def __init__(self) -> None:
        self.cwd = ""
        self._ledgers: dict[str, _Ledger] = {}
        self._calls: dict[str, tuple[str, dict[str, Any]]] = {}  # tool_use_id -> (name, input), awaiting a result
        self._cache: dict[str, tuple[int, FactLedger, str]] = {}
        self._tokens: dict[str, tuple[int, int]] = {}

    def _ledger(self, agent: str) -> _Ledger:
        ledger = self._ledgers.get(agent)
        if ledger is None:
            ledger = self._ledgers[agent] = _Ledger()
        return ledger

    def of(self, agent: str) -> FactLedger:
        return self._cached(agent)[1]

    def text(self, agent: str) -> str:
        """The agent's ledger in its compact form ("" while it is empty)."""
        return self._cached(agent)[2]

    def tokens(self, agent: str, counter: TokenCounter) -> int:
        version = self._ledger(agent).version
        cached = self._tokens.get(agent)
        if cached is None or cached[0] != version:
            cached = self._tokens[agent] = (version, counter.count(self.text(agent)))
        return cached[1]

    def _cached(self, agent: str) -> tuple[int, FactLedger, str]:
        ledger = self._ledger(agent)
        cached = self._cache.get(agent)
        if cached is None or cached[0] != ledger.version:
            snapshot = ledger.snapshot()
            cached = self._cache[agent] = (ledger.version, snapshot, ledger_text(snapshot))
        return cached

    def apply(self, event: Event) -> bool:
        """True when an agent's ledger changed."""
        changed = self._apply(event)
        if changed:
            self._ledger(event.agent).version += 1
        return changed

    def _apply(self, event: Event) -> bool:
        match event:
            case (
                AgentSpawned()
                | PermissionDecision()
                | Usage()
                | Compaction()
                | Reduction()
                | Delegated()
                | ChildResult()
                | Status()
                | Error()
                | AgentFinished()
                | PromptQueued()
                | ModeChanged()
                | RuleAdded()
                | ApprovalRequested()
                | ApprovalDecided()
                | QuestionAsked()
                | QuestionAnswered()
                | DelegationProposed()
                | DelegationDecided()
                | PauseChanged()
                | SessionRenamed()
                | ShellStarted()
                | ShellEnded()
                | PlanProposed()
                | PlanDecided()
                | SpendCap()
                | OpaqueEvent()
                | WorktreeCreated()
                | WorktreeSkipped()
                | FilesChanged()
                | WorktreeMerged()
                | WorktreeConflicted()
                | WorktreeDiscarded()
                | WorktreeKept()
                | WorktreeCommitted()
                | FilesRestored()
                | AgentPlaced()
                | ClusterStatus()
                | PatchStored()
            ):
                return False
            case SessionStarted():
                self.cwd = event.cwd or self.cwd
                return False
            case UserMessage():
                return self._ledger(event.agent).said(event.text)
            case Primed():
                if event.primer.startswith(("@", "hook:")) or event.primer in ("notice", "meta"):
                    return False
                return self._ledger(event.agent).said(f"/{event.primer} {event.arguments}".strip())
            case AssistantMessage():
                for call in tool_uses(event.content):  # also logged as tool_call events; older logs lack those
                    self._calls.setdefault(call.id, (call.name, call.input))
                text = "\n\n".join(b.text for b in event.content if isinstance(b, TextBlock))
                return bool(text) and self._ledger(event.agent).decided(text)
            case ToolCall():
                self._calls[event.tool_use_id] = (event.name, event.input)
                return False
            case ToolResult():
                called = self._calls.pop(event.tool_use_id, None)
                if called is None:
                    return False
                facts = call_facts(called[0], called[1], self.cwd, event.content)
                self._ledger(event.agent).ran(facts, event.content, event.is_error)
                return True
            case Remounted():
                if event.facts is not None:
                    adopted = _Ledger.adopt(event.facts)
                    adopted.version = self._ledger(event.agent).version  # what was cached of it is stale
                    self._ledgers[event.agent] = adopted
                    return True
                return self._replay(event.agent, event.messages)
            case _:
                assert_never(event)

    def _replay(self, agent: str, messages: list[dict[str, Any]]) -> bool:
        """A remount logged before ledgers travelled with it: the facts its messages still show."""
        ledger = self._ledger(agent)
        calls: dict[str, tuple[str, dict[str, Any]]] = {}
        for message in messages:
            content = message.get("content")
            blocks: list[dict[str, Any]] = (
                content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
            )
            for block in blocks:
                kind = block.get("type")
                if kind == "text" and message.get("role") == "user" and not block["text"].startswith(_INJECTED):
                    ledger.said(block["text"])
                elif kind == "text":
                    ledger.decided(block["text"])
                elif kind == "tool_use":
                    calls[block["id"]] = (block["name"], block.get("input") or {})
                elif kind == "tool_result" and block.get("tool_use_id") in calls:
                    name, tool_input = calls[block["tool_use_id"]]
                    body = block.get("content")
                    text = body if isinstance(body, str) else " ".join(b.get("text", "") for b in body or [])
                    ledger.ran(call_facts(name, tool_input, self.cwd, text), text, bool(block.get("is_error")))
        return True


# the kinds ``Facts.apply`` folds in; every other kind leaves ledgers as they are
FOLDED_KINDS = (SessionStarted, UserMessage, Primed, AssistantMessage, ToolCall, ToolResult, Remounted)


def ledger_of(events: Iterable[Event], agent: str) -> FactLedger:
    """The ledger of ``agent`` after ``events`` (the session's start included, for its cwd)."""
    facts = Facts()
    for event in events:
        if isinstance(event, FOLDED_KINDS) and event.agent in (agent, ""):
            facts.apply(event)
    return facts.of(agent)


# --- the compact text -----------------------------------------------------------------------


def ledger_text(ledger: FactLedger) -> str:
    """The ledger as the context carries it: one line a fact, "" when there are none."""
    if ledger.empty:
        return ""
    parts = [HEADING]
    if ledger.instructions:
        parts.append("User's instructions, in order:\n" + "\n".join(f"- {i}" for i in ledger.instructions))
    if ledger.files:
        parts.append("Files (last known state):\n" + "\n".join(f"- {_file_line(f)}" for f in ledger.files))
    if ledger.commands:
        lines = [
            f"- `{c.command}`{f' ×{c.runs}' if c.runs > 1 else ''}: {c.outcome or 'running'}" for c in ledger.commands
        ]
        parts.append("Commands (last outcome):\n" + "\n".join(lines))
    still = [e for e in ledger.errors if e.open]
    if still:
        parts.append("Open errors:\n" + "\n".join(f"- {e.source}: " + " | ".join(e.open) for e in still))
    cleared = [e for e in ledger.errors if e.resolved]
    if cleared:
        parts.append("Resolved errors:\n" + "\n".join(f"- {e.source}: " + " | ".join(e.resolved) for e in cleared))
    if ledger.decisions:
        parts.append("Decisions:\n" + "\n".join(f"- {d}" for d in ledger.decisions))
    return "\n".join(parts)


def _file_line(fact: FileFact) -> str:
    earlier = fact.changed and not fact.state.startswith(("changed", "created", "deleted"))
    return f"{fact.path}: {fact.state}{' (changed earlier)' if earlier else ''}"
