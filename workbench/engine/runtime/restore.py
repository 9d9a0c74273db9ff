"""Agents rebuilt from a session's log, in the state the log left them."""

from __future__ import annotations

from workbench.engine.context.fold import fold
from workbench.engine.runtime.agent import Agent, AgentServices, AgentSpec
from workbench.engine.views.roster import Roster
from workbench.protocol.content import ToolUseBlock, tool_uses
from workbench.protocol.events import (
    FINAL_STATES,
    AgentFinished,
    AgentSpawned,
    AssistantMessage,
    Compaction,
    Event,
    Primed,
    Reduction,
    Status,
    ToolResult,
    UserMessage,
)


def restore_agents(events: list[Event], services: AgentServices, roster: Roster) -> list[Agent]:
    """``roster``: the session's roster with every event folded in (it knows the prompts still waiting)."""
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
        row = roster.get(agent.id)
        if agent.state == "paused" or (row is not None and row.paused):
            agent.pause()
        if agent.state in FINAL_STATES:
            continue
        own = services.session.events_of(agent.id)
        agent.unanswered = _unanswered_calls(own)
        for prompt_id, text in (row.queued if row is not None else {}).items():
            agent.send(text, prompt_id)
        messages = fold(own, agent=agent.id).messages
        # the log ends on the user's side (a prompt, tool results): the agent owes a reply
        agent.owes_reply = (
            bool(messages) and messages[-1]["role"] == "user" and not agent.unanswered and not _primed_last(own)
        )
        if agent.owes_reply or agent.unanswered or agent.inbox:
            agent.answered = False
    return list(agents.values())


def _primed_last(events: list[Event]) -> bool:
    """Whether a primer (the memory files, say), or the facts ledger a reduction or compaction put in, is the
    last thing the agent was given: it waits for a prompt to go with it, as it did live, rather than
    answering it on its own."""
    given = (UserMessage, ToolResult, AssistantMessage, Primed, Reduction, Compaction)
    last = next((e for e in reversed(events) if isinstance(e, given)), None)
    return isinstance(last, (Primed, Reduction, Compaction))


def _unanswered_calls(events: list[Event]) -> list[ToolUseBlock]:
    """The calls of the agent's last reply that the log shows without a result (it stopped mid-call)."""
    last = next((e for e in reversed(events) if isinstance(e, AssistantMessage)), None)
    if last is None or last.interrupted:
        return []
    answered = {e.tool_use_id for e in events if isinstance(e, ToolResult) and e.seq > last.seq}
    return [call for call in tool_uses(last.content) if call.id not in answered]
