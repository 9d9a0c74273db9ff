"""Token counts by name as aligned rows: the name, the count and its share, a space at least between each.

A count as wide as its column (a million tokens in a 1M window) still stands apart from the name before it.
"""

from __future__ import annotations

from textual.content import Content

FIGURE_CELLS = 8  # "999,999": the counts of a 200k window line up at the same place whatever their size


def tally_rows(items: list[tuple[Content, int]], whole: int) -> list[Content]:
    """``■ tool results    7,481  66%``: each item's label (padded to the longest), its count, its share of ``whole``."""
    if not items:
        return []
    label_cells = max(len(label) for label, _ in items)
    figure_cells = max(FIGURE_CELLS, *(len(f"{tokens:,}") for _, tokens in items))
    return [
        Content.assemble(
            label,
            " " * (label_cells - len(label) + 1),
            f"{tokens:,}".rjust(figure_cells),
            (f" {tokens / (whole or 1):>4.0%}", "$foreground-muted"),
        )
        for label, tokens in items
    ]
