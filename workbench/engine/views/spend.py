"""What each agent, each subtree and the whole fleet cost: folded from the log's ``usage`` events.

Every request's usage is in the log, so any session shows its cost, an old one
too (a log without the split of cache writes by lifetime prices them as 5-minute
writes). ``fleet_spend(events, prices)`` folds a whole log at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_never

from pydantic import BaseModel, Field

from workbench.engine.pricing import PriceTable
from workbench.log.usage_totals import TokenTotals
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


def money(usd: float) -> str:
    """``$1,234``, ``$12.34``, ``$0.0132``, ``$0.04``: up to four decimals under a dollar, where sessions mostly are."""
    if usd >= 1000:
        return f"${usd:,.0f}"
    if usd >= 1 or usd == 0:
        return f"${usd:.2f}"
    if usd < 0.0001:
        return "<$0.0001"
    digits = f"{usd:.4f}".rstrip("0")  # "0.0132", "0.04", "0.1"
    return "$" + digits.ljust(4, "0")  # never fewer than two decimals: $0.10


class Cost(BaseModel):
    """The cost of a set of requests, and what it would have been with nothing cached."""

    usd: float = 0.0
    uncached_usd: float = 0.0
    tokens: TokenTotals = Field(default_factory=TokenTotals)
    unpriced: list[str] = Field(default_factory=list)  # models with no price: their tokens cost an unknown amount

    @property
    def known(self) -> bool:
        """Every token was priced (False: the figure is a lower bound)."""
        return not self.unpriced

    def add(self, other: Cost) -> None:
        self.usd += other.usd
        self.uncached_usd += other.uncached_usd
        self.tokens.merge(other.tokens)
        self.unpriced = sorted({*self.unpriced, *other.unpriced})


class Spend:
    """Per agent and per model token totals, priced on demand. A price once worked out is kept until
    more usage comes for it: the panes ask for every agent's cost many times a second while a
    hundred agents stream, and pricing tokens already priced would be most of their work."""

    def __init__(self, prices: PriceTable) -> None:
        self.prices = prices
        self.parents: dict[str, str | None] = {}
        self.models: dict[str, str] = {}  # each agent's model, for usage that does not name one
        self.totals: dict[str, dict[str, TokenTotals]] = {}  # agent → model → tokens
        self._children: dict[str, list[str]] = {}
        self._own: dict[str, Cost] = {}
        self._subtree: dict[str, Cost] = {}
        self._fleet: Cost | None = None

    def apply(self, event: Event) -> bool:
        """Fold one event in; True when a cost changed."""
        match event:
            case AgentSpawned():
                if event.parent and event.agent not in (siblings := self._children.setdefault(event.parent, [])):
                    siblings.append(event.agent)
                self.parents[event.agent] = event.parent
                self._forget(event.parent)
                self.models[event.agent] = event.model
            case Usage():
                if not event.agent:
                    return False
                model = event.model or self.models.get(event.agent, "")
                self.totals.setdefault(event.agent, {}).setdefault(model, TokenTotals()).add(event)
                self._own.pop(event.agent, None)
                self._forget(event.agent)
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
                | SpendCap()
                | ShellStarted()
                | ShellEnded()
                | PlanProposed()
                | PlanDecided()
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

    def _forget(self, agent: str | None) -> None:
        """The agent's subtree cost changed: so did its ancestors' and the fleet's."""
        self._fleet = None
        while agent is not None and self._subtree.pop(agent, None) is not None:
            agent = self.parents.get(agent)

    def own(self, agent: str) -> Cost:
        """What the agent's own requests cost."""
        cost = self._own.get(agent)
        if cost is None:
            cost = self._own[agent] = self.cost_of(self.totals.get(agent, {}))
        return cost.model_copy(deep=True)

    def subtree(self, agent: str) -> Cost:
        """What the agent and every agent it started (and they started) cost."""
        cost = self._subtree.get(agent)
        if cost is None:
            cost = self.own(agent)
            for child in self.children(agent):
                cost.add(self.subtree(child))
            self._subtree[agent] = cost
        return cost.model_copy(deep=True)

    def fleet(self) -> Cost:
        """The whole session."""
        if self._fleet is None:
            self._fleet = Cost()
            for agent in self.totals:
                self._fleet.add(self.own(agent))
        return self._fleet.model_copy(deep=True)

    def children(self, agent: str) -> list[str]:
        return list(self._children.get(agent, ()))

    def cost_of(self, by_model: dict[str, TokenTotals]) -> Cost:
        cost = Cost()
        for model, tokens in by_model.items():
            price = self.prices.price(model)
            part = Cost(tokens=tokens.model_copy())
            if price is None:
                part.unpriced = [model or "unknown"]
            else:
                part.usd, part.uncached_usd = price.cost(tokens), price.uncached_cost(tokens)
            cost.add(part)
        return cost


def fleet_spend(events: Iterable[Event], prices: PriceTable) -> Spend:
    """The spend of a whole log: ``.own(agent)``, ``.subtree(agent)`` and ``.fleet()`` are its costs."""
    spend = Spend(prices)
    for event in events:
        spend.apply(event)
    return spend


def cost_text(cost: Cost) -> str:
    """``$1.23``; ``$1.23+`` when some model had no price; ``n/a`` when none had."""
    if cost.unpriced and not cost.usd:
        return "n/a"
    return money(cost.usd) + ("+" if cost.unpriced else "")


def cost_summary(cost: Cost) -> str:
    """``$1.23 (cached 91% of input; $4.56 without the cache)``; ``n/a`` when no model had a price."""
    text = cost_text(cost) + (f" (no price for {', '.join(cost.unpriced)})" if cost.unpriced else "")
    if cost.tokens.web_searches:
        text += f" ({cost.tokens.web_searches} web search{'es' if cost.tokens.web_searches != 1 else ''})"
    if cost.tokens.cache_read or cost.tokens.cache_write:
        text += f" (cached {cost.tokens.cache_read_share:.0%} of input; {money(cost.uncached_usd)} without the cache)"
    return text


def cost_report(events: Iterable[Event], prices: PriceTable) -> list[str]:
    """What a session cost, as lines to read: the fleet, then each agent that spent anything, own and with its sub-agents."""
    spend = fleet_spend(events, prices)
    if not spend.totals:
        return []
    fleet = spend.fleet()
    lines = [f"cost: {cost_summary(fleet)}"]
    if not fleet.usd:
        return lines
    for agent in spend.parents:
        own, subtree = spend.own(agent), spend.subtree(agent)
        if not subtree.tokens.requests:
            continue
        line = f"  {agent}: {money(own.usd)} own"
        if subtree.tokens.requests > own.tokens.requests:
            line += f", {money(subtree.usd)} with its sub-agents"
        lines.append(line + f" ({own.tokens.requests} requests)")
    return lines
