"""The budget pane's figures stand apart from their neighbours at every width ("7,146 of 200,000",
"2,370  33%"), a count of a million tokens included."""

from __future__ import annotations

import re

import pytest
from textual.app import App, ComposeResult

from workbench.engine.context.tokens import BudgetSnapshot
from workbench.frontends.tui.widgets.context_budget import ContextBudget

SMALL = BudgetSnapshot(
    agent="primary",
    window=200_000,
    used=7_146,
    exact=True,
    categories={"system": 2_370, "tools": 2_406, "history": 2_370},
    saved={"stale": 2_370, "superseded": 120},
)
HUGE = BudgetSnapshot(
    agent="primary",
    window=1_000_000,
    used=1_300_000,
    exact=True,
    categories={"system": 65_433, "tool_results": 1_234_567},
    saved={"compaction": 1_000_000},
)
# a figure glued to a word or to another figure: "7,146of", "2,37033%", "results1,234,567"
GLUED = re.compile(r"\d,\d{3}(?=[A-Za-z]|\d+%)|[A-Za-z]\d{1,3},\d{3}")


class BudgetApp(App[None]):
    CSS = "ContextBudget { text-wrap: nowrap; text-overflow: ellipsis; }"  # as the budget pane draws it

    def __init__(self, budget: BudgetSnapshot) -> None:
        super().__init__()
        self.budget = budget

    def compose(self) -> ComposeResult:
        yield ContextBudget("f4")

    def on_mount(self) -> None:
        self.query_one(ContextBudget).budget = self.budget


@pytest.mark.parametrize("budget", [SMALL, HUGE], ids=["200k", "1M"])
async def test_no_figure_runs_into_its_neighbour(budget: BudgetSnapshot) -> None:
    for width in (24, 30, 34, 40, 52):
        app = BudgetApp(budget)
        async with app.run_test(size=(width, 24)) as pilot:
            await pilot.pause()
            shown = [strip.text.rstrip() for strip in app.screen._compositor.render_strips()]
            assert not [line for line in shown if GLUED.search(line)], (width, shown)
            if width >= 40:
                text = "\n".join(shown)
                assert f"{budget.used:,} of {budget.window:,}" in text
                for tokens in budget.categories.values():
                    assert re.search(rf"[a-z] +{tokens:,}  +\d+%", text), (tokens, text)
