"""One name for an agent wherever the screen names it: its id, then its short task.

The id tells two agents with the same task apart; the task says what the id is. The primary (and an
agent whose name is its id) is named by its id alone.
"""

from __future__ import annotations

from workbench.engine.views.roster import AgentRow


def short_task(row: AgentRow) -> str:
    """The agent's name (the first line of its task, or the description it was delegated with); '' when that is its id."""
    return row.name if row.name != row.id else ""


def agent_name(agent_id: str, row: AgentRow | None) -> str:
    """``agent-3 · summarise README.md`` (``agent-3`` when the roster does not know it)."""
    task = short_task(row) if row is not None else ""
    return f"{agent_id} · {task}" if task else agent_id
