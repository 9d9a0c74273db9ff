"""What the reduction strategies saved an agent's context, as lines for the budget pane.

Each strategy's share is of what the context would hold without any reduction
(what it holds now plus everything saved), so the shares add up to the total's.
"""

from __future__ import annotations

from textual.content import Content

from workbench.engine.context.tokens import BudgetSnapshot

STRATEGY_LABELS: dict[str, str] = {"superseded": "superseded", "stale": "stale results", "compaction": "compaction"}


def savings_lines(budget: BudgetSnapshot) -> list[Content]:
    saved = {name: tokens for name, tokens in budget.saved.items() if tokens > 0}
    if not saved:
        return []
    total = sum(saved.values())
    unreduced = budget.used + total
    labels = {name: STRATEGY_LABELS.get(name, name) for name in saved}
    width = max(len(label) for label in labels.values())
    lines = [
        Content.assemble(
            ("⇣ saved ", "$success"),
            (f"{total:,}", "bold $success"),
            (" tokens · ", "$foreground-muted"),
            (f"{total / unreduced:.0%}", "bold $success"),
        )
    ]
    for name, tokens in sorted(saved.items(), key=lambda item: -item[1]):
        lines.append(
            Content.assemble(
                "  ",
                labels[name].ljust(width),
                f"{tokens:>9,}",
                (f" {tokens / unreduced:>4.0%}", "$foreground-muted"),
            )
        )
    return lines
