"""The bundle log's filter: which events to show, typed as a few words.

``agent-1 tool`` shows agent-1's tool calls and results: every bare word must
name the event's agent (a prefix of it) or its kind (a part of it).
``agent:primary`` and ``kind:error`` match exactly, and several of either
mean any of them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LogFilter:
    agents: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    words: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> LogFilter:
        agents, kinds, words = [], [], []
        for term in text.lower().split():
            if term.startswith("agent:") and len(term) > 6:
                agents.append(term[6:])
            elif term.startswith("kind:") and len(term) > 5:
                kinds.append(term[5:])
            else:
                words.append(term)
        return cls(tuple(agents), tuple(kinds), tuple(words))

    def __bool__(self) -> bool:
        return bool(self.agents or self.kinds or self.words)

    def matches(self, agent: str, kind: str) -> bool:
        agent = (agent or "session").lower()
        if self.agents and agent not in self.agents:
            return False
        if self.kinds and kind not in self.kinds:
            return False
        return all(agent.startswith(word) or word in kind for word in self.words)
