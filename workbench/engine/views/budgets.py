"""Every agent's context budget, one ledger per agent, counted once per event."""

from __future__ import annotations

from typing import assert_never

from workbench.engine.context.tokens import BudgetSnapshot, TokenCounter, TokenLedger
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


class Budgets:
    def __init__(self, counter: TokenCounter, *, window: int, delegate_at: float, compact_at: float) -> None:
        self.counter = counter
        self.window = window
        self.delegate_at = delegate_at
        self.compact_at = compact_at
        self.ledgers: dict[str, TokenLedger] = {}

    def ledger(self, agent: str) -> TokenLedger:
        ledger = self.ledgers.get(agent)
        if ledger is None:
            ledger = self.ledgers[agent] = TokenLedger(
                agent, self.counter, window=self.window, delegate_at=self.delegate_at, compact_at=self.compact_at
            )
        return ledger

    def snapshot(self, agent: str) -> BudgetSnapshot:
        return self.ledger(agent).snapshot()

    def apply(self, event: Event) -> bool:
        """True when the agent's budget changed."""
        if not event.agent:
            return False
        match event:
            case AgentSpawned():
                ledger = self.ledger(event.agent)
                ledger.window = event.window
                ledger.set_fixed(event.system, event.tools_tokens)
                return True
            case (
                UserMessage() | Primed() | AssistantMessage() | ToolResult() | Usage() | Compaction() | Reduction()
                | Remounted()
            ):  # fmt: skip
                self.ledger(event.agent).observe(event)
                return True
            case (
                SessionStarted()
                | ToolCall()
                | PermissionDecision()
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
