"""The permission vocabulary: the modes a session runs in and the lists a rule joins.

A module of its own, so the config can name them without loading the event models.
"""

from typing import Literal

PermissionMode = Literal["default", "acceptEdits", "plan", "bypass"]
RuleList = Literal["allow", "ask", "deny"]
# the mode-cycling key's order; bypass is only ever set explicitly
MODE_CYCLE: tuple[PermissionMode, ...] = ("default", "acceptEdits", "plan")


def next_mode(mode: PermissionMode) -> PermissionMode:
    """The mode after ``mode`` in the cycle; from bypass, back to default."""
    if mode not in MODE_CYCLE:
        return "default"
    return MODE_CYCLE[(MODE_CYCLE.index(mode) + 1) % len(MODE_CYCLE)]
