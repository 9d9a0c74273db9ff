"""The agent roster: every agent of the session, its place in the tree, its state and what it does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import assert_never

from workbench.engine.views.tool_subject import subject_of
from workbench.protocol.events import (
    FINAL_STATES,
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

ACTIVE_STATES = frozenset({"queued", "thinking", "tool", "awaiting_approval"})


@dataclass
class AgentRow:
    id: str
    name: str
    parent: str | None
    level: int
    mode: str
    task: str
    started: datetime
    model: str = ""
    state: str = "idle"
    finished: datetime | None = None
    tokens: int = 0  # every token its requests cost, input (cache included) and output
    last_action: str = ""
    last_call: str = ""
    # prompts sent while it was busy or paused, not yet delivered: prompt id → text
    queued: dict[str, str] = field(default_factory=dict)
    paused: bool = False  # the person paused it (it may still be finishing its current step)

    @classmethod
    def spawned(cls, event: AgentSpawned) -> AgentRow:
        return cls(
            id=event.agent,
            name=event.name or event.agent,
            parent=event.parent,
            level=event.level,
            mode=event.mode,
            task=event.task,
            started=event.ts,
            model=event.model,
        )

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def ended(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def one_shot(self) -> bool:
        return self.mode != "foreground"

    def elapsed_s(self, now: datetime) -> float:
        return ((self.finished or now) - self.started).total_seconds()


class Roster:
    """Every agent as a row, folded from the log one event at a time."""

    def __init__(self) -> None:
        self.rows: dict[str, AgentRow] = {}

    def get(self, agent_id: str) -> AgentRow | None:
        return self.rows.get(agent_id)

    def children(self, agent_id: str) -> list[AgentRow]:
        return [row for row in self.rows.values() if row.parent == agent_id]

    def apply(self, event: Event) -> bool:
        """Fold one event in; True when a row changed."""
        if isinstance(event, AgentSpawned):
            self.rows[event.agent] = AgentRow.spawned(event)
            return True
        row = self.rows.get(event.agent)
        if row is None:
            return False
        match event:
            case Status():
                row.state = event.state
                if event.state == "awaiting_approval":
                    row.last_action = f"waiting for approval: {event.detail}"
                elif row.last_call:
                    row.last_action = row.last_call
            case ToolCall():
                row.last_action = row.last_call = f"{event.name} {subject_of(event.input)}".strip()
            case Usage():
                row.tokens += event.context_tokens
            case Delegated():
                row.last_action = f"delegated to {event.child}"
            case Error():
                if event.retryable:
                    return False
                row.last_action = f"error: {event.message}"
            case AgentFinished():
                row.state = event.state
                row.finished = event.ts
                if not (event.state == "failed" and row.last_action.startswith("error: ")):  # the cause says more
                    row.last_action = event.result or event.state
            case PromptQueued():
                row.queued[event.prompt_id] = event.text
            case PauseChanged():
                row.paused = event.paused
            case UserMessage():
                if not event.prompt_id or row.queued.pop(event.prompt_id, None) is None:
                    return False
            case (
                SessionStarted()
                | AgentSpawned()
                | AssistantMessage()
                | PermissionDecision()
                | ToolResult()
                | Compaction()
                | Reduction()
                | Primed()
                | ChildResult()
                | Remounted()
                | ModeChanged()
                | RuleAdded()
                | ApprovalRequested()
                | ApprovalDecided()
                | QuestionAsked()
                | QuestionAnswered()
                | DelegationProposed()
                | DelegationDecided()
                | SessionRenamed()
                | ShellStarted()
                | ShellEnded()
                | PlanProposed()
                | PlanDecided()
                | SpendCap()
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
                | OpaqueEvent()
            ):
                return False
            case _:
                assert_never(event)
        return True
