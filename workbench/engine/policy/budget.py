"""When the budget calls for action: auto-compaction past ``compact_at``, a delegation proposal past ``delegate_at``."""

from __future__ import annotations

from workbench.engine.context.tokens import BudgetSnapshot


def should_compact(snapshot: BudgetSnapshot) -> bool:
    """The context has reached the auto-compaction threshold."""
    return snapshot.share >= snapshot.compact_at


def should_propose_delegation(snapshot: BudgetSnapshot, previous: BudgetSnapshot | None) -> bool:
    """The context has just crossed the delegation threshold: true once per crossing.

    ``previous`` is the agent's snapshot before this one (None for the first).
    Falling back below the threshold (after a compaction) re-arms the proposal.
    """
    past = snapshot.share >= snapshot.delegate_at
    was_past = previous is not None and previous.share >= previous.delegate_at
    return past and not was_past


class DelegationWatch:
    """Remembers each agent's last snapshot, so callers need only pass the new one."""

    def __init__(self) -> None:
        self._last: dict[str, BudgetSnapshot] = {}

    def check(self, snapshot: BudgetSnapshot) -> bool:
        previous = self._last.get(snapshot.agent)
        self._last[snapshot.agent] = snapshot
        return should_propose_delegation(snapshot, previous)
