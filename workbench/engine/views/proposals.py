"""Delegation proposals: offered when an agent's context crosses the delegate threshold, then
accepted (a sub-agent took the work) or dismissed (the person went on in the same context)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, assert_never

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

ProposalState = Literal["proposed", "accepted", "dismissed"]


@dataclass(frozen=True)
class Proposal:
    agent: str
    used: int
    window: int
    state: ProposalState = "proposed"
    child: str = ""  # the sub-agent that took the work, once accepted

    @property
    def share(self) -> float:
        return self.used / self.window if self.window else 0.0


class Proposals:
    def __init__(self) -> None:
        self.latest: dict[str, Proposal] = {}

    def pending(self, agent: str) -> Proposal | None:
        proposal = self.latest.get(agent)
        return proposal if proposal is not None and proposal.state == "proposed" else None

    def apply(self, event: Event) -> bool:
        match event:
            case DelegationProposed():
                self.latest[event.agent] = Proposal(event.agent, event.used, event.window)
                return True
            case DelegationDecided():
                proposal = self.latest.get(event.agent)
                if proposal is None:
                    return False
                self.latest[event.agent] = Proposal(
                    proposal.agent, proposal.used, proposal.window, event.decision, event.child
                )
                return True
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
