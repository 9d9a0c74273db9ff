"""Where a spawned agent runs: here, or on the cluster the session's host is connected to.

The engine knows the cluster only through ``ClusterSide`` (its transport implements it):
whether a spawn goes there, the stand-in agent that waits for a cluster agent's run, the agents
of a resumed session that run there, and the commands meant for them.
"""

from __future__ import annotations

from typing import Protocol

from workbench.engine.agent_types import AgentType
from workbench.engine.runtime.agent import Agent, AgentSpec
from workbench.protocol.commands import Command, Outcome
from workbench.protocol.events import AgentMode
from workbench.protocol.placement import Placement

NO_CLUSTER = (
    "Refused: no cluster is configured (start the host with: workbench serve --cluster URL, or set [cluster] url)."
)


def goes_to_cluster(mode: AgentMode, requested: Placement | None, agent_type: AgentType | None) -> bool:
    """The spawn's own placement, else its agent type's, else: background and delegated agents go."""
    chosen = requested or (agent_type.placement if agent_type is not None else None)
    if chosen is not None:
        return chosen == "cluster"
    return mode in ("background", "delegated")


class ClusterSide(Protocol):
    @property
    def workspace(self) -> str:
        """How a cluster agent's system prompt names the folder it works in."""
        ...

    def remote_agent(self, spec: AgentSpec) -> Agent:
        """The stand-in for a cluster agent: announcing it queues its run; it ends when the run does."""
        ...

    def restored(self, agent: Agent) -> Agent | None:
        """An agent of a resumed session: itself when it runs here, a stand-in when its run is on the
        cluster, None for a sub-agent inside a cluster agent's run (its worker holds it)."""
        ...

    async def route(self, command: Command) -> Outcome | None:
        """Carry out a command meant for a cluster agent (None: the command is not for one)."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...
