"""Agents rebuilt from a session's log, in the state the log left them."""

from __future__ import annotations

from workbench.engine.context.fold import fold
from workbench.engine.runtime.agent import Agent, AgentServices, AgentSpec
from workbench.protocol.content import tool_uses
from workbench.protocol.events import AgentFinished, AgentSpawned, AssistantMessage, Event, Status


def restore_agents(events: list[Event], services: AgentServices) -> list[Agent]:
    agents: dict[str, Agent] = {}
    for event in events:
        if isinstance(event, AgentSpawned):
            agents[event.agent] = Agent(AgentSpec.of(event), services)
        elif isinstance(event, (Status, AgentFinished)) and event.agent in agents:
            agents[event.agent].state = event.state
        elif isinstance(event, AssistantMessage) and event.agent in agents:
            agent = agents[event.agent]
            agent.answered = not tool_uses(event.content) and not event.interrupted
            agent.result = "".join(b.text for b in event.content if b.type == "text") or agent.result
    for agent in agents.values():
        if agent.state == "paused":
            agent.pause()
        messages = fold(services.session.events_of(agent.id), agent=agent.id).messages
        # the log ends on the user's side (a prompt, tool results): the agent owes a reply
        agent.owes_reply = (
            bool(messages) and messages[-1]["role"] == "user" and agent.state not in ("done", "failed", "cancelled")
        )
        if agent.owes_reply:
            agent.answered = False
    return list(agents.values())
