"""The main screen's actions on what the context holds and what the fleet spends: ``/context`` and ``/budget``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen

from workbench.frontends.tui.widgets.budget_pane import BudgetPane

if TYPE_CHECKING:
    from workbench.engine.engine import Workbench

BUDGET_USAGE = "/budget <usd> [agent] sets a cap (off lifts it); /budget alone shows the caps"


class SpendActions(Screen[None]):
    """Mixed into the main screen, which holds the engine (``bench``) and the agent shown (``agent_id``)."""

    bench: Workbench | None
    agent_id: str

    def action_context(self, agent_id: str = "") -> None:
        """Ask the API for the exact count of the agent's next request, and show it beside the budget."""
        if self.bench is None:
            self.notify("The session is still starting; try again in a moment.", severity="warning")
            return
        target = agent_id.strip() or self.agent_id
        if target not in self.bench.supervisor.agents:
            self.notify(f"There is no agent {target!r}.", severity="warning")
            return
        self._count_context(target)

    @work(group="context", exclusive=True, exit_on_error=False)
    async def _count_context(self, agent_id: str) -> None:
        assert self.bench is not None
        count = await self.bench.count_context(agent_id)
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
        if self.bench is None:
            self.notify("The session is still starting; try again in a moment.", severity="warning")
            return
        words = argument.split()
        if not words:
            self._show_caps()
            return
        amount, scope = words[0].lstrip("$"), words[1] if len(words) > 1 else ""
        if len(words) > 2 or (scope and scope not in self.bench.supervisor.agents):
            self.notify(f"Not a cap: {argument!r}. {BUDGET_USAGE}.", severity="warning")
            return
        if amount.lower() in ("off", "none"):
            self._set_cap(None, scope)
            return
        try:
            usd = float(amount)
        except ValueError:
            usd = -1.0
        if usd <= 0:
            self.notify(f"{words[0]!r} is not an amount in dollars. {BUDGET_USAGE}.", severity="warning")
            return
        self._set_cap(usd, scope)

    @work(group="budget", exit_on_error=False)
    async def _set_cap(self, usd: float | None, scope: str) -> None:
        from workbench.engine.views.spend import money

        assert self.bench is not None
        freed = await self.bench.set_spend_cap(usd, scope or None)
        whose = scope or "the session"
        what = f"{whose} is capped at {money(usd)}" if usd is not None else f"{whose} has no cap"
        going_on = f"; {', '.join(freed)} go{'es' if len(freed) == 1 else ''} on" if freed else ""
        self.notify(f"{what[:1].upper()}{what[1:]}{going_on}.", title="Spend cap")

    def _show_caps(self) -> None:
        from workbench.engine.policy.spend_cap import SESSION
        from workbench.engine.views.spend import money

        assert self.bench is not None
        caps, spend = self.bench.caps, self.bench.spend
        session_cap = caps.cap(SESSION)
        lines = [f"session: {money(spend.fleet().usd)} of {money(session_cap) if session_cap else 'no cap'}"]
        for agent in self.bench.supervisor.agents:
            if agent != SESSION and (cap := caps.cap(agent)) is not None:
                lines.append(f"{agent}: {money(spend.subtree(agent).usd)} of {money(cap)}")
        if caps.held:
            lines.append(f"held by a cap: {', '.join(sorted(caps.held))}")
        self.notify("\n".join(lines), title="Spend caps", markup=False)
