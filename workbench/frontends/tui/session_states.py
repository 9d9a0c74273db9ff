"""Where a listed session stands, judged from its ``meta.json`` alone (a list never reads logs).

The preview reads the log and says exactly where an interrupted session
stopped (``workbench.log.interruption``); the list only needs the last state
each agent recorded, which the summary keeps.
"""

from __future__ import annotations

from typing import Literal

from workbench.engine.library import RESTING_STATES, SessionEntry
from workbench.protocol.events import FINAL_STATES

SessionState = Literal["open here", "running elsewhere", "interrupted", "finished"]

STATE_STYLES: dict[SessionState, str] = {
    "open here": "$accent",
    "running elsewhere": "$warning",
    "interrupted": "$error",
    "finished": "$success",
}


def state_of(entry: SessionEntry, current: str | None = None) -> SessionState:
    """``current`` is the session this app has open (its own lock makes it look held)."""
    if entry.meta.id == current:
        return "open here"
    if entry.holder is not None:
        return "running elsewhere"
    for agent in entry.meta.agents:
        one_shot = agent.mode != "foreground"
        if agent.state not in RESTING_STATES or (one_shot and agent.state not in FINAL_STATES):
            return "interrupted"
    return "finished"
