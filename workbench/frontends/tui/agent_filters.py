"""The state filters of the agents pane and the task list: all / running / queued / paused / done / failed / cancelled."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

StateFilter = Literal["all", "running", "queued", "paused", "done", "failed", "cancelled"]

FILTERS: tuple[StateFilter, ...] = ("all", "running", "queued", "paused", "done", "failed", "cancelled")
# "running" is what the session strip counts as running: working, not waiting for a message
RUNNING_STATES = frozenset({"thinking", "tool", "awaiting_approval"})


def matches(state: str, chosen: StateFilter) -> bool:
    if chosen == "all":
        return True
    if chosen == "running":
        return state in RUNNING_STATES
    return state == chosen


def filter_counts(states: Iterable[str]) -> dict[StateFilter, int]:
    """How many of ``states`` each filter keeps."""
    counts: dict[StateFilter, int] = dict.fromkeys(FILTERS, 0)
    for state in states:
        for chosen in FILTERS:
            if matches(state, chosen):
                counts[chosen] += 1
    return counts
