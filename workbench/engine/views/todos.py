"""Each agent's todo list: the input of its latest TodoWrite call that succeeded."""

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
from workbench.protocol.interaction import TodoItem
from workbench.tools.todo import TodoWrite, todos_of

TODO_TOOL = TodoWrite.name


def todo_list(call: ToolCall, result: ToolResult) -> list[TodoItem]:
    """The list a TodoWrite call set, once its result says it succeeded."""
    return todos_of([call, result], result.agent)


class Todos:
    def __init__(self) -> None:
        self.lists: dict[str, list[TodoItem]] = {}
        self._calls: dict[str, ToolCall] = {}  # TodoWrite calls waiting for their result

    def of(self, agent: str) -> list[TodoItem]:
        return self.lists.get(agent, [])

    def apply(self, event: Event) -> bool:
        match event:
            case ToolCall():
                if event.name == TodoWrite.name:
                    self._calls[event.tool_use_id] = event
                return False
            case ToolResult():
                call = self._calls.pop(event.tool_use_id, None)
                if call is None or event.is_error:
                    return False
                self.lists[event.agent] = todo_list(call, event)
                return True
            case Remounted():
                self.lists[event.agent] = todos_of([event], event.agent)
                return True
            case (
                SessionStarted()
                | AgentSpawned()
                | UserMessage()
                | AssistantMessage()
                | PermissionDecision()
                | Usage()
                | Compaction()
                | Reduction()
                | Primed()
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
