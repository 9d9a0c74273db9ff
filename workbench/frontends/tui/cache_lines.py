"""What the prompt cache did for the focused agent, and the exact count of its context, as lines for the budget pane."""

from __future__ import annotations

from textual.content import Content

from workbench.engine.context.tokens import BudgetSnapshot, ContextCount
from workbench.frontends.tui.humanize import token_count


def cache_lines(budget: BudgetSnapshot) -> list[Content]:
    """The cached share of the last request's input; a warning when its prefix stopped hitting the cache."""
    cache = budget.cache
    if not (cache.read or cache.written or cache.missed):
        return []  # no request of this agent has used the cache (the offline brain, or nothing asked yet)
    if cache.missed:
        return [
            Content.assemble(
                ("⚠ cache missed: ", "bold $warning"),
                (f"the prefix changed or expired; {token_count(cache.written)} written again", "$warning"),
            )
        ]
    return [
        Content.assemble(
            ("⟲ cached ", "$foreground-muted"),
            (f"{cache.share:.0%}", "bold"),
            (f" · read {token_count(cache.read)} · written {token_count(cache.written)}", "$foreground-muted"),
        )
    ]


def count_lines(count: ContextCount) -> list[Content]:
    """The API's exact count beside the budget's figure (or why there is none)."""
    if count.exact is None:
        return [Content.styled(f"= no exact count: {count.note}", "$foreground-muted")]
    off = count.exact - count.budget
    return [
        Content.assemble(
            ("= ", "$accent"),
            (f"{count.exact:,}", "bold $accent"),
            (" exact (count_tokens) · budget ", "$foreground-muted"),
            f"{count.budget:,}",
            (f" ({off:+,})", "$foreground-muted"),
        )
    ]
