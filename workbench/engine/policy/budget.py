"""When the budget calls for action: auto-compaction past ``compact_at``, a delegation proposal past ``delegate_at``."""

from __future__ import annotations

from collections.abc import Sequence

from workbench.engine.context.tokens import BudgetSnapshot
from workbench.protocol.events import Reduction


def should_compact(snapshot: BudgetSnapshot) -> bool:
    """The context has reached the auto-compaction threshold."""
    return snapshot.share >= snapshot.compact_at


def reducing_suffices(snapshot: BudgetSnapshot, reductions: Sequence[Reduction]) -> bool:
    """Past the auto-compaction threshold: whether to apply these reductions instead of compacting.

    Both change the context, and the prompt cache is written again from the first block
    they change: a reduction from the first result it stubs, a compaction from the start of
    the conversation. Reductions that bring the context back under the threshold spare the
    compaction and its full re-write; reductions that do not (a few hundred tokens) are
    followed by the compaction anyway, whose summary covers what they stubbed: a re-write
    for nothing. So they are applied only when they suffice.
    """
    saved = sum(max(0, r.tokens_before - r.tokens_after) for r in reductions)
    return saved > 0 and snapshot.window > 0 and (snapshot.used - saved) / snapshot.window < snapshot.compact_at


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
