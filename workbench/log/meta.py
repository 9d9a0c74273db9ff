"""A session's summary (``meta.json``): derived from the log, so always rebuildable."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, Field

from workbench.log.redact import redact
from workbench.protocol.events import AgentFinished, AgentSpawned, Event, SessionStarted, Status, Usage, UserMessage

TITLE_CHARS = 80


class AgentSummary(BaseModel):
    id: str
    name: str = ""
    parent: str | None = None
    level: int = 1
    mode: str = "foreground"
    state: str = "idle"


class SessionMeta(BaseModel):
    id: str
    title: str = ""
    created: datetime | None = None
    updated: datetime | None = None
    cwd: str = ""
    brain: str = ""
    model: str = ""
    agents: list[AgentSummary] = Field(default_factory=list)
    events: int = 0
    last_seq: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    # size of events.jsonl this summary describes; a different size means stale
    bytes: int = 0

    def observe(self, event: Event) -> None:
        self.events += 1
        self.last_seq = max(self.last_seq, event.seq)
        self.updated = event.ts
        if self.created is None:
            self.created = event.ts
        if isinstance(event, SessionStarted):
            self.cwd, self.brain, self.model = event.cwd, event.brain, event.model
            self.title = self.title or redact(event.title)
        elif isinstance(event, AgentSpawned):
            self.agents.append(
                AgentSummary(
                    id=event.agent,
                    name=event.name,
                    parent=event.parent,
                    level=event.level,
                    mode=event.mode,
                )
            )
        elif isinstance(event, UserMessage) and not self.title:
            # masked before it is cut: a key cut in half would no longer look like one
            self.title = redact(" ".join(event.text.split()))[:TITLE_CHARS]
        elif isinstance(event, Usage):
            self.input_tokens += event.input_tokens + event.cache_read_input_tokens + event.cache_creation_input_tokens
            self.output_tokens += event.output_tokens
        elif isinstance(event, (Status, AgentFinished)):
            for agent in self.agents:
                if agent.id == event.agent:
                    agent.state = event.state

    @classmethod
    def rebuild(cls, session_id: str, events: Iterable[Event], size: int) -> SessionMeta:
        meta = cls(id=session_id, bytes=size)
        for event in events:
            meta.observe(event)
        return meta
