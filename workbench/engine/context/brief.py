"""The short brief a delegated child gets instead of its parent's whole history."""

from __future__ import annotations

import re

from workbench.protocol.events import Event, ToolCall, UserMessage

MAX_FILES = 10
MAX_CONSTRAINTS = 5
_CONSTRAINT = re.compile(r"\b(must|mustn't|don't|do not|never|always|only|should|avoid|keep|without)\b", re.I)
_PATH_KEYS = ("file_path", "path", "notebook_path")


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def brief(parent_events: list[Event], task: str) -> str:
    """Goal, relevant files and constraints from the parent's log, then the task."""
    users = [e.text for e in parent_events if isinstance(e, UserMessage)]
    files: list[str] = []
    for event in parent_events:
        if isinstance(event, ToolCall):
            for key in _PATH_KEYS:
                value = event.input.get(key)
                if isinstance(value, str) and value not in files:
                    files.append(value)
    constraints = [u for u in users if _CONSTRAINT.search(u)][-MAX_CONSTRAINTS:]
    parts = [f"Your task: {task.strip()}"]
    if users:
        parts.append(f"The overall goal of the agent that delegated this: {_clip(users[0])}")
    if files:
        parts.append("Files it has worked with: " + ", ".join(files[-MAX_FILES:]))
    if constraints:
        parts.append("Constraints the user gave:\n" + "\n".join(f"- {_clip(c, 200)}" for c in constraints))
    parts.append("When done, reply with a short summary: it is all the delegating agent will see.")
    return "\n\n".join(parts)
