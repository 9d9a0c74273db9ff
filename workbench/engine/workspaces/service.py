"""Each agent's place to work, for one session: the shared folder or a worktree of its own, what its tool
calls changed there (kept for rewind), and what the user does with its changes.

Where an agent works is folded from the log (the ``workspaces`` view): its open worktree, else the place
its worktree's changes went, else its parent's place, and the session's folder at the top. So a resumed
session puts every agent back where it was, and a read-only child of a worktree agent reads its parent's
worktree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from workbench.engine.policy.session_policy import SessionPolicy
from workbench.engine.workspaces.diff import AgentDiff, file_diff, propose_message, recorded_diff
from workbench.engine.workspaces.git import GitError, toplevel, tree_of
from workbench.engine.workspaces.merge import MergeOutcome, merge_worktree, recover_merges
from workbench.engine.workspaces.recorder import FileRecorder
from workbench.engine.workspaces.rewind import check, files_at, restore
from workbench.engine.workspaces.worktrees import (
    commit_worktree,
    create_worktree,
    has_changes,
    keep_branch,
    remove_worktree,
    tree_patches,
    worktree_changes,
)
from workbench.log.blobs import BlobStore
from workbench.log.bundle import BundleError
from workbench.protocol.commands import Isolation, RestoreInto
from workbench.protocol.events import (
    Event,
    FilesRestored,
    WorktreeCommitted,
    WorktreeConflicted,
    WorktreeCreated,
    WorktreeDiscarded,
    WorktreeKept,
    WorktreeMerged,
    WorktreeSkipped,
)
from workbench.tools.base import Tool, ToolContext, ToolOutput
from workbench.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from workbench.engine.agent_types import AgentType
    from workbench.engine.runtime.agent import Agent
    from workbench.engine.views.session_view import SessionView
    from workbench.log.session import Session
    from workbench.protocol.events import AgentMode

WORKTREES_FOLDER = "worktrees"  # in the bundle store: <store>/worktrees/<session>-<agent>
WRITING_KINDS = frozenset({"write", "exec"})


@dataclass(frozen=True)
class Placement:
    """Where a new agent works, and the event that says so (None: it shares its parent's place as asked)."""

    workspace: Path
    event: WorktreeCreated | WorktreeSkipped | None = None

    @property
    def branch(self) -> str | None:
        return self.event.branch if isinstance(self.event, WorktreeCreated) else None


class WorkspaceRefused(Exception):
    """The user's request cannot be carried out; the message says why."""


class Workspaces:
    def __init__(
        self,
        session: Session,
        cwd: Path,
        view: SessionView,
        policy: SessionPolicy,
        tools: ToolRegistry,
        isolation: Isolation,
    ) -> None:
        self.session = session
        self.cwd = cwd
        self.view = view
        self.policy = policy
        self.tools = tools
        self.isolation = isolation
        self.blobs = BlobStore(session.folder)
        self.recorder = FileRecorder(self.blobs)
        self.root = session.store.root / WORKTREES_FOLDER

    # ---------------------------------------------------------------- where agents work

    def workspace_of(self, agent_id: str | None) -> Path:
        seen: set[str] = set()
        while agent_id is not None and agent_id not in seen:
            seen.add(agent_id)
            place = self.view.workspaces.get(agent_id)
            if place is not None and place.worktree is not None:
                created = place.worktree
                return Path(created.workspace) if place.open_worktree else Path(created.source)
            row = self.view.roster.get(agent_id)
            agent_id = row.parent if row is not None else None
        return self.cwd

    def policy_of(self, agent_id: str) -> SessionPolicy:
        return self.policy.for_workspace(self.workspace_of(agent_id))

    def isolation_for(
        self, mode: AgentMode, tools: list[str], agent_type: AgentType | None, asked: Isolation | None
    ) -> Isolation:
        """Asked for, else the agent type's, else the config's for an agent that may write; the primary and
        agents that only read share."""
        if mode == "foreground":
            return "shared"
        if asked is not None:
            return asked
        if agent_type is not None and agent_type.isolation is not None:
            return agent_type.isolation
        kinds = {tool.kind for tool in map(self.tools.get, tools) if tool is not None}
        return self.isolation if kinds & WRITING_KINDS else "shared"

    async def place(
        self,
        agent_id: str,
        parent_id: str | None,
        mode: AgentMode,
        tools: list[str],
        agent_type: AgentType | None = None,
        asked: Isolation | None = None,
    ) -> Placement:
        source = self.workspace_of(parent_id) if parent_id else self.cwd
        if self.isolation_for(mode, tools, agent_type, asked) == "shared":
            return Placement(source)
        try:
            created = await asyncio.to_thread(create_worktree, source, self.root, self.session.id, agent_id)
        except GitError as exc:
            reason = f"{exc}: {agent_id} works in {source} with the other agents, and may overwrite their files"
            return Placement(source, WorktreeSkipped(reason=reason))
        return Placement(Path(created.workspace), created)

    async def recover(self) -> list[str]:
        """Roll back a merge into this session's checkout that a crash interrupted; what was left as found."""
        try:
            top = await asyncio.to_thread(toplevel, self.cwd)
            return await asyncio.to_thread(recover_merges, top)
        except GitError:
            return []

    # ---------------------------------------------------------------- recording what calls change

    async def recorded(
        self,
        agent: Agent,
        tool: Tool[Any],
        params: BaseModel,
        ctx: ToolContext,
        tool_use_id: str,
        run: Callable[[], Awaitable[ToolOutput]],
    ) -> ToolOutput:
        """Run a tool call; what it changed in the agent's workspace is logged (``files_changed``)."""
        if not self.recorder.records(tool.name):
            return await run()
        history = self.session.events_of(agent.id)
        output, event = await self.recorder.run(tool.name, tool.subject(params), ctx.workspace, history, run)
        if event is not None:
            await agent.append(event.model_copy(update={"tool_use_id": tool_use_id}))
        return output

    # ---------------------------------------------------------------- the user's review

    def _open(self, agent_id: str) -> WorktreeCreated:
        place = self.view.workspaces.get(agent_id)
        if place is None or place.worktree is None:
            where = self.workspace_of(agent_id)
            raise WorkspaceRefused(f"{agent_id} works in {where} with the others: its changes are there already.")
        if not place.open_worktree:
            raise WorkspaceRefused(f"{agent_id}'s worktree was {place.state}; there is nothing left to do with it.")
        if not Path(place.worktree.path).is_dir():
            raise WorkspaceRefused(f"{agent_id}'s worktree {place.worktree.path} is gone (pruned or deleted).")
        return place.worktree

    async def diff(self, agent_id: str) -> AgentDiff:
        place = self.view.workspaces.get(agent_id)
        row = self.view.roster.get(agent_id)
        task = row.task if row is not None else ""
        if place is not None and place.open_worktree and place.worktree is not None:
            created = place.worktree
            diff = await asyncio.to_thread(self._worktree_diff, created, agent_id)
        else:
            diff = await asyncio.to_thread(recorded_diff, agent_id, place, self.blobs)
        diff.proposed_message = propose_message(diff.files, agent_id, task)
        if place is not None:
            diff.conflicts = list(place.conflicts)
        return diff

    def _worktree_diff(self, created: WorktreeCreated, agent_id: str) -> AgentDiff:
        path = Path(created.path)
        if not path.is_dir():
            return AgentDiff(agent=agent_id, worktree=True, open=False, branch=created.branch, into=created.repo)
        tree, changed = worktree_changes(path, created.base)
        patches = tree_patches(tree_of(created.base, path), tree, path)
        files = [file_diff(c, patches.get(c.path, "")) for c in changed]
        return AgentDiff(
            agent=agent_id, worktree=True, open=True, branch=created.branch, into=created.repo, files=files
        )

    async def merge(self, agent_id: str) -> WorktreeMerged | WorktreeConflicted:
        """The agent's changes into the folder its worktree came from: a ``worktree_merged`` event, or a
        ``worktree_conflicted`` one (nothing written)."""
        created = self._open(agent_id)
        into = Path(created.repo)
        if not into.is_dir():
            raise WorkspaceRefused(f"{into}, where {agent_id}'s worktree came from, is gone.")
        try:
            outcome: MergeOutcome = await asyncio.to_thread(
                merge_worktree, Path(created.path), created.base, into, created.branch
            )
        except GitError as exc:
            raise WorkspaceRefused(f"Not merged: {exc}") from None
        if outcome.conflicts:
            return WorktreeConflicted(into=str(into), files=outcome.conflicts)
        await asyncio.to_thread(remove_worktree, Path(created.path), into, delete_branch=created.branch)
        return WorktreeMerged(into=str(into), files=outcome.files)

    async def discard(self, agent_id: str) -> WorktreeDiscarded:
        created = self._open(agent_id)
        diff = await asyncio.to_thread(self._worktree_diff, created, agent_id)
        await asyncio.to_thread(remove_worktree, Path(created.path), Path(created.repo), delete_branch=created.branch)
        return WorktreeDiscarded(files=[f.path for f in diff.files])

    async def keep(self, agent_id: str) -> WorktreeKept:
        created = self._open(agent_id)
        message = (await self.diff(agent_id)).proposed_message
        try:
            commit = await asyncio.to_thread(
                keep_branch, Path(created.path), Path(created.repo), created.branch, message
            )
        except GitError as exc:
            raise WorkspaceRefused(f"The branch was not kept: {exc}") from None
        return WorktreeKept(branch=created.branch, commit=commit)

    async def commit(self, agent_id: str, message: str) -> WorktreeCommitted:
        created = self._open(agent_id)
        path = Path(created.path)
        if not await asyncio.to_thread(has_changes, path):
            raise WorkspaceRefused(f"{agent_id} has changed nothing since its last commit.")
        try:
            commit, files = await asyncio.to_thread(commit_worktree, path, message)
        except GitError as exc:
            raise WorkspaceRefused(f"Not committed: {exc}") from None
        return WorktreeCommitted(branch=created.branch, commit=commit, message=message, files=files)

    # ---------------------------------------------------------------- rewind

    async def restore(
        self, agent_id: str, source_session: str, source_agent: str, up_to_seq: int, into: RestoreInto, force: bool
    ) -> list[Event]:
        """Put back the files ``source_agent`` of ``source_session`` changed, as they were at ``up_to_seq``:
        into a fresh worktree for ``agent_id`` (``worktree_created``, then ``files_restored``), or into the
        folder the agent works in (a file changed since is left alone unless ``force``)."""
        store = self.session.store
        try:
            contents = await store.read(source_session)
        except BundleError as exc:
            raise WorkspaceRefused(str(exc)) from None
        files = files_at(contents.events, source_agent, up_to_seq)
        if not files:
            raise WorkspaceRefused(
                f"{source_agent} of {source_session} changed no files: there is nothing to put back."
            )
        blobs = self.blobs if source_session == self.session.id else BlobStore(store.folder(source_session))
        events: list[Event] = []
        target = self.workspace_of(agent_id)
        if into == "worktree":
            place = self.view.workspaces.get(agent_id)
            if place is not None and place.open_worktree:
                raise WorkspaceRefused(f"{agent_id} has a worktree already; merge or discard it first.")
            try:
                created = await asyncio.to_thread(create_worktree, target, self.root, self.session.id, agent_id)
            except GitError as exc:
                raise WorkspaceRefused(
                    f"No worktree for the files ({exc}); put them back into {target} instead."
                ) from None
            events.append(created)
            target, force = Path(created.workspace), True  # a fresh worktree holds nothing to lose
        checks = await asyncio.to_thread(check, files, target, force=force)
        restored, skipped = await asyncio.to_thread(restore, checks, target, blobs)
        events.append(
            FilesRestored(
                source_session=source_session, up_to_seq=up_to_seq, into=str(target), files=restored, skipped=skipped
            )
        )
        return events
