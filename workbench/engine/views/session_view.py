"""Everything a screen shows of a session, folded from its events: the engine's projections.

The engine applies each event here the moment it is written, before anyone
hears of it; a front end attached to a daemon keeps its own copy up to date
from the events it receives; a replay folds the events as they play. All of
them see the same state for the same events, which is what makes a resumed
session behave like the live one.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.engine.config import LimitsConfig
from workbench.engine.context.tokens import BudgetSnapshot, TokenCounter
from workbench.engine.policy.permissions import PermissionPolicy
from workbench.engine.policy.spend_cap import SpendCaps
from workbench.engine.pricing import PriceTable
from workbench.engine.views.budgets import Budgets
from workbench.engine.views.checkpoints import Checkpoints
from workbench.engine.views.facts import Facts
from workbench.engine.views.kept_out import KeptOut
from workbench.engine.views.pending import Pending
from workbench.engine.views.placements import Placements
from workbench.engine.views.policy import PolicyView
from workbench.engine.views.proposals import Proposals
from workbench.engine.views.roster import Roster
from workbench.engine.views.session_stats import SessionStats
from workbench.engine.views.shells import Shells
from workbench.engine.views.spend import Spend
from workbench.engine.views.todos import Todos
from workbench.engine.views.workspaces import WorkspacesView
from workbench.protocol.events import Event, SessionRenamed, SessionStarted


@dataclass(frozen=True)
class Changes:
    """Which views an event changed, so a screen redraws only those."""

    roster: bool = False
    budget: bool = False
    lists: bool = False  # todos or checkpoints
    policy: bool = False
    pending: bool = False
    proposal: bool = False
    kept_out: bool = False
    stats: bool = False
    shells: bool = False
    cost: bool = False  # what an agent (and so the fleet) cost
    facts: bool = False
    workspaces: bool = False
    placement: bool = False  # where an agent runs, or the cluster's state


class SessionView:
    def __init__(
        self,
        counter: TokenCounter,
        *,
        window: int,
        delegate_at: float,
        compact_at: float,
        policy: PermissionPolicy | None = None,
        prices: PriceTable | None = None,
        limits: LimitsConfig | None = None,
    ) -> None:
        self.counter = counter
        self.roster = Roster()
        self.budgets = Budgets(counter, window=window, delegate_at=delegate_at, compact_at=compact_at)
        self.todos = Todos()
        self.checkpoints = Checkpoints()
        self.spend = Spend(prices or PriceTable())
        self.caps = SpendCaps(self.spend, limits or LimitsConfig())
        self.stats = SessionStats(self.spend)
        self.kept_out = KeptOut(counter)
        self.proposals = Proposals()
        self.policy = PolicyView(policy or PermissionPolicy())
        self.pending = Pending()
        self.shells = Shells()
        self.facts = Facts()
        self.workspaces = WorkspacesView()
        self.placements = Placements()
        self.title = ""
        self.last_seq = 0

    def apply(self, event: Event) -> Changes | None:
        """Fold one event in. An event already folded (a backlog overlapping live events) is skipped: None."""
        if event.seq and event.seq <= self.last_seq:
            return None
        self.last_seq = max(self.last_seq, event.seq)
        if isinstance(event, (SessionStarted, SessionRenamed)) and event.title:
            self.title = event.title
        return Changes(
            roster=self.roster.apply(event),
            budget=self.budgets.apply(event),
            lists=self.todos.apply(event) | self.checkpoints.apply(event),
            policy=self.policy.apply(event),
            pending=self.pending.apply(event),
            proposal=self.proposals.apply(event),
            kept_out=self.kept_out.apply(event),
            stats=self.stats.apply(event),
            shells=self.shells.apply(event),
            cost=self.spend.apply(event) | self.caps.apply(event),
            facts=self.facts.apply(event),
            workspaces=self.workspaces.apply(event),
            placement=self.placements.apply(event),
        )

    def budget(self, agent: str) -> BudgetSnapshot:
        """The agent's budget, with the size of its facts ledger (what every reduction carries)."""
        snapshot = self.budgets.snapshot(agent)
        return snapshot.model_copy(update={"facts": self.facts.tokens(agent, self.counter)})
