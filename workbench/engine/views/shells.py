"""Each agent's background shells, as the log tells them: what runs, since when, and how each ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

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


@dataclass
class ShellRow:
    shell_id: str
    agent: str
    command: str
    description: str
    output_path: str
    started: datetime
    ended: datetime | None = None
    how: str = ""  # exited | stopped | agent_ended | session_closed
    exit_code: int | None = None
    output_bytes: int = 0  # as of the last event (a live signal says more while it runs)

    @property
    def running(self) -> bool:
        return self.ended is None

    def running_s(self, now: datetime) -> float:
        return ((self.ended or now) - self.started).total_seconds()

    @property
    def outcome(self) -> str:
        if self.running:
            return "running"
        if self.how == "exited":
            return f"exit {self.exit_code}"
        return {"stopped": "stopped", "agent_ended": "ended with its agent"}.get(self.how, "session closed")


class Shells:
    def __init__(self) -> None:
        self.rows: dict[str, ShellRow] = {}

    def of(self, agent: str) -> list[ShellRow]:
        return [row for row in self.rows.values() if row.agent == agent]

    def running(self) -> list[ShellRow]:
        return [row for row in self.rows.values() if row.running]

    def apply(self, event: Event) -> bool:
        match event:
            case ShellStarted():
                self.rows[event.shell_id] = ShellRow(
                    shell_id=event.shell_id,
                    agent=event.agent,
                    command=event.command,
                    description=event.description,
                    output_path=event.output_path,
                    started=event.ts,
                )
            case ShellEnded():
                row = self.rows.get(event.shell_id)
                if row is None:
                    return False
                row.ended, row.how, row.exit_code = event.ts, event.how, event.exit_code
                row.output_bytes = event.output_bytes
            case (
                SessionStarted()
                | AgentSpawned()
                | UserMessage()
                | AssistantMessage()
                | ToolCall()
                | PermissionDecision()
                | ToolResult()
                | Usage()
                | Compaction()
                | Reduction()
                | Primed()
                | Delegated()
                | ChildResult()
                | Status()
                | Error()
                | Remounted()
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
            case _:
                assert_never(event)
        return True
