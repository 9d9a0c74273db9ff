"""The focused agent's context budget: used of the window, by category, against the thresholds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from workbench.tui.budget_bars import CATEGORY_LABELS, CATEGORY_STYLES, stacked_bar, threshold_row
from workbench.tui.messages import BudgetChanged
from workbench.tui.stylesheet import css_beside

if TYPE_CHECKING:
    from workbench.core.tokens import BudgetSnapshot


class BudgetPane(Widget):
    DEFAULT_CSS = css_beside(__file__)

    agent_id: reactive[str] = reactive("primary")
    budget: reactive[BudgetSnapshot | None] = reactive(None, layout=True)

    def on_mount(self) -> None:
        self.border_title = "Context"

    def watch_agent_id(self, agent_id: str) -> None:
        self.border_title = f"Context · {agent_id}"

    def watch_budget(self, budget: BudgetSnapshot | None) -> None:
        if budget is None:
            self.border_subtitle = ""
        else:
            self.border_subtitle = "exact" if budget.exact else "estimated"
        self.set_class(budget is not None and budget.exact, "-exact")

    @on(BudgetChanged)
    def _changed(self, message: BudgetChanged) -> None:
        if message.budget.agent == self.agent_id:
            self.budget = message.budget

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
        ]
        counted = sum(budget.categories.values()) or 1
        filled = {name: tokens for name, tokens in budget.categories.items() if tokens}
        label_width = max((len(CATEGORY_LABELS.get(name, name)) for name in filled), default=0)
        for name, tokens in filled.items():
            lines.append(
                Content.assemble(
                    ("■ ", CATEGORY_STYLES.get(name, "")),
                    CATEGORY_LABELS.get(name, name).ljust(label_width),
                    f"{tokens:>9,}",
                    (f" {tokens / counted:>4.0%}", "$foreground-muted"),
                )
            )
        if empty := [CATEGORY_LABELS.get(name, name) for name in budget.categories if name not in filled]:
            lines.append(Content.styled(f"empty: {' · '.join(empty)}", "$foreground-muted"))
        if budget.saved:
            saved = " · ".join(f"{name} {tokens:,}" for name, tokens in budget.saved.items())
            lines.append(Content.assemble(("saved ", "$foreground-muted"), (saved, "$success")))
        lines.append(
            Content.styled(
                f"↑ delegate {budget.delegate_at:.0%} · compact {budget.compact_at:.0%}", "$foreground-muted"
            )
        )
        return Content("\n").join(lines)
