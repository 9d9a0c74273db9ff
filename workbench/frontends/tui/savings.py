"""What the reduction strategies saved an agent's context, as lines for the budget pane.

Each strategy's share is of what the context would hold without any reduction
(what it holds now plus everything saved), so the shares add up to the total's.
"""

from __future__ import annotations

from textual.content import Content

from workbench.engine.context.tokens import BudgetSnapshot
from workbench.frontends.tui.tally_rows import tally_rows

STRATEGY_LABELS: dict[str, str] = {"superseded": "superseded", "stale": "stale results", "compaction": "compaction"}


def savings_lines(budget: BudgetSnapshot) -> list[Content]:
    saved = {name: tokens for name, tokens in budget.saved.items() if tokens > 0}
    if not saved:
        return []
    total = sum(saved.values())
    unreduced = budget.used + total
    lines = [
        Content.assemble(
            ("⇣ saved ", "$success"),
            (f"{total:,}", "bold $success"),
            (" tokens · ", "$foreground-muted"),
            (f"{total / unreduced:.0%}", "bold $success"),
        )
    ]
    ranked = sorted(saved.items(), key=lambda item: -item[1])
    lines.extend(
        tally_rows([(Content("  " + STRATEGY_LABELS.get(name, name)), tokens) for name, tokens in ranked], unreduced)
    )
    return lines
