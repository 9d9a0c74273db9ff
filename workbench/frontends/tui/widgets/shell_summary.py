"""One line in the agents pane's detail about the highlighted agent's background shells."""

from __future__ import annotations

from textual.content import Content

from workbench.engine.views.shells import Shells


def shells_line(shells: Shells, agent: str, list_key: str) -> list[Content]:
    """``2 shells running · s to list`` (nothing when the agent started none)."""
    rows = shells.of(agent)
    if not rows:
        return []
    running = sum(row.running for row in rows)
    if running:
        count = f"{running} shell{'s' if running != 1 else ''} running"
    else:
        count = f"{len(rows)} shell{'s' if len(rows) != 1 else ''}, none running"
    return [
        Content.assemble(("shells ", "$foreground-muted"), (count, "bold" if running else ""), f" · {list_key} to list")
    ]
