"""What agents are waiting on a person for: approvals and questions asked and not yet answered."""

from __future__ import annotations

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


class Pending:
    def __init__(self) -> None:
        self.approvals: dict[str, ApprovalRequested] = {}
        self.questions: dict[str, QuestionAsked] = {}
        self.plans: dict[str, PlanProposed] = {}  # plans shown for approval (ExitPlanMode)

    def of(self, agent: str) -> list[ApprovalRequested | QuestionAsked | PlanProposed]:
        asked: list[ApprovalRequested | QuestionAsked | PlanProposed] = [
            *self.approvals.values(),
            *self.questions.values(),
            *self.plans.values(),
        ]
        return sorted((a for a in asked if a.agent == agent), key=lambda a: a.seq)

    def apply(self, event: Event) -> bool:
        match event:
            case ApprovalRequested():
                self.approvals[event.request_id] = event
            case ApprovalDecided():
                return self.approvals.pop(event.request_id, None) is not None
            case QuestionAsked():
                self.questions[event.request_id] = event
            case QuestionAnswered():
                return self.questions.pop(event.request_id, None) is not None
            case PlanProposed():
                self.plans[event.request_id] = event
            case PlanDecided():
                return self.plans.pop(event.request_id, None) is not None
            case AgentFinished():  # an agent that ended waits for nothing
                ended = [r for r, a in self.approvals.items() if a.agent == event.agent]
                ended += [r for r, q in self.questions.items() if q.agent == event.agent]
                ended += [r for r, p in self.plans.items() if p.agent == event.agent]
                for request_id in ended:
                    self.approvals.pop(request_id, None)
                    self.questions.pop(request_id, None)
                    self.plans.pop(request_id, None)
                return bool(ended)
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
                | PromptQueued()
                | ModeChanged()
                | RuleAdded()
                | DelegationProposed()
                | DelegationDecided()
                | PauseChanged()
                | SessionRenamed()
                | ShellStarted()
                | ShellEnded()
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
