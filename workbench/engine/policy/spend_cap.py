"""Spending caps: the session's, and each background agent's (with what it starts).

Before every request the cap is checked against what the log says was spent. An
agent whose request would go past a cap is paused instead (its ``status`` says
why): nothing is lost, and it carries on once the cap is raised (``set``, which
logs a ``spend_cap`` event, so a resumed session keeps the new cap) and it is
resumed. A cap comes from the log's last ``spend_cap`` for its scope, else from
the config (``[limits] max_budget_usd``, ``max_budget_usd_background``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from workbench.engine.config import LimitsConfig
from workbench.engine.views.spend import Spend, money
from workbench.protocol.events import AgentSpawned, Event, SpendCap, Status

if TYPE_CHECKING:
    from workbench.engine.runtime.agent import Agent

CAP_REACHED = "spend cap reached"
SESSION = ""  # the scope of the session's own cap


class SpendCaps:
    """The caps in force, and which agents they hold paused."""

    def __init__(self, spend: Spend, limits: LimitsConfig) -> None:
        self.spend = spend
        self.limits = limits
        self.logged: dict[str, float | None] = {}  # scope → the cap the log set
        self.modes: dict[str, str] = {}
        self.held: set[str] = set()  # agents paused by a cap
        self.reached = asyncio.Event()  # some agent was held (a headless run stops there)
        self.reason = ""  # why the last agent held was

    def apply(self, event: Event) -> bool:
        """Fold one event in (the caps the log set, the agents' modes, which agents a cap holds)."""
        if isinstance(event, SpendCap):
            self.logged[event.agent] = event.max_usd
        elif isinstance(event, AgentSpawned):
            self.modes[event.agent] = event.mode
        elif isinstance(event, Status):
            if event.state == "paused" and event.detail.startswith(CAP_REACHED):
                self.held.add(event.agent)
            else:
                self.held.discard(event.agent)
        else:
            return False
        return True

    def cap(self, scope: str) -> float | None:
        """The cap on ``scope`` (the session, or an agent with its descendants); None: no cap."""
        if scope in self.logged:
            return self.logged[scope]
        if scope == SESSION:
            return self.limits.max_budget_usd
        return self.limits.max_budget_usd_background if self.modes.get(scope) == "background" else None

    def exceeded(self, agent: str) -> str | None:
        """Why ``agent`` may not make another request (None: it may)."""
        session_cap = self.cap(SESSION)
        if session_cap is not None and (spent := self.spend.fleet().usd) >= session_cap:
            return f"{CAP_REACHED}: the session spent {money(spent)} of {money(session_cap)}"
        scope: str | None = agent
        while scope:
            scope_cap = self.cap(scope)
            if scope_cap is not None and (spent := self.spend.subtree(scope).usd) >= scope_cap:
                whose = "it" if scope == agent else scope
                return f"{CAP_REACHED}: {whose} and its sub-agents spent {money(spent)} of {money(scope_cap)}"
            scope = self.spend.parents.get(scope)
        return None

    async def hold(self, agent: Agent) -> None:
        """Before a request: while a cap is reached, the agent waits paused, its status saying why."""
        while (reason := self.exceeded(agent.id)) is not None:
            agent.pause()
            await agent.set_state("paused", reason)
            self.reason = f"{agent.id} paused: {reason}"
            self.reached.set()
            await agent.resumed()
            await agent.set_state("thinking")
