"""Where each agent runs: here, or on a worker of the cluster; and whether the cluster can be reached.

A cluster agent is placed by the process that hosts the session (``agent_placed`` with no worker:
its run waits in the queue); each worker that takes the run says so (``agent_placed`` with its
name). The sub-agents a cluster agent starts run in the same run, on the same worker, so they
inherit its placement: the agent a run was placed for is its *root*.
"""

from __future__ import annotations

from dataclasses import dataclass
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
class Run:
    """One cluster agent's run: the worker that holds it now ("" while it waits), how many took it."""

    root: str
    worker: str = ""
    attempt: int = 0
    workspace: str = ""
    patch: PatchStored | None = None


class Placements:
    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}  # by root agent
        self._root_of: dict[str, str] = {}  # every cluster agent → the root of its run
        self.cluster_state = ""  # "" (no cluster), "connected" or "unreachable"
        self.cluster_url = ""
        self.cluster_detail = ""

    def run_of(self, agent_id: str) -> Run | None:
        """The run a cluster agent belongs to; None for an agent that runs here."""
        root = self._root_of.get(agent_id)
        return self.runs.get(root) if root is not None else None

    def remote(self, agent_id: str) -> bool:
        return agent_id in self._root_of

    def worker(self, agent_id: str) -> str:
        run = self.run_of(agent_id)
        return run.worker if run is not None else ""

    @property
    def unreachable(self) -> bool:
        return self.cluster_state == "unreachable"

    def apply(self, event: Event) -> bool:
        """Fold one event in; True when a placement (or the cluster's state) changed."""
        match event:
            case AgentPlaced():
                if event.placement == "local":
                    return False
                run = self.runs.setdefault(event.agent, Run(root=event.agent))
                self._root_of[event.agent] = event.agent
                run.worker, run.attempt = event.worker, max(run.attempt, event.attempt)
                run.workspace = event.workspace or run.workspace
                return True
            case AgentSpawned():
                root = self._root_of.get(event.parent or "")
                if root is None:
                    return False
                self._root_of[event.agent] = root  # a sub-agent of a cluster agent runs in its run
                return True
            case ClusterStatus():
                self.cluster_state, self.cluster_url, self.cluster_detail = event.state, event.url, event.detail
                return True
            case PatchStored():
                held = self.run_of(event.agent)
                if held is None:
                    return False
                held.patch = event
                return True
            case (
                SessionStarted()
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
                | WorktreeCreated()
                | WorktreeSkipped()
                | FilesChanged()
                | WorktreeMerged()
                | WorktreeConflicted()
                | WorktreeDiscarded()
                | WorktreeKept()
                | WorktreeCommitted()
                | FilesRestored()
            ):
                return False
            case _:
                assert_never(event)
