"""The handlers of the commands about agents' worktrees and files: merge, discard, keep the branch, commit,
and rewind (restore files as they were at a seq). Each change is an event of the agent it is about."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from workbench.engine.workspaces.service import WorkspaceRefused
from workbench.protocol.commands import Commit, Discard, KeepBranch, Merge, Outcome, RestoreFiles
from workbench.protocol.events import (
    Error,
    FilesRestored,
    Primed,
    WorktreeCommitted,
    WorktreeConflicted,
    WorktreeCreated,
    WorktreeDiscarded,
    WorktreeKept,
    WorktreeMerged,
)

if TYPE_CHECKING:
    from workbench.engine.engine import Engine
    from workbench.engine.runtime.agent import Agent

DoneEvent = TypeVar(
    "DoneEvent", WorktreeMerged | WorktreeConflicted, WorktreeDiscarded, WorktreeKept, WorktreeCommitted
)


def _idle(engine: Engine, agent_id: str) -> Agent | Outcome:
    """The agent, if it is not at work (its files must hold still while the user acts on them)."""
    agent = engine.agent(agent_id)
    if agent is None:
        return Outcome.refused(f"There is no agent {agent_id!r}.")
    if agent.busy or (agent.one_shot and engine.supervisor.running(agent_id)):
        return Outcome.refused(f"{agent_id} is still at work; wait for it to finish, or cancel it first.")
    return agent


async def _act(
    engine: Engine, agent_id: str, action: Callable[[str], Awaitable[DoneEvent]]
) -> tuple[Agent, DoneEvent] | Outcome:
    """Do ``action`` on the agent's worktree if the agent holds still; its event is logged as the agent's."""
    agent = _idle(engine, agent_id)
    if isinstance(agent, Outcome):
        return agent
    try:
        event = await action(agent.id)
    except WorkspaceRefused as exc:
        return Outcome.refused(str(exc))
    await agent.append(event)
    return agent, event


async def merge(engine: Engine, command: Merge) -> Outcome:
    done = await _act(engine, command.agent, engine.workspaces.merge)
    if isinstance(done, Outcome):
        return done
    agent, event = done
    if isinstance(event, WorktreeConflicted):
        return Outcome.refused(
            f"Not merged: {', '.join(event.files)} changed on both sides. {event.into} is as it was."
        )
    count = len(event.files)
    return Outcome(agent=agent.id, message=f"{count} file{'s' if count != 1 else ''} of {agent.id} merged")


async def discard(engine: Engine, command: Discard) -> Outcome:
    done = await _act(engine, command.agent, engine.workspaces.discard)
    if isinstance(done, Outcome):
        return done
    return Outcome(agent=done[0].id, message=f"{done[0].id}'s changes are discarded; its worktree is removed.")


async def keep_branch(engine: Engine, command: KeepBranch) -> Outcome:
    done = await _act(engine, command.agent, engine.workspaces.keep)
    if isinstance(done, Outcome):
        return done
    agent, kept = done
    return Outcome(agent=agent.id, message=f"Kept on the branch {kept.branch} ({kept.commit[:10]}).")


async def commit(engine: Engine, command: Commit) -> Outcome:
    done = await _act(engine, command.agent, lambda agent_id: engine.workspaces.commit(agent_id, command.message))
    if isinstance(done, Outcome):
        return done
    agent, committed = done
    return Outcome(agent=agent.id, message=f"{committed.commit[:10]} on {committed.branch}")


async def restore_files(engine: Engine, command: RestoreFiles) -> Outcome:
    agent = _idle(engine, command.agent)
    if isinstance(agent, Outcome):
        live = engine.agent(command.agent)
        if live is not None:  # logged too: a remount carries it out before anyone can be told
            await live.append(Error(message=f"files not put back: {agent.message}", error_type="rewind"))
        return agent
    try:
        events = await engine.workspaces.restore(
            agent.id, command.source_session, command.source_agent, command.up_to_seq, command.into, command.force
        )
    except WorkspaceRefused as exc:  # logged too: a remount carries it out before anyone can be told
        await agent.append(Error(message=f"files not put back: {exc}", error_type="rewind"))
        return Outcome.refused(str(exc))
    for event in events:
        await agent.append(event)
    restored = events[-1]
    assert isinstance(restored, FilesRestored)
    created = next((e for e in events if isinstance(e, WorktreeCreated)), None)
    if created is not None:  # the agent is told where it works now (its system prompt names the old folder)
        note = (
            f"Your workspace is now the git worktree {created.workspace} (branch {created.branch}), holding the "
            f"files as they were at seq {command.up_to_seq} of session {command.source_session}."
        )
        await agent.append(Primed(primer="workspace", text=note))  # in its context from its next turn
    skipped = f"; {len(restored.skipped)} left as they are" if restored.skipped else ""
    return Outcome(agent=agent.id, message=f"{len(restored.files)} files put back into {restored.into}{skipped}")
