"""Did a session stop in the middle of something? A pure function over its events and read problems.

A session closed cleanly leaves every agent idle or finished, every tool call
answered and every message replied to. Anything else means the process ended
while work was under way (a crash, a kill, a closed terminal), and the session
is offered for resuming from where it stopped.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from workbench.log.bundle import ReadProblem
from workbench.protocol.content import ToolUseBlock
from workbench.protocol.events import (
    FINAL_STATES,
    AgentFinished,
    AgentSpawned,
    AssistantMessage,
    Event,
    Status,
    ToolResult,
    UserMessage,
)

# the reader's wording for a partial last line (see bundle.parse_bundle)
TORN_TAIL = "torn last line"
RESTING_STATES = FINAL_STATES | {"idle"}


class StoppedAgent(BaseModel):
    agent: str
    state: str  # the last state the log recorded for it
    seq: int  # its last event
    reason: str

    def __str__(self) -> str:
        return f"{self.agent} at seq {self.seq}: {self.reason}"


class Interruption(BaseModel):
    last_seq: int  # the last readable event
    torn_tail: bool
    agents: list[StoppedAgent]

    def __str__(self) -> str:
        parts = [str(a) for a in self.agents]
        if self.torn_tail:
            parts.append("the last line was cut mid-write")
        return f"stopped after seq {self.last_seq}: " + "; ".join(parts)


class _Agent:
    def __init__(self, spawned: AgentSpawned) -> None:
        self.one_shot = spawned.mode != "foreground"
        self.state = "idle"
        self.finished = False
        self.seq = spawned.seq
        self.pending: dict[str, str] = {}  # tool_use_id -> tool name
        self.unanswered = False

    def observe(self, event: Event) -> None:
        self.seq = event.seq
        if isinstance(event, Status):
            self.state = event.state
        elif isinstance(event, AgentFinished):
            self.state, self.finished = event.state, True
        elif isinstance(event, UserMessage):
            self.unanswered = True
        elif isinstance(event, AssistantMessage):
            self.unanswered = False
            self.pending = {b.id: b.name for b in event.content if isinstance(b, ToolUseBlock)}
        elif isinstance(event, ToolResult):
            self.pending.pop(event.tool_use_id, None)

    def reason(self) -> str | None:
        if self.finished:
            return None
        if self.pending:
            return f"tool calls never answered: {', '.join(sorted(set(self.pending.values())))}"
        if self.unanswered:
            return "a message was never answered"
        if self.state not in RESTING_STATES:
            return f"it was {self.state.replace('_', ' ')}"
        if self.one_shot:
            return "its task never finished"
        return None


def interruption(events: Iterable[Event], problems: Iterable[ReadProblem] = ()) -> Interruption | None:
    """Where the session stopped mid-work, or None when it ended at rest."""
    agents: dict[str, _Agent] = {}
    last_seq = 0
    for event in events:
        last_seq = max(last_seq, event.seq)
        if isinstance(event, AgentSpawned):
            agents[event.agent] = _Agent(event)
        elif event.agent in agents:
            agents[event.agent].observe(event)
    stopped = [
        StoppedAgent(agent=agent_id, state=agent.state, seq=agent.seq, reason=reason)
        for agent_id, agent in agents.items()
        if (reason := agent.reason()) is not None
    ]
    torn = any(p.reason.startswith(TORN_TAIL) for p in problems)
    if not stopped and not torn:
        return None
    return Interruption(last_seq=last_seq, torn_tail=torn, agents=stopped)
