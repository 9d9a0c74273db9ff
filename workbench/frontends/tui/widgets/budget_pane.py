"""The budget pane: the focused agent's context budget, and the session's figures under it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive

from workbench.engine.policy.spend_cap import CAP_REACHED
from workbench.engine.views.kept_out import KeptOut
from workbench.engine.views.proposals import Proposal
from workbench.frontends.tui.messages import BudgetChanged, EventLogged
from workbench.frontends.tui.stylesheet import css_beside
from workbench.frontends.tui.widgets.context_budget import ContextBudget
from workbench.frontends.tui.widgets.session_strip import SessionStrip, Stats
from workbench.protocol.events import ChildResult, Status

if TYPE_CHECKING:
    from workbench.engine.context.tokens import BudgetSnapshot, ContextCount


class BudgetPane(Vertical):
    DEFAULT_CSS = css_beside(__file__)

    agent_id: reactive[str] = reactive("primary")
    budget: reactive[BudgetSnapshot | None] = reactive(None)
    dense: reactive[bool] = reactive(False, init=False)  # set by the screen when the terminal is short

    def __init__(self, clock: Callable[[], datetime], accept_key: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.accept_key = accept_key
        self.kept_out: KeptOut | None = None
        self._strip = SessionStrip(clock)

    def compose(self) -> ComposeResult:
        yield ContextBudget(self.accept_key)
        yield self._strip

    def on_mount(self) -> None:
        self.border_title = "Context"

    def follow_session(self, stats: Stats, kept_out: KeptOut) -> None:
        """The engine is open: the session's figures and the tokens delegation kept out can be shown."""
        self.kept_out = kept_out
        self._strip.stats = stats
        self._strip.changed()

    def watch_agent_id(self, agent_id: str) -> None:
        self.border_title = f"Context · {agent_id}"
        self._show_kept_out()

    def watch_budget(self, budget: BudgetSnapshot | None) -> None:
        self.border_subtitle = "" if budget is None else "exact" if budget.exact else "estimated"
        self.set_class(budget is not None and budget.exact, "-exact")
        self.query_one(ContextBudget).budget = budget

    def watch_dense(self, dense: bool) -> None:
        self.query_one(ContextBudget).dense = dense

    def show_proposal(self, proposal: Proposal | None) -> None:
        self.query_one(ContextBudget).proposal = proposal

    def show_count(self, count: ContextCount) -> None:
        """The exact count of an agent's context (/context), shown beside its budget."""
        self.query_one(ContextBudget).count = count

    def _show_kept_out(self) -> None:
        if self.kept_out is not None:
            self.query_one(ContextBudget).kept_out = (self.kept_out.of(self.agent_id), self.kept_out.session)

    @on(BudgetChanged)
    def _changed(self, message: BudgetChanged) -> None:
        if message.budget.agent == self.agent_id:
            self.budget = message.budget

    @on(EventLogged)
    def _logged(self, message: EventLogged) -> None:
        event = message.event
        if isinstance(event, ChildResult):  # the owner of the view has folded it in already
            self._show_kept_out()
        if isinstance(event, Status) and event.state == "paused" and event.detail.startswith(CAP_REACHED):
            reason = event.detail.removeprefix(CAP_REACHED).lstrip(": ")
            self.notify(
                f"{reason[:1].upper()}{reason[1:]}. Nothing is lost: /budget <usd> raises the cap and it goes on.",
                title=f"{event.agent} paused: spend cap reached",
                severity="warning",
                timeout=15,
                markup=False,
            )
        self._strip.changed()
