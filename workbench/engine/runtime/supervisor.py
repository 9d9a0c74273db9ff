"""The Supervisor owns every agent of a session: spawning, limits, waiting, cancelling.

One agent's failure never reaches another: each runs in its own task, and
``Agent.run`` turns any exception into a ``failed`` state in the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from workbench.engine.agent_types import AgentType, UnknownAgentType, find_agent_type
from workbench.engine.config import LimitsConfig
from workbench.engine.context.tokens import consumed_tokens
from workbench.engine.models import resolve_model
from workbench.engine.priming.primers import ResolvedPrimer
from workbench.engine.prompts import system_prompt
from workbench.engine.runtime.agent import Agent, AgentServices, AgentSpec
from workbench.engine.runtime.placement import NO_CLUSTER, ClusterSide, goes_to_cluster
from workbench.protocol.commands import Isolation
from workbench.protocol.events import AgentMode, ChildResult, Delegated
from workbench.protocol.placement import Placement
from workbench.tools.base import ToolOutput

log = logging.getLogger(__name__)


def _number_of(agent_id: str) -> int:
    tail = agent_id.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class SpawnRefused(Exception):
    """A limit (depth, children) forbids the spawn; the message says which."""


class Supervisor:
    def __init__(
        self,
        services: AgentServices,
        limits: LimitsConfig,
        *,
        model: str,
        window: int,
        auto_delegate: bool = False,
        ids: Callable[[int], str] | None = None,
        aliases: dict[str, str] | None = None,
    ) -> None:
        self.services = services
        self.aliases = aliases or {}
        self.limits = limits
        self.model = model
        self.window = window
        self.auto_delegate = auto_delegate
        self.agents: dict[str, Agent] = {}
        self.tasks: dict[str, asyncio.Task[str]] = {}
        self._slots = asyncio.Semaphore(limits.concurrency)
        self._slot_holders: set[str] = set()
        self._cancelled_early: set[str] = set()
        self._count = 0
        self.ids = ids or (lambda n: f"agent-{n}")
        self.cluster: ClusterSide | None = None  # where background and delegated agents go, when there is one
        services.delegate = self._delegate_tool

    def children(self, agent_id: str) -> list[Agent]:
        return [a for a in self.agents.values() if a.spec.parent == agent_id]

    def descendants(self, agent_id: str) -> list[Agent]:
        found: list[Agent] = []
        for child in self.children(agent_id):
            found.append(child)
            found.extend(self.descendants(child.id))
        return found

    def _next_id(self) -> str:
        self._count += 1
        return self.ids(self._count)

    def _tool_names(self, level: int) -> list[str]:
        names = list(self.services.tools.names)
        if level >= self.limits.depth:
            names = [n for n in names if n != "Task"]
        return names

    async def spawn(
        self,
        *,
        mode: AgentMode,
        task: str = "",
        parent: Agent | None = None,
        name: str = "",
        agent_id: str | None = None,
        primed: ResolvedPrimer | None = None,
        agent_type: AgentType | None = None,
        isolation: Isolation | None = None,
        placement: Placement | None = None,
    ) -> Agent:
        level = parent.spec.level + 1 if parent else 1
        if placement == "cluster" and self.cluster is None:
            raise SpawnRefused(NO_CLUSTER)
        remote = self.cluster is not None and goes_to_cluster(mode, placement, agent_type)
        if level > self.limits.depth:
            raise SpawnRefused(
                f"Refused: a level-{parent.spec.level if parent else 0} agent cannot spawn; "
                f"the depth limit is {self.limits.depth}."
            )
        if parent is not None and mode == "delegated":
            # the limit is for delegation: the user's background agents queue under the concurrency limit
            running = [
                c
                for c in self.children(parent.id)
                if c.spec.mode == "delegated" and c.state not in ("done", "failed", "cancelled")
            ]
            if len(running) >= self.limits.children_per_agent:
                raise SpawnRefused(
                    f"Refused: {parent.spec.name} already runs {len(running)} children "
                    f"(limit {self.limits.children_per_agent}); wait for one to finish."
                )
        tools = self._tool_names(level)
        if primed is not None:
            tools = primed.primer.offered_tools(tools)
        if agent_type is not None:
            tools = agent_type.offered_tools(tools)
        agent_id = agent_id or (self._next_id() if parent or mode != "foreground" else "primary")
        places = self.services.workspaces  # a cluster agent works in the worker's copy, not in a worktree here
        where = (
            await places.place(agent_id, parent.id if parent else None, mode, tools, agent_type, isolation)
            if places is not None and not remote
            else None
        )
        if remote:
            assert self.cluster is not None
            workspace: Path | str = self.cluster.workspace
        else:
            workspace = where.workspace if where is not None else self.services.workspace
        system = system_prompt(
            workspace,
            level,
            self.limits.depth,
            self.auto_delegate,
            parent_level=parent.spec.level if parent else None,
            branch=where.branch if where is not None else None,
        )
        if agent_type is not None:
            system = agent_type.system_prompt(system)
        spec = AgentSpec(
            id=agent_id,
            name=name or (task.split("\n")[0][:48] if task else "primary"),
            parent=parent.id if parent else None,
            level=level,
            mode=mode,
            task=task,
            primer=primed.primer.name if primed else None,
            system=system,
            model=resolve_model(
                (primed and primed.primer.model) or (agent_type and agent_type.model) or self.model, self.aliases
            ),
            window=self.window,
            tools=tools,
        )
        agent = self.cluster.remote_agent(spec) if self.cluster is not None and remote else Agent(spec, self.services)
        self.agents[agent.id] = agent
        try:
            await agent.announce(primed.event() if primed else None)
            if where is not None and where.event is not None:  # its worktree, or why it has none
                await agent.append(where.event)
        except asyncio.CancelledError:  # the parent was cancelled mid-spawn: so is the child
            await agent.finish_unstarted()
            raise
        except SpawnRefused:  # a cluster agent whose run could not be opened
            del self.agents[agent.id]
            raise
        if agent.id in self._cancelled_early:  # cancelled while its spawn was being written
            self.tasks[agent.id] = asyncio.create_task(agent.finish_unstarted())
        else:
            self.tasks[agent.id] = asyncio.create_task(self._run(agent), name=f"agent-{agent.id}")
        return agent

    def adopt(self, agent: Agent) -> None:
        """Run an agent whose spawn is already in the log (a resumed session)."""
        self.agents[agent.id] = agent
        self._count = max(self._count, _number_of(agent.id))
        self.tasks[agent.id] = asyncio.create_task(self._run(agent), name=f"agent-{agent.id}")

    def running(self, agent_id: str) -> bool:
        task = self.tasks.get(agent_id)
        return task is not None and not task.done()

    def revive(self, agent: Agent) -> None:
        """A finished one-shot agent was sent a message: it works again, same context."""
        if not self.running(agent.id):
            agent.answered = False
            self.adopt(agent)

    async def _run(self, agent: Agent) -> str:
        if not agent.one_shot or agent.remote:  # a cluster agent takes a worker's slot, not one of ours
            return await agent.run()
        try:
            await self._take_slot(agent)
            return await agent.run()
        finally:
            self._give_slot(agent)

    async def _take_slot(self, agent: Agent) -> None:
        if self._slots.locked():
            await agent.set_state("queued", "waiting for a free slot")
        await self._slots.acquire()
        self._slot_holders.add(agent.id)

    def _give_slot(self, agent: Agent) -> None:
        if agent.id in self._slot_holders:
            self._slot_holders.discard(agent.id)
            self._slots.release()

    async def wait(self, agent_id: str) -> str:
        return await asyncio.shield(self.tasks[agent_id])

    async def _delegate_tool(self, parent: Agent, description: str, prompt: str, agent_type: str | None) -> ToolOutput:
        try:
            kind = find_agent_type(agent_type, self.services.workspace) if agent_type else None
            child = await self.spawn(mode="delegated", task=prompt, parent=parent, name=description, agent_type=kind)
        except (SpawnRefused, UnknownAgentType) as exc:
            return ToolOutput(content=str(exc), is_error=True)
        await parent.append(Delegated(child=child.id, task=prompt))
        # a waiting parent gives up its slot, so a full tree can never deadlock the limit
        held = parent.id in self._slot_holders
        self._give_slot(parent)
        try:
            summary = await self.wait(child.id)
        except asyncio.CancelledError:
            self.cancel(child.id)
            raise
        except Exception as exc:  # the child's task itself failed: report, never hang the parent
            summary = f"[failed] {type(exc).__name__}: {exc}"
        finally:
            if held:
                await self._slots.acquire()
                self._slot_holders.add(parent.id)
        failed = child.state != "done"
        spent = consumed_tokens(self.services.session.events_of(child.id))
        await parent.append(ChildResult(child=child.id, summary=summary, is_error=failed, child_tokens=spent))
        who = f"Sub-agent {child.id} ('{child.spec.name}')"
        if failed:
            return ToolOutput(content=f"{who} did not finish ({child.state}): {summary}", is_error=True)
        return ToolOutput(content=f"{who} reports:\n{summary or '(no summary)'}")

    def cancel(self, agent_id: str) -> None:
        """Cancel an agent and, first, everything it spawned."""
        for descendant in reversed(self.descendants(agent_id)):
            self._cancel_one(descendant.id)
        self._cancel_one(agent_id)

    def _cancel_one(self, agent_id: str) -> None:
        task = self.tasks.get(agent_id)
        if task is None and agent_id in self.agents:
            self._cancelled_early.add(agent_id)
        elif task is not None and not task.done():
            task.cancel()
            agent = self.agents[agent_id]
            if not agent.started:  # its loop never ran, so nothing inside it will record the end
                self.tasks[agent_id] = asyncio.create_task(agent.finish_unstarted())

    async def close(self) -> None:
        """Stop every agent without ending it: the log shows where each one was."""
        for agent in self.agents.values():
            agent.closing = True
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
