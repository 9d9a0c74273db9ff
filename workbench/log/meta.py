"""A session's summary (``meta.json``): derived from the log, so always rebuildable."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, Field

from workbench.log.redact import redact
from workbench.log.usage_totals import TokenTotals
from workbench.protocol.events import AgentFinished, AgentSpawned, Event, SessionStarted, Status, Usage, UserMessage

TITLE_CHARS = 80
# what this summary holds; an older one (without ``usage``, say) is rebuilt from the log
META_VERSION = 2


class AgentSummary(BaseModel):
    id: str
    name: str = ""
    parent: str | None = None
    level: int = 1
    mode: str = "foreground"
    state: str = "idle"
    model: str = ""


class SessionMeta(BaseModel):
    id: str
    version: int = 1  # a file without it was written before version 2
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
    usage: dict[str, TokenTotals] = Field(default_factory=dict)  # by model: what a price list needs
    # size of events.jsonl this summary describes; a different size means stale
    bytes: int = 0

    @classmethod
    def new(cls, session_id: str, size: int = 0) -> SessionMeta:
        return cls(id=session_id, version=META_VERSION, bytes=size)

    def describes(self, size: int) -> bool:
        """This summary is of the log as it is now (same size), and holds what this version keeps."""
        return self.bytes == size and self.version == META_VERSION

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
                    model=event.model,
                )
            )
        elif isinstance(event, UserMessage) and not self.title:
            # masked before it is cut: a key cut in half would no longer look like one
            self.title = redact(" ".join(event.text.split()))[:TITLE_CHARS]
        elif isinstance(event, Usage):
            self.input_tokens += event.input_tokens + event.cache_read_input_tokens + event.cache_creation_input_tokens
            self.output_tokens += event.output_tokens
            model = event.model or next((a.model for a in self.agents if a.id == event.agent), "") or self.model
            self.usage.setdefault(model, TokenTotals()).add(event)
        elif isinstance(event, (Status, AgentFinished)):
            for agent in self.agents:
                if agent.id == event.agent:
                    agent.state = event.state

    @classmethod
    def rebuild(cls, session_id: str, events: Iterable[Event], size: int) -> SessionMeta:
        meta = cls.new(session_id, size)
        for event in events:
            meta.observe(event)
        return meta
