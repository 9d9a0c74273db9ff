"""Where each agent works and what it changed there: its worktree (or the shared folder), the files it
changed with lines added and removed, and what became of its worktree (merged, discarded, kept)."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    FileChange,
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

WorktreeState = Literal["open", "merged", "discarded", "kept"]


@dataclass
class AgentWorkspace:
    """One agent's place: ``worktree`` is None for an agent in the shared folder."""

    agent: str
    worktree: WorktreeCreated | None = None
    state: WorktreeState | None = None
    warning: str = ""  # why it runs shared though it was to have a worktree
    files: dict[str, FileChange] = field(default_factory=dict)  # path → its latest change (net counts)
    # path → what it held before the agent's first change (blob, known): a file back to it has no net change
    origins: dict[str, tuple[str | None, bool]] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)  # of the last merge that was refused
    commits: list[WorktreeCommitted] = field(default_factory=list)
    restored: FilesRestored | None = None

    @property
    def open_worktree(self) -> bool:
        return self.worktree is not None and self.state == "open"

    @property
    def added(self) -> int:
        return sum(change.added for change in self.files.values())

    @property
    def removed(self) -> int:
        return sum(change.removed for change in self.files.values())


class WorkspacesView:
    def __init__(self) -> None:
        self.rows: dict[str, AgentWorkspace] = {}

    def get(self, agent: str) -> AgentWorkspace | None:
        return self.rows.get(agent)

    def _row(self, agent: str) -> AgentWorkspace:
        return self.rows.setdefault(agent, AgentWorkspace(agent))

    def apply(self, event: Event) -> bool:
        match event:
            case WorktreeCreated():
                row = self._row(event.agent)
                row.worktree, row.state, row.warning, row.conflicts = event, "open", "", []
                row.files, row.origins = {}, {}
            case WorktreeSkipped():
                self._row(event.agent).warning = event.reason
            case FilesChanged():
                row = self._row(event.agent)
                for change in event.changes:
                    before, known = row.origins.setdefault(change.path, (change.before, change.before_known))
                    if known and change.after_known and before == change.after:
                        row.files.pop(change.path, None)  # back to what it held: no net change
                    else:
                        row.files[change.path] = change
            case WorktreeMerged():
                row = self._row(event.agent)
                row.state, row.conflicts = "merged", []
            case WorktreeConflicted():
                self._row(event.agent).conflicts = list(event.files)
            case WorktreeDiscarded():
                row = self._row(event.agent)
                row.state, row.conflicts = "discarded", []
            case WorktreeKept():
                self._row(event.agent).state = "kept"
            case WorktreeCommitted():
                self._row(event.agent).commits.append(event)
            case FilesRestored():
                self._row(event.agent).restored = event
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
                | OpaqueEvent()
                | ShellStarted()
                | ShellEnded()
                | PlanProposed()
                | PlanDecided()
                | SpendCap()
                | AgentPlaced()
                | ClusterStatus()
                | PatchStored()
            ):
                return False
            case _:
                assert_never(event)
        return True
