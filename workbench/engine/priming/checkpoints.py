"""Checkpoints: the ordered steps a primer sets (reproduce → diagnose → fix → validate).

The protocol needs no event of its own. A primer with checkpoints ends its
resolved text with :func:`checkpoint_instructions`, which lists the steps and
asks the agent to announce each on a line of its own (``Checkpoint: diagnose``).
Progress is then a pure function of the log: the steps come from the last
``primed`` event that has them, the announcements from the agent's later
``assistant_message`` events. A replayed or remounted log gives the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from workbench.protocol.content import TextBlock
from workbench.protocol.events import AgentFinished, AssistantMessage, Event, Primed

CheckpointStatus = Literal["pending", "active", "done", "skipped"]

_BLOCK = re.compile(r"<checkpoints>\n(?P<items>(?:\d+\. [^\n]+\n)+)</checkpoints>")
_ITEM = re.compile(r"^\d+\. (?P<name>.+)$", re.MULTILINE)
# "Checkpoint: fix", "**Checkpoint 3 — fix**", "### Checkpoint: fix (the parser)"
_ANNOUNCEMENT = re.compile(r"^[\s>#*_-]*checkpoint(?:\s+\d+)?\s*[:\-–—]\s*(?P<rest>.+)$", re.IGNORECASE | re.MULTILINE)


class CheckpointState(BaseModel):
    name: str
    index: int
    status: CheckpointStatus = "pending"
    # the announcement that set the current status, if any
    seq: int | None = None
    ts: datetime | None = None


def checkpoint_instructions(names: list[str]) -> str:
    """The text a primer with checkpoints ends with; :func:`checkpoint_progress` reads it back."""
    items = "".join(f"{i}. {name}\n" for i, name in enumerate(names, 1))
    return (
        f"<checkpoints>\n{items}</checkpoints>\n"
        "Work through these checkpoints in order. When you begin one, say so on a line of its own, "
        f"exactly like `Checkpoint: {names[0]}`, so your progress shows in the workbench. "
        "If you have to go back to an earlier step, announce it again."
    )


def checkpoints_of(text: str) -> list[str]:
    """The checkpoint names a primed text carries (the last block wins), or none."""
    blocks = list(_BLOCK.finditer(text))
    if not blocks:
        return []
    return [item["name"].strip() for item in _ITEM.finditer(blocks[-1]["items"])]


def announced(text: str, names: list[str]) -> list[int]:
    """Indexes of the checkpoints ``text`` announces, in order of appearance."""
    by_length = sorted(range(len(names)), key=lambda i: -len(names[i]))
    keys = [_normal(name) for name in names]
    found = []
    for match in _ANNOUNCEMENT.finditer(text):
        rest = _normal(match["rest"])
        hit = next((i for i in by_length if re.match(re.escape(keys[i]) + r"(?!\w)", rest)), None)
        if hit is not None:
            found.append(hit)
    return found


def checkpoint_progress(events: Iterable[Event], agent: str) -> list[CheckpointState]:
    """Where ``agent`` stands in the checkpoints of its latest checkpointed primer.

    The latest announced step is ``active``; earlier steps are ``done`` if they
    were announced and ``skipped`` if not; later ones are ``pending`` (going back
    to an earlier step reopens the ones after it). When the agent finishes
    successfully, its active step is ``done``.
    """
    states: list[CheckpointState] = []
    for event in events:
        if event.agent != agent:
            continue
        if isinstance(event, Primed):
            names = checkpoints_of(event.text)
            if names:
                states = [CheckpointState(name=name, index=i) for i, name in enumerate(names)]
        elif not states:
            continue
        elif isinstance(event, AssistantMessage):
            text = "\n".join(block.text for block in event.content if isinstance(block, TextBlock))
            for index in announced(text, [s.name for s in states]):
                _reach(states, index, event)
        elif isinstance(event, AgentFinished) and event.state == "done":
            for state in states:
                if state.status == "active":
                    state.status = "done"
    return states


def _reach(states: list[CheckpointState], index: int, event: AssistantMessage) -> None:
    for state in states:
        if state.index < index:
            if state.status == "pending":
                state.status = "skipped"
            elif state.status == "active":
                state.status = "done"
        elif state.index > index:
            state.status, state.seq, state.ts = "pending", None, None
    target = states[index]
    target.status, target.seq, target.ts = "active", event.seq, event.ts


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[*_`]", "", text).lower().split())
