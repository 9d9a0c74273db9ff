"""Checkpoints and todos drawn as text: ``2/4 diagnose``, ``✓✓◐○``, ``◐ Running the tests``."""

from __future__ import annotations

from textual.content import Content

from workbench.engine.priming.checkpoints import CheckpointState
from workbench.protocol.interaction import TodoItem

CHECKPOINT_GLYPHS: dict[str, tuple[str, str]] = {
    "done": ("✓", "$success"),
    "active": ("◐", "$accent bold"),
    "skipped": ("↷", "$warning"),
    "pending": ("○", "$foreground-muted"),
}
TODO_GLYPHS: dict[str, tuple[str, str]] = {
    "completed": ("✓", "$success"),
    "in_progress": ("◐", "$accent"),
    "pending": ("○", "$foreground-muted"),
}


def checkpoint_summary(states: list[CheckpointState]) -> str:
    """``2/4 diagnose`` at the active step, ``4/4 done`` when all are behind, ``0/4 reproduce next`` before."""
    if not states:
        return ""
    total = len(states)
    active = next((s for s in states if s.status == "active"), None)
    if active is not None:
        return f"{active.index + 1}/{total} {active.name}"
    if all(s.status in ("done", "skipped") for s in states):
        return f"{total}/{total} done"
    return f"0/{total} {states[0].name} next"


def checkpoint_track(states: list[CheckpointState]) -> Content:
    """One glyph per checkpoint, in order."""
    return Content.assemble(*(CHECKPOINT_GLYPHS[s.status] for s in states))


def todo_tally(todos: list[TodoItem]) -> str:
    done = sum(1 for item in todos if item.status == "completed")
    return f"{done}/{len(todos)}"


def todo_line(item: TodoItem) -> Content:
    """``◐ Running the tests`` for the item under way, ``○ Run the tests`` / ``✓ Run the tests`` otherwise."""
    glyph, style = TODO_GLYPHS[item.status]
    if item.status == "in_progress":
        return Content.assemble((glyph, style), " ", (item.activeForm, "bold"))
    text_style = "$foreground-muted strike" if item.status == "completed" else ""
    return Content.assemble((glyph, style), " ", (item.content, text_style))


def current_todo(todos: list[TodoItem]) -> TodoItem | None:
    """The item under way, else the next one to do."""
    return next((i for i in todos if i.status == "in_progress"), None) or next(
        (i for i in todos if i.status == "pending"), None
    )
