"""The main screen's actions on what the context holds and what the fleet spends: ``/context`` and ``/budget``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen

from workbench.frontends.tui.widgets.budget_pane import BudgetPane
from workbench.protocol.commands import SetSpendCap

if TYPE_CHECKING:
    from workbench.engine.client import EngineClient

BUDGET_USAGE = "/budget <usd> [agent] sets a cap (off lifts it); /budget alone shows the caps"


class SpendActions(Screen[None]):
    """Mixed into the main screen, which holds the engine's client (``client``) and the agent shown
    (``agent_id``), and submits commands with ``_submit``."""

    client: EngineClient | None
    agent_id: str
    _submit: Callable[..., None]  # submits a command in a worker, telling the user its outcome

    def _known_agent(self, agent_id: str) -> bool:
        if self.client is None:
            self.notify("The session is still starting; try again in a moment.", severity="warning")
            return False
        if self.client.view.roster.get(agent_id) is None:
            self.notify(f"There is no agent {agent_id!r}.", severity="warning")
            return False
        return True

    def action_context(self, agent_id: str = "") -> None:
        """Ask the API for the exact count of the agent's next request, and show it beside the budget."""
        target = agent_id.strip() or self.agent_id
        if self._known_agent(target):
            self._count_context(target)

    @work(group="context", exclusive=True, exit_on_error=False)
    async def _count_context(self, agent_id: str) -> None:
        assert self.client is not None
        count = await self.client.count_context(agent_id)
        self.query_one(BudgetPane).show_count(count)
        if count.exact is None:
            self.notify(count.note, title=f"{agent_id}'s context", severity="warning")
        else:
            self.notify(
                f"{count.exact:,} tokens exactly (count_tokens); the budget says {count.budget:,}.",
                title=f"{agent_id}'s context",
            )

    def action_budget(self, argument: str = "") -> None:
        """``/budget 5``: cap the session at $5; ``/budget 2 agent-3``: cap that agent's subtree; ``off`` lifts it."""
        words = argument.split()
        if not words:
            self._show_caps()
            return
        amount, scope = words[0].lstrip("$"), words[1] if len(words) > 1 else ""
        if len(words) > 2 or (scope and not self._known_agent(scope)):
            self.notify(f"Not a cap: {argument!r}. {BUDGET_USAGE}.", severity="warning")
            return
        if amount.lower() in ("off", "none"):
            usd = None
        else:
            try:
                usd = float(amount)
            except ValueError:
                usd = -1.0
            if usd <= 0:
                self.notify(f"{words[0]!r} is not an amount in dollars. {BUDGET_USAGE}.", severity="warning")
                return
        if self.client is None:
            self.notify("The session is still starting; try again in a moment.", severity="warning")
            return
        self._submit(SetSpendCap(agent=scope, max_usd=usd), "{message}", "Spend cap")

    def _show_caps(self) -> None:
        from workbench.engine.policy.spend_cap import SESSION
        from workbench.engine.views.spend import money

        if self.client is None:
            return
        caps, spend = self.client.view.caps, self.client.view.spend
        session_cap = caps.cap(SESSION)
        lines = [f"session: {money(spend.fleet().usd)} of {money(session_cap) if session_cap else 'no cap'}"]
        for agent in self.client.view.roster.rows:
            if (cap := caps.cap(agent)) is not None:
                lines.append(f"{agent}: {money(spend.subtree(agent).usd)} of {money(cap)}")
        if caps.held:
            lines.append(f"held by a cap: {', '.join(sorted(caps.held))}")
        self.notify("\n".join(lines), title="Spend caps", markup=False)
