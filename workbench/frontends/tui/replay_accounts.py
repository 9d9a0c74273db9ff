"""The budgets and session figures of a replayed session, folded from its events as they play.

A live session keeps these in its Workbench; a replay has none, so the panes
ask this instead. It must hear each event before the bus bridge does.
"""

from __future__ import annotations

from workbench.engine.context.tokens import BudgetSnapshot, TokenCounter, TokenLedger
from workbench.engine.views.session_stats import SessionStats
from workbench.protocol.events import AgentSpawned, Event


class ReplayAccounts:
    def __init__(self, counter: TokenCounter, *, delegate_at: float, compact_at: float) -> None:
        self.counter = counter
        self.delegate_at = delegate_at
        self.compact_at = compact_at
        self.ledgers: dict[str, TokenLedger] = {}
        self.stats = SessionStats()

    def _ledger(self, agent: str, window: int | None = None) -> TokenLedger:
        if agent not in self.ledgers:
            ledger = TokenLedger(agent, self.counter, delegate_at=self.delegate_at, compact_at=self.compact_at)
            self.ledgers[agent] = ledger
        if window is not None:
            self.ledgers[agent].window = window
        return self.ledgers[agent]

    def observe(self, item: object) -> None:
        """A bus listener: logged events count, live signals (which have no seq) do not."""
        agent = getattr(item, "agent", "")
        if not agent or not hasattr(item, "seq"):
            return
        event: Event = item  # type: ignore[assignment]
        if isinstance(event, AgentSpawned):
            self._ledger(agent, event.window).set_fixed(event.system, [])
        self._ledger(agent).observe(event)
        self.stats.observe(event)

    def budget(self, agent: str) -> BudgetSnapshot:
        return self._ledger(agent).snapshot()
