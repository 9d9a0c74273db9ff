"""What the notifications about agents say: background agents finished, a delegation is proposed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.notifications import SeverityLevel

from workbench.frontends.tui.humanize import clip
from workbench.protocol.events import AgentFinished

if TYPE_CHECKING:
    from workbench.engine.context.tokens import BudgetSnapshot

RESULT_CHARS = 160


@dataclass(frozen=True)
class Notice:
    title: str
    message: str
    severity: SeverityLevel = "information"
    timeout: float = 10


def finished_notice(batch: list[AgentFinished], hand_key: str, tasks_key: str) -> Notice:
    """One notice for background agents that finished together: the result when it is one agent,
    a tally when they are many (a hundred toasts would bury the screen)."""
    last = batch[-1]
    hand = f"{hand_key} hands {last.agent}'s result to the primary"
    if len(batch) == 1:
        result = clip(last.result, RESULT_CHARS) or last.state
        severity: SeverityLevel = "information" if last.state == "done" else "warning"
        return Notice(f"{last.agent} {last.state}", f"{result}\n{hand}", severity)
    tally: dict[str, int] = {}
    for event in batch:
        tally[event.state] = tally.get(event.state, 0) + 1
    states = " · ".join(f"{count} {state}" for state, count in tally.items())
    severity = "information" if set(tally) == {"done"} else "warning"
    return Notice(f"{len(batch)} background agents finished", f"{states}\n{tasks_key} lists them · {hand}", severity)


def proposal_notice(budget: BudgetSnapshot, accept_key: str) -> Notice:
    return Notice(
        f"Delegate the next sub-task? ({budget.agent})",
        f"The context has passed the {budget.delegate_at:.0%} delegation threshold. "
        f"Type the next sub-task and press {accept_key}: a sub-agent does it in a fresh context, "
        "and only its summary comes back here.",
        "warning",
        timeout=20,
    )
