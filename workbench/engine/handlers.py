"""One handler per command: what each command does to the engine, and nothing else does.

A handler checks the command against the session as it is (the views), refuses
with a sentence the user can act on, or makes its change, always as events.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from workbench.engine.agent_types import AgentTypeError, find_agent_type
from workbench.engine.context.brief import brief
from workbench.engine.context.compaction import CompactionFailed, NothingToCompact
from workbench.engine.context.compaction import compact as compact_events
from workbench.engine.context.tokens import consumed_tokens
from workbench.engine.policy.hooks import PreCompactPayload
from workbench.engine.policy.permissions import PermissionRuleError, Rule
from workbench.engine.priming.primers import PrimerError
from workbench.engine.prompts import orchestration_prompt, returned_result
from workbench.engine.runtime.agent import Agent
from workbench.engine.runtime.supervisor import SpawnRefused
from workbench.engine.workspace_handlers import commit as commit
from workbench.engine.workspace_handlers import discard as discard
from workbench.engine.workspace_handlers import keep_branch as keep_branch
from workbench.engine.workspace_handlers import merge as merge
from workbench.engine.workspace_handlers import restore_files as restore_files
from workbench.log.catalog import rename as rename_session
from workbench.protocol.brain_io import BrainError, UsageReport
from workbench.protocol.commands import (
    AddRule,
    Answer,
    Approve,
    Cancel,
    Compact,
    DecideDelegation,
    DecidePlan,
    HandResult,
    Interrupt,
    Isolation,
    Orchestrate,
    Outcome,
    Pause,
    Prime,
    Reduce,
    Rename,
    RestartMcp,
    Resume,
    Send,
    SetMode,
    SetSpendCap,
    Spawn,
    StopShell,
)
from workbench.protocol.events import (
    FINAL_STATES,
    ChildResult,
    Compaction,
    Delegated,
    DelegationDecided,
    Error,
    Event,
    ModeChanged,
    PauseChanged,
    Primed,
    PromptQueued,
    Reduction,
    RuleAdded,
    SessionRenamed,
    SpendCap,
    Usage,
)
from workbench.protocol.interaction import ApprovalChoice
from workbench.protocol.placement import Placement

if TYPE_CHECKING:
    from workbench.engine.engine import Engine


def _agent(engine: Engine, agent_id: str) -> Agent | Outcome:
    agent = engine.agent(agent_id)
    return agent if agent is not None else Outcome.refused(f"There is no agent {agent_id!r}.")


# ---------------------------------------------------------------- talking to agents


async def send(engine: Engine, command: Send) -> Outcome:
    from workbench.engine.engine import new_prompt_id

    agent = _agent(engine, command.agent)
    if isinstance(agent, Outcome):
        return agent
    if agent.takes_prompts_now:
        agent.send(command.text)
    else:  # busy, paused or not started: the prompt waits in the log, where it is seen and survives a restart
        prompt_id = new_prompt_id()
        await agent.append(PromptQueued(prompt_id=prompt_id, text=command.text))
        agent.send(command.text, prompt_id)
    engine.supervisor.revive(agent)
    if engine.view.proposals.pending(agent.id) is not None:  # it went on in the same context
        await agent.append(DelegationDecided(decision="dismissed"))
    return Outcome(agent=agent.id)


def interrupt(engine: Engine, command: Interrupt) -> Outcome:
    agent = _agent(engine, command.agent)
    if isinstance(agent, Outcome):
        return agent
    if not agent.interrupt():
        return Outcome.refused(f"{agent.id} is not running: nothing to interrupt.")
    return Outcome(agent=agent.id)


def cancel(engine: Engine, command: Cancel) -> Outcome:
    agent = _agent(engine, command.agent)
    if isinstance(agent, Outcome):
        return agent
    if agent.id == "primary":
        return Outcome.refused("The primary agent is not cancelled; interrupt its turn instead.")
    if agent.state in FINAL_STATES:
        return Outcome.refused(f"{agent.id} has already finished.")
    engine.supervisor.cancel(agent.id)
    return Outcome(agent=agent.id, message=f"Cancelling {agent.id} and its children.")


async def pause(engine: Engine, command: Pause) -> Outcome:
    agent = _agent(engine, command.agent)
    if isinstance(agent, Outcome):
        return agent
    if agent.state in FINAL_STATES:
        return Outcome.refused(f"{agent.id} has finished; there is nothing to pause.")
    if agent.paused:
        return Outcome.refused(f"{agent.id} is paused already.")
    agent.pause()  # at once: while the request is being logged, the agent must not start a step
    await agent.append(PauseChanged(paused=True))
    return Outcome(agent=agent.id)


async def resume(engine: Engine, command: Resume) -> Outcome:
    agent = _agent(engine, command.agent)
    if isinstance(agent, Outcome):
        return agent
    if not agent.paused:
        return Outcome.refused(f"{agent.id} is not paused.")
    await agent.append(PauseChanged(paused=False))
    agent.resume()
    return Outcome(agent=agent.id)


async def prime(engine: Engine, command: Prime) -> Outcome:
    agent = _agent(engine, command.agent)
    if isinstance(agent, Outcome):
        return agent
    if command.resolved is not None:  # exactly what the preview showed: it is not resolved again
        given = command.resolved
        event = Primed(
            primer=command.primer,
            arguments=command.arguments,
            text=given.text,
            sha256=given.sha256,
            tokens=given.tokens,
        )
    else:
        try:
            event = (await engine.preview_primer(command.primer, command.arguments, agent.id)).event()
        except PrimerError as exc:
            return Outcome.refused(str(exc))
    agent.prime(event)
    engine.supervisor.revive(agent)
    return Outcome(agent=agent.id, message=f"{event.tokens:,} tokens into {agent.id}")


async def orchestrate(engine: Engine, command: Orchestrate) -> Outcome:
    return await send(engine, Send(text=orchestration_prompt(command.goal)))


# ---------------------------------------------------------------- spawning and results


async def spawn(engine: Engine, command: Spawn) -> Outcome:
    parent = _agent(engine, command.parent)
    if isinstance(parent, Outcome):
        return parent
    try:
        if command.mode == "background":
            child = await _background(engine, command)
        else:
            child = await delegate(
                engine,
                parent,
                command.task,
                command.primer,
                command.agent_type,
                isolation=command.isolation,
                placement=command.placement,
            )
    except (SpawnRefused, PrimerError, AgentTypeError) as exc:
        return Outcome.refused(str(exc))
    if command.mode == "delegated" and engine.view.proposals.pending(parent.id) is not None:
        await parent.append(DelegationDecided(decision="accepted", child=child.id))
    return Outcome(agent=child.id, message=f"{child.id} started: {child.spec.name}")


async def _background(engine: Engine, command: Spawn) -> Agent:
    primed = None
    if command.primer:
        primed = await engine.preview_primer(command.primer, command.primer_args or command.task, fresh=True)
    kind = find_agent_type(command.agent_type, engine.cwd) if command.agent_type else None
    return await engine.supervisor.spawn(
        mode="background",
        task=command.task,
        parent=engine.primary,
        primed=primed,
        agent_type=kind,
        isolation=command.isolation,
        placement=command.placement,
    )


async def delegate(
    engine: Engine,
    parent: Agent,
    task: str,
    primer: str | None = None,
    agent_type: str | None = None,
    *,
    isolation: Isolation | None = None,
    placement: Placement | None = None,
) -> Agent:
    """Hand a task to a child with a fresh context (the task and a short brief).

    The parent is not blocked meanwhile; the child's summary comes back to it
    as a message when the child ends, and the tokens it kept out are logged.
    """
    primed = await engine.preview_primer(primer, task, fresh=True) if primer else None
    kind = find_agent_type(agent_type, engine.cwd) if agent_type else None
    child = await engine.supervisor.spawn(
        mode="delegated",
        task=brief(engine.view.facts.of(parent.id), task),
        parent=parent,
        name=task.split("\n")[0][:48],
        primed=primed,
        agent_type=kind,
        isolation=isolation,
        placement=placement,
    )
    await parent.append(Delegated(child=child.id, task=task, mode="delegated"))
    engine.follow(asyncio.create_task(_return_summary(engine, parent, child), name=f"delegate-{child.id}"))
    return child


async def _return_summary(engine: Engine, parent: Agent, child: Agent) -> None:
    try:
        await engine.supervisor.wait(child.id)
    except (asyncio.CancelledError, Exception):
        pass
    summary = child.result or f"(the sub-agent ended {child.state} without a summary)"
    spent = consumed_tokens(engine.session.events_of(child.id))
    kept_out = max(0, spent - engine.counter.count(summary))
    await parent.append(
        ChildResult(child=child.id, summary=summary, is_error=child.state != "done", child_tokens=spent)
    )
    note = f"{kept_out:,} tokens of its work stayed out of this context"
    text = returned_result("delegated", child.id, child.spec.name, child.state, summary, note)
    await send(engine, Send(agent=parent.id, text=text))


async def hand_result(engine: Engine, command: HandResult) -> Outcome:
    agent = _agent(engine, command.agent)
    if isinstance(agent, Outcome):
        return agent
    if agent.id == "primary" or agent.state not in FINAL_STATES:
        return Outcome.refused(f"{agent.id} has no result to hand over yet.")
    spent = consumed_tokens(engine.session.events_of(agent.id))
    await engine.primary.append(
        ChildResult(child=agent.id, summary=agent.result, is_error=agent.state != "done", child_tokens=spent)
    )
    text = returned_result(agent.spec.mode, agent.id, agent.spec.name, agent.state, agent.result)
    await send(engine, Send(text=text))
    return Outcome(agent=agent.id, message=f"The primary now has {agent.id}'s result.")


async def decide_delegation(engine: Engine, command: DecideDelegation) -> Outcome:
    agent = _agent(engine, command.agent)
    if isinstance(agent, Outcome):
        return agent
    if engine.view.proposals.pending(agent.id) is None:
        return Outcome.refused(f"No delegation is proposed for {agent.id}.")
    if not command.accept:
        await agent.append(DelegationDecided(decision="dismissed"))
        return Outcome(agent=agent.id)
    if not command.task.strip():
        return Outcome.refused("Say the task to delegate.")
    return await spawn(engine, Spawn(mode="delegated", task=command.task, parent=agent.id))


# ---------------------------------------------------------------- context


async def reduce(engine: Engine, command: Reduce) -> Outcome:
    agent = _agent(engine, command.agent)
    if isinstance(agent, Outcome):
        return agent
    reductions = [r for r in await reduce_context(engine, agent) if isinstance(r, Reduction)]
    if not reductions:
        return Outcome.refused(f"{agent.id} holds no superseded or stale tool results.")
    saved = ", ".join(f"{r.strategy} {r.tokens_before - r.tokens_after:,}" for r in reductions)
    return Outcome(agent=agent.id, message=f"{saved} tokens")


async def reduce_context(engine: Engine, agent: Agent) -> list[Event]:
    """The cheap strategies: superseded and stale tool results become stubs."""
    from workbench.engine.context.reduce import reduce_context as strategies

    reductions = strategies(engine.session.events_of(agent.id), agent.id, engine.counter)
    return [await agent.append(r) for r in reductions]


async def compact(engine: Engine, command: Compact) -> Outcome:
    agent = _agent(engine, command.agent)
    if isinstance(agent, Outcome):
        return agent
    event = await compact_context(engine, agent, command.instructions)
    if not isinstance(event, Compaction):
        return Outcome.refused("Nothing was compacted (the log says why).")
    return Outcome(agent=agent.id, message=f"{event.tokens_before:,} → {event.tokens_after:,} tokens")


async def compact_context(
    engine: Engine, agent: Agent, instructions: str = "", *, automatic: bool = False
) -> Event | None:
    """Summarise the older turns through the brain; the last turns stay verbatim. The compaction, or the
    reason there was none, is logged."""
    trigger = "auto" if automatic else "manual"
    await agent.hook(PreCompactPayload(trigger=trigger, custom_instructions=instructions))
    spent: list[UsageReport] = []
    try:
        compaction = await compact_events(
            engine.session.events_of(agent.id),
            agent.id,
            engine.brain,
            instructions,
            counter=engine.counter,
            automatic=automatic,
            tools=[t.spec() for t in agent.tools()],
            on_usage=spent.append,
        )
    except NothingToCompact as exc:
        if not automatic:
            await agent.append(Error(message=f"nothing to compact: {exc}", error_type="compaction"))
        return None
    except (BrainError, CompactionFailed) as exc:
        await agent.append(Error(message=f"compaction failed: {exc}", error_type="compaction"))
        return None
    finally:  # the summary request is paid for, whether or not its summary is used
        for usage in spent:
            await agent.append(Usage(**usage.model_dump(exclude={"type"}), purpose="compaction"))
    return await agent.append(compaction)


# ---------------------------------------------------------------- policy and people


async def set_mode(engine: Engine, command: SetMode) -> Outcome:
    if command.mode != engine.view.policy.mode:
        await engine.session.append(ModeChanged(mode=command.mode))
        await decide_what_the_policy_now_decides(engine)
    return Outcome(message=f"Permission mode: {command.mode}")


async def add_rule(engine: Engine, command: AddRule) -> Outcome:
    try:
        rule = Rule.parse(command.rule)
    except PermissionRuleError as exc:
        return Outcome.refused(str(exc))
    await engine.session.append(RuleAdded(rule_list=command.rule_list, rule=rule.text, source="command"))
    await decide_what_the_policy_now_decides(engine)
    return Outcome(message=f"{command.rule_list}: {rule.text}")


async def decide_what_the_policy_now_decides(engine: Engine) -> None:
    """A rule or a mode that now allows or denies a call still waiting for a person's answer answers it,
    as the policy would on a resume: the live session and the one resumed from its log stay the same."""
    from workbench.tools.registry import InvalidToolCall

    for asked in list(engine.view.pending.approvals.values()):
        agent, tool = engine.agent(asked.agent), engine.services.tools.get(asked.tool)
        if agent is None or tool is None:
            continue
        try:
            params = engine.services.tools.validate(asked.tool, asked.input)
        except InvalidToolCall:
            continue
        decision = agent.policy.decide(tool, params)
        if decision.verdict != "ask":
            choice: ApprovalChoice = "allow_once" if decision.verdict == "allow" else "deny"
            answer = Approve(request_id=asked.request_id, choice=choice, reason=decision.reason)
            await engine.requests.decide(answer, asked.agent)


async def approve(engine: Engine, command: Approve) -> Outcome:
    asked = engine.view.pending.approvals.get(command.request_id)
    if asked is None:
        return Outcome.refused(f"{command.request_id} is not waiting for an answer.")
    return await engine.requests.decide(command, asked.agent)


async def decide_plan(engine: Engine, command: DecidePlan) -> Outcome:
    asked = engine.view.pending.plans.get(command.request_id)
    if asked is None:
        return Outcome.refused(f"{command.request_id} is not waiting for an answer.")
    return await engine.requests.decide_plan(command, asked.agent)


async def answer(engine: Engine, command: Answer) -> Outcome:
    asked = engine.view.pending.questions.get(command.request_id)
    if asked is None:
        return Outcome.refused(f"{command.request_id} is not waiting for an answer.")
    return await engine.requests.answer(command, asked.agent)


# ---------------------------------------------------------------- the session


async def rename(engine: Engine, command: Rename) -> Outcome:
    title = await rename_session(engine.session.store, engine.session.id, command.title)
    await engine.session.append(SessionRenamed(title=title))
    return Outcome(message=title)


async def set_spend_cap(engine: Engine, command: SetSpendCap) -> Outcome:
    from workbench.engine.views.spend import money

    cap = SpendCap(max_usd=command.max_usd)
    if command.agent:
        agent = _agent(engine, command.agent)
        if isinstance(agent, Outcome):
            return agent
        await agent.append(cap)
    else:
        await engine.session.append(cap)
    freed: list[str] = []
    for held in sorted(engine.view.caps.held):  # the agents this cap held, now that it holds them no more
        waiting = engine.agent(held)
        if waiting is not None and waiting.paused and engine.view.caps.exceeded(held) is None:
            waiting.resume()
            freed.append(held)
    whose = command.agent or "The session"
    what = f"{whose} is capped at {money(command.max_usd)}" if command.max_usd is not None else f"{whose} has no cap"
    going_on = f"; {', '.join(freed)} go{'es' if len(freed) == 1 else ''} on" if freed else ""
    return Outcome(agent=command.agent or None, message=f"{what}{going_on}.")


async def restart_mcp(engine: Engine, command: RestartMcp) -> Outcome:
    if engine.mcp is None or command.server not in engine.mcp.servers:
        return Outcome.refused(f"No MCP server named {command.server!r}.")
    status = await engine.mcp.restart(command.server)
    if status.state == "failed":
        return Outcome.refused(f"{command.server} did not start: {status.error}")
    return Outcome(message=f"{len(status.tools)} tools")


# ---------------------------------------------------------------- background shells


async def stop_shell(engine: Engine, command: StopShell) -> Outcome:
    row = engine.view.shells.rows.get(command.shell_id)
    if row is None:
        return Outcome.refused(f"There is no background shell {command.shell_id!r}.")
    if not row.running:
        return Outcome.refused(f"{command.shell_id} has already ended ({row.outcome}).")
    await engine.toolbox.shells.stop(command.shell_id, "stopped", by="user")
    return Outcome(agent=row.agent, message=f"Stopped {command.shell_id}: {row.command}")
