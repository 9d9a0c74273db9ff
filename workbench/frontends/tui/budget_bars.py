"""Budget gauges drawn as text: a one-line gauge for agent rows and a stacked bar by category."""

from __future__ import annotations

from textual.content import Content

EIGHTHS = " ▏▎▍▌▋▊▉█"

CATEGORY_STYLES: dict[str, str] = {
    "system": "$secondary",
    "tools": "$secondary-lighten-2",
    "memory": "$success-darken-2",
    "primers": "$success",
    "history": "$primary",
    "tool_results": "$accent",
    "summaries": "$warning",
    "thinking": "$primary-lighten-3",
}
CATEGORY_LABELS: dict[str, str] = {"tool_results": "tool results"}
TRACK = "on $panel"


def level_style(share: float, delegate_at: float, compact_at: float) -> str:
    """Green below the delegate threshold, amber up to auto-compact, red beyond."""
    if share >= compact_at:
        return "$error"
    if share >= delegate_at:
        return "$warning"
    return "$success"


def _partial_cells(share: float, cells: int) -> tuple[int, str]:
    """Whole cells filled, and the glyph of the cell after them (a partial block, or '')."""
    eighths = round(max(0.0, min(1.0, share)) * cells * 8)
    whole, rest = divmod(eighths, 8)
    return whole, EIGHTHS[rest] if rest and whole < cells else ""


def mini_gauge(share: float, delegate_at: float, compact_at: float, cells: int = 6) -> Content:
    """A gauge of ``cells`` characters, coloured by how close the share is to the thresholds."""
    style = f"{level_style(share, delegate_at, compact_at)} {TRACK}"
    whole, partial = _partial_cells(share, cells)
    filled = "█" * whole + partial
    return Content.assemble((filled, style), (" " * (cells - len(filled)), TRACK))


def stacked_bar(
    categories: dict[str, int], used: int, window: int, width: int, delegate_at: float, compact_at: float
) -> Content:
    """One row: ``used`` out of ``window``, split in the categories' proportions, ticks at the thresholds.

    The categories add up to ``used`` (the ledger scales its local estimates to the total).
    """
    if width <= 0 or window <= 0:
        return Content("")
    counted = sum(tokens for tokens in categories.values() if tokens > 0)
    scale = used / counted if counted else 0.0
    cells: list[tuple[str, str]] = []
    cumulative = 0.0
    style = "$foreground"
    for name, tokens in categories.items():
        if tokens <= 0:
            continue
        cumulative += tokens * scale
        style = CATEGORY_STYLES.get(name, "$foreground")
        end = min(width, int(cumulative / window * width))
        cells.extend(("█", style) for _ in range(max(0, end - len(cells))))
    if cumulative and len(cells) < width:
        _, partial = _partial_cells(cumulative / window * width - len(cells), 1)
        if partial.strip():
            cells.append((partial, style))
    ticks = {int(delegate_at * width): "$warning", int(compact_at * width): "$error"}
    while len(cells) < width:
        tick = ticks.get(len(cells))
        cells.append(("│", tick) if tick else (" ", ""))
    return Content.assemble(*((glyph, f"{style} {TRACK}".strip()) for glyph, style in cells))


def threshold_row(width: int, delegate_at: float, compact_at: float) -> Content:
    """Arrows under the ticks of ``stacked_bar``, labelled where there is room."""
    marks = [(int(delegate_at * width), "delegate", "$warning"), (int(compact_at * width), "compact", "$error")]
    marks.sort()
    row: list[tuple[str, str]] = []
    for i, (position, label, style) in enumerate(marks):
        if position >= width:
            continue
        limit = marks[i + 1][0] if i + 1 < len(marks) else width
        row.append((" " * (position - sum(len(text) for text, _ in row)), ""))
        room = limit - position - 1
        row.append(("↑" + (label if len(label) + 1 <= room else ""), style))
    return Content.assemble(*row)
