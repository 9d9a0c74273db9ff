"""What the agents pane shows of each agent, folded from the session's events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workbench.core.events import (
    AgentFinished,
    AgentSpawned,
    Delegated,
    Error,
    Event,
    Status,
    ToolCall,
    Usage,
)
from workbench.tui.tool_subject import subject_of

STATE_GLYPHS: dict[str, str] = {
    "queued": "◌",
    "idle": "○",
    "thinking": "◐",
    "tool": "⚙",
    "awaiting_approval": "?",
    "paused": "‖",
    "done": "✓",
    "failed": "✗",
    "cancelled": "⊘",
}
ACTIVE_STATES = frozenset({"queued", "thinking", "tool", "awaiting_approval"})


@dataclass
class AgentRow:
    id: str
    name: str
    parent: str | None
    level: int
    mode: str
    task: str
    started: datetime
    state: str = "idle"
    finished: datetime | None = None
    tokens: int = 0
    last_action: str = ""
    last_call: str = ""

    @classmethod
    def spawned(cls, event: AgentSpawned) -> AgentRow:
        return cls(
            id=event.agent,
            name=event.name or event.agent,
            parent=event.parent,
            level=event.level,
            mode=event.mode,
            task=event.task,
            started=event.ts,
        )

    @property
    def glyph(self) -> str:
        return STATE_GLYPHS.get(self.state, "·")

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def elapsed_s(self, now: datetime) -> float:
        return ((self.finished or now) - self.started).total_seconds()

    def observe(self, event: Event) -> None:
        if isinstance(event, Status):
            self.state = event.state
            if event.state == "awaiting_approval":
                self.last_action = f"waiting for approval: {event.detail}"
            elif self.last_call:
                self.last_action = self.last_call
        elif isinstance(event, ToolCall):
            self.last_action = self.last_call = f"{event.name} {subject_of(event.input)}".strip()
        elif isinstance(event, Usage):
            self.tokens += event.input_tokens + event.output_tokens + event.cache_read_input_tokens
            self.tokens += event.cache_creation_input_tokens
        elif isinstance(event, Delegated):
            self.last_action = f"delegated to {event.child}"
        elif isinstance(event, Error) and not event.retryable:
            self.last_action = f"error: {event.message}"
        elif isinstance(event, AgentFinished):
            self.state = event.state
            self.finished = event.ts
            self.last_action = event.result or event.state
