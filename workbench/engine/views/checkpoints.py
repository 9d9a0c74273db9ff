"""Where each agent stands in the checkpoints of its latest checkpointed primer."""

from __future__ import annotations

from typing import assert_never

from workbench.engine.priming.checkpoints import CheckpointState, checkpoint_progress, checkpoints_of
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


class Checkpoints:
    def __init__(self) -> None:
        self.progress: dict[str, list[CheckpointState]] = {}
        # what each agent's progress is folded from: its checkpointed primer and the replies after it
        self._logs: dict[str, list[Event]] = {}

    def of(self, agent: str) -> list[CheckpointState]:
        return self.progress.get(agent, [])

    def apply(self, event: Event) -> bool:
        match event:
            case Primed():
                if not checkpoints_of(event.text):
                    return False
                self._logs[event.agent] = [event]
            case AssistantMessage() | AgentFinished():
                if event.agent not in self._logs:
                    return False
                self._logs[event.agent].append(event)
            case (
                SessionStarted()
                | AgentSpawned()
                | UserMessage()
                | ToolCall()
                | PermissionDecision()
                | ToolResult()
                | Usage()
                | Compaction()
                | Reduction()
                | Delegated()
                | ChildResult()
                | Status()
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
        progress = checkpoint_progress(self._logs[event.agent], event.agent)
        changed = progress != self.progress.get(event.agent)
        self.progress[event.agent] = progress
        return changed
