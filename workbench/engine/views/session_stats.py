"""Session-wide figures for the monitoring strip, kept up to date one event at a time."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import assert_never

from pydantic import BaseModel

from workbench.engine.views.spend import Cost, Spend
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

RATE_WINDOW = timedelta(seconds=10)
RUNNING = frozenset({"thinking", "tool", "awaiting_approval"})


class StatsSnapshot(BaseModel):
    agents: int
    running: int
    queued: int
    paused: int
    idle: int
    done: int
    failed: int
    cancelled: int
    tokens_in: int
    tokens_out: int
    tokens_per_s: float
    cost: Cost = Cost()  # the whole fleet's


class SessionStats:
    def __init__(self, spend: Spend | None = None) -> None:
        """``spend``: the session's spend projection (folded beside this one), whose fleet total the snapshot shows."""
        self.spend = spend
        self.states: dict[str, str] = {}
        self.tokens_in = 0
        self.tokens_out = 0
        self._recent: deque[tuple[datetime, int]] = deque()

    def apply(self, event: Event) -> bool:
        match event:
            case AgentSpawned():
                self.states[event.agent] = "idle"
            case Status() | AgentFinished():
                self.states[event.agent] = event.state
            case Usage():
                self.tokens_in += event.input_tokens + event.cache_read_input_tokens + event.cache_creation_input_tokens
                self.tokens_out += event.output_tokens
                self._recent.append((event.ts, event.output_tokens))
            case (
                SessionStarted()
                | UserMessage()
                | AssistantMessage()
                | ToolCall()
                | PermissionDecision()
                | ToolResult()
                | Compaction()
                | Reduction()
                | Primed()
                | Delegated()
                | ChildResult()
                | Error()
                | Remounted()
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

    def snapshot(self, now: datetime) -> StatsSnapshot:
        while self._recent and now - self._recent[0][0] > RATE_WINDOW:
            self._recent.popleft()
        counts = {s: 0 for s in ("queued", "paused", "idle", "done", "failed", "cancelled")}
        running = 0
        for state in self.states.values():
            if state in RUNNING:
                running += 1
            elif state in counts:
                counts[state] += 1
        recent = sum(tokens for _, tokens in self._recent)
        return StatsSnapshot(
            agents=len(self.states),
            running=running,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            tokens_per_s=recent / RATE_WINDOW.total_seconds(),
            cost=self.spend.fleet() if self.spend is not None else Cost(),
            **counts,
        )
