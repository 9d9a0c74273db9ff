"""Tokens that delegation kept out of each parent's context, folded from its ``child_result`` events.

A child's work costs ``child_tokens``; only its summary enters the parent's
context, so the parent was spared the difference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from workbench.protocol.events import ChildResult, Event


class DelegationRollup:
    def __init__(self, count: Callable[[str], int]) -> None:
        self.count = count
        self.kept_out: dict[str, int] = defaultdict(int)

    def observe(self, event: Event) -> bool:
        """True when the event changed a figure."""
        if not isinstance(event, ChildResult) or not event.child_tokens:
            return False
        self.kept_out[event.agent] += max(0, event.child_tokens - self.count(event.summary))
        return True

    def of(self, agent: str) -> int:
        return self.kept_out.get(agent, 0)

    @property
    def session(self) -> int:
        return sum(self.kept_out.values())
