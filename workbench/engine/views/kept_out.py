"""Tokens that delegation kept out of each parent's context, folded from its ``child_result`` events.

A child's work costs ``child_tokens``; only its summary enters the parent's
context, so the parent was spared the difference.
"""

from __future__ import annotations

from typing import assert_never

from workbench.engine.context.tokens import TokenCounter
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


class KeptOut:
    def __init__(self, counter: TokenCounter) -> None:
        self.counter = counter
        self.by_agent: dict[str, int] = {}

    def of(self, agent: str) -> int:
        return self.by_agent.get(agent, 0)

    @property
    def session(self) -> int:
        return sum(self.by_agent.values())

    def apply(self, event: Event) -> bool:
        match event:
            case ChildResult():
                if not event.child_tokens:
                    return False
                spared = max(0, event.child_tokens - self.counter.count(event.summary))
                self.by_agent[event.agent] = self.of(event.agent) + spared
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
