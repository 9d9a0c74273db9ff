"""The focused agent's context budget: used of the window by category against the thresholds, what
reduction saved, what delegation kept out, and the delegation proposal if one was made."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from workbench.engine.views.proposals import Proposal
from workbench.frontends.tui.budget_bars import CATEGORY_LABELS, CATEGORY_STYLES, stacked_bar, threshold_row
from workbench.frontends.tui.cache_lines import cache_lines, count_lines
from workbench.frontends.tui.humanize import token_count
from workbench.frontends.tui.savings import savings_lines
from workbench.frontends.tui.tally_rows import tally_rows

if TYPE_CHECKING:
    from workbench.engine.context.tokens import BudgetSnapshot, ContextCount


def kept_out_lines(here: int, session: int, dense: bool) -> list[Content]:
    if not session:
        return []
    if dense:
        return [
            Content.assemble(
                ("↳ kept out ", "$accent"), (token_count(here), "bold"), (f" · session {token_count(session)}", "")
            )
        ]
    return [
        Content.assemble(("↳ delegation kept out ", "$accent"), (f"{here:,}", "bold")),
        Content.assemble(("  in the whole session ", "$foreground-muted"), f"{session:,}"),
    ]


def facts_line(tokens: int, dense: bool) -> Content:
    """The size of the facts ledger every reduction and compaction carries into the context."""
    if dense:
        return Content.assemble(("≡ facts ", "$accent"), (token_count(tokens), "bold"))
    return Content.assemble(("≡ facts ledger ", "$accent"), (f"{tokens:,}", "bold"), (" tokens", "$foreground-muted"))


def proposal_line(proposal: Proposal, accept_key: str) -> Content:
    if proposal.state == "proposed":
        return Content.assemble(
            ("⚑ delegate the next sub-task? ", "$warning bold"), (accept_key, "bold $accent"), (" accepts", "$warning")
        )
    if proposal.state == "accepted":
        return Content.styled(f"⚑ delegation accepted → {proposal.child}", "$success")
    return Content.styled("⚑ delegation declined: went on here", "$foreground-muted")


class ContextBudget(Widget):
    budget: reactive[BudgetSnapshot | None] = reactive(None, layout=True)
    kept_out: reactive[tuple[int, int]] = reactive((0, 0), layout=True)  # this agent's, the session's
    proposal: reactive[Proposal | None] = reactive(None, layout=True)
    dense: reactive[bool] = reactive(False, layout=True)  # a short terminal: the essentials only
    count: reactive[ContextCount | None] = reactive(None, layout=True)  # the last exact count asked for (/context)

    def __init__(self, accept_key: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.accept_key = accept_key

    def render(self) -> Content:
        budget = self.budget
        if budget is None:
            return Content.styled("waiting for the engine…", "$foreground-muted")
        width = self.content_region.width
        lines = [
            stacked_bar(budget.categories, budget.used, budget.window, width, budget.delegate_at, budget.compact_at),
            threshold_row(width, budget.delegate_at, budget.compact_at),
            Content.assemble(
                (f"{budget.used:,}", "bold"),
                (f" of {budget.window:,} · ", "$foreground-muted"),
                (f"{budget.share:.1%}", "bold"),
            ),
            *cache_lines(budget),
        ]
        if self.count is not None and self.count.agent == budget.agent:
            lines.extend(count_lines(self.count))
        filled = {name: tokens for name, tokens in budget.categories.items() if tokens}
        labels = [
            (Content.assemble(("■ ", CATEGORY_STYLES.get(name, "")), CATEGORY_LABELS.get(name, name)), tokens)
            for name, tokens in filled.items()
        ]
        lines.extend(tally_rows(labels, sum(budget.categories.values())))
        empty = [CATEGORY_LABELS.get(name, name) for name in budget.categories if name not in filled]
        if empty and not self.dense:
            lines.append(Content.styled(f"empty: {' · '.join(empty)}", "$foreground-muted"))
        if not self.dense:
            lines.append(
                Content.styled(
                    f"↑ delegate {budget.delegate_at:.0%} · compact {budget.compact_at:.0%}", "$foreground-muted"
                )
            )
        lines.extend(savings_lines(budget))
        if budget.facts:
            lines.append(facts_line(budget.facts, self.dense))
        lines.extend(kept_out_lines(*self.kept_out, dense=self.dense))
        if self.proposal is not None:
            lines.append(proposal_line(self.proposal, self.accept_key))
        return Content("\n").join(lines)
