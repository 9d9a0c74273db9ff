"""Delegation proposals: offered when an agent's context crosses the delegate threshold, then
accepted (a delegation followed) or dismissed (the user went on in the same context).

The engine logs no event for them yet, so this tracker is the one piece of
state here that the bundle does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

ProposalState = Literal["proposed", "accepted", "dismissed"]


@dataclass(frozen=True)
class Proposal:
    agent: str
    state: ProposalState = "proposed"
    child: str = ""  # the sub-agent that took the work, once accepted


class DelegationProposals:
    def __init__(self) -> None:
        self.latest: dict[str, Proposal] = {}

    def propose(self, agent: str) -> None:
        self.latest[agent] = Proposal(agent)

    def pending(self, agent: str) -> Proposal | None:
        proposal = self.latest.get(agent)
        return proposal if proposal is not None and proposal.state == "proposed" else None

    def decide(self, agent: str, state: ProposalState, child: str = "") -> Proposal | None:
        """Record what became of the agent's open proposal (None when it had none open)."""
        if self.pending(agent) is None:
            return None
        proposal = self.latest[agent] = replace(self.latest[agent], state=state, child=child)
        return proposal
