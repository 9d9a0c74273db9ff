"""What the agents pane shows of each agent, folded from the session's events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from workbench.engine.priming.checkpoints import CheckpointState, checkpoint_progress, checkpoints_of
from workbench.frontends.tui.tool_subject import subject_of
from workbench.protocol.events import (
    AgentFinished,
    AgentSpawned,
    AssistantMessage,
    Delegated,
    Error,
    Event,
    Primed,
    Remounted,
    Status,
    ToolCall,
    ToolResult,
    Usage,
)
from workbench.tools.todo import TodoItem, TodoWrite, todos_of

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
    checkpoints: list[CheckpointState] = field(default_factory=list)
    todos: list[TodoItem] = field(default_factory=list)
    # what the two lists are folded from: the checkpointed primer and the replies after it,
    # and the TodoWrite calls still waiting for their result
    _checkpoint_log: list[Event] = field(default_factory=list, repr=False)
    _todo_calls: dict[str, ToolCall] = field(default_factory=dict, repr=False)

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

    def observe(self, event: Event) -> bool:
        """Fold one of the agent's events in; True when anything the pane shows changed."""
        before = (self.state, self.last_action, self.tokens)
        if isinstance(event, Status):
            self.state = event.state
            if event.state == "awaiting_approval":
                self.last_action = f"waiting for approval: {event.detail}"
            elif self.last_call:
                self.last_action = self.last_call
        elif isinstance(event, ToolCall):
            self.last_action = self.last_call = f"{event.name} {subject_of(event.input)}".strip()
            if event.name == TodoWrite.name:
                self._todo_calls[event.tool_use_id] = event
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
            if not (event.state == "failed" and self.last_action.startswith("error: ")):  # the cause says more
                self.last_action = event.result or event.state
        lists_changed = self._follow_todos(event) | self._follow_checkpoints(event)
        return lists_changed or (self.state, self.last_action, self.tokens) != before

    def _follow_todos(self, event: Event) -> bool:
        if isinstance(event, ToolResult) and (call := self._todo_calls.pop(event.tool_use_id, None)):
            if event.is_error:
                return False
            self.todos = todos_of([call, event], self.id)
            return True
        if isinstance(event, Remounted):
            self.todos = todos_of([event], self.id)
            return True
        return False

    def _follow_checkpoints(self, event: Event) -> bool:
        if isinstance(event, Primed) and checkpoints_of(event.text):
            self._checkpoint_log = [event]
        elif self._checkpoint_log and isinstance(event, (AssistantMessage, AgentFinished)):
            self._checkpoint_log.append(event)
        else:
            return False
        progress = checkpoint_progress(self._checkpoint_log, self.id)
        changed = progress != self.checkpoints
        self.checkpoints = progress
        return changed


class AgentRoster:
    """Every agent of the session as a row, folded from the log one event at a time."""

    def __init__(self) -> None:
        self.rows: dict[str, AgentRow] = {}
        self.last_seq = 0

    def observe(self, event: Event) -> AgentRow | None:
        """The row the event added or changed (None when nothing shown changed)."""
        if event.seq and event.seq <= self.last_seq:
            return None  # already folded (a backlog that overlaps the live events)
        self.last_seq = max(self.last_seq, event.seq)
        if isinstance(event, AgentSpawned):
            row = self.rows[event.agent] = AgentRow.spawned(event)
            return row
        row = self.rows.get(event.agent)
        return row if row is not None and row.observe(event) else None
