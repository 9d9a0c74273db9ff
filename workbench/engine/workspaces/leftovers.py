"""Worktrees left behind: listed with what they hold, and cleaned up without losing work.

A worktree outlives its agent when the user has not merged or discarded it yet, or when the session
crashed. ``prune`` leaves alone the worktrees of sessions open right now; any other is removed, its
uncommitted work first committed on its branch (which is kept: ``git branch`` lists it); a worktree
holding nothing beyond its base goes with its branch. What prune does is logged in the worktree's
session, as the person's own merge, discard or keep would be. An interrupted merge is rolled back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from workbench.engine.workspaces.git import GitError, git, git_text, toplevel
from workbench.engine.workspaces.merge import recover_merges
from workbench.engine.workspaces.worktrees import (
    ListedWorktree,
    commit_worktree,
    has_changes,
    kept_branches,
    list_worktrees,
    remove_worktree,
    worktree_changes,
)
from workbench.log.bundle import BundleError, BundleStore
from workbench.log.session import Session
from workbench.log.session_lock import SessionLocked, lock_holder
from workbench.protocol.events import Event, WorktreeCreated, WorktreeDiscarded, WorktreeKept


@dataclass(frozen=True)
class Leftover:
    worktree: ListedWorktree
    in_use: str  # who has its session open ("" when nobody)
    files: int | None  # files changed against its base (None: unknown, its session is gone)
    added: int = 0
    removed: int = 0


async def leftovers(repo: Path, store: BundleStore) -> tuple[list[Leftover], list[str]]:
    """Workbench's worktrees of the repository, and its branches without a worktree."""
    listed = await asyncio.to_thread(list_worktrees, repo)
    found = [await _look(worktree, store) for worktree in listed]
    return found, await asyncio.to_thread(kept_branches, repo)


async def _look(worktree: ListedWorktree, store: BundleStore) -> Leftover:
    holder = lock_holder(store.folder(worktree.session))
    created = await _created(worktree, store)
    if created is None or worktree.missing:
        return Leftover(worktree, str(holder or ""), None)
    _, changed = await asyncio.to_thread(worktree_changes, worktree.path, created.base)
    return Leftover(
        worktree,
        str(holder or ""),
        len(changed),
        sum(c.added for c in changed),
        sum(c.removed for c in changed),
    )


async def _created(worktree: ListedWorktree, store: BundleStore) -> WorktreeCreated | None:
    try:
        events = (await store.read(worktree.session)).events
    except BundleError:
        return None
    found = [e for e in events if isinstance(e, WorktreeCreated) and e.agent == worktree.agent]
    return found[-1] if found else None


async def prune(repo: Path, store: BundleStore) -> list[str]:
    """Clean up what is left; a sentence for each thing done or left alone."""
    top = await asyncio.to_thread(toplevel, repo)
    notes = [f"interrupted merge: {note}" for note in await asyncio.to_thread(recover_merges, top)]
    for item in (await leftovers(top, store))[0]:
        worktree = item.worktree
        if item.in_use:
            notes.append(f"left {worktree.path}: its session is open in {item.in_use}")
            continue
        if worktree.missing:
            notes.append(f"forgot {worktree.path}: its folder was gone ({worktree.branch} is kept)")
            continue
        try:
            notes.append(await _prune_one(worktree, top, store))
        except GitError as exc:
            notes.append(f"left {worktree.path}: {exc}")
    await asyncio.to_thread(git, ["worktree", "prune"], top)
    return notes


async def _prune_one(worktree: ListedWorktree, top: Path, store: BundleStore) -> str:
    created = await _created(worktree, store)
    if await asyncio.to_thread(has_changes, worktree.path):
        message = f"workbench: work {worktree.agent} left in its worktree, saved by `workbench worktrees prune`"
        commit, files = await asyncio.to_thread(commit_worktree, worktree.path, message)
        await asyncio.to_thread(remove_worktree, worktree.path, top)
        await _log(store, worktree, WorktreeKept(branch=worktree.branch, commit=commit))
        return f"kept {worktree.branch}: {len(files)} uncommitted file(s) committed there, worktree removed"
    head = await asyncio.to_thread(git_text, ["rev-parse", "HEAD"], worktree.path)
    if created is not None and head == created.base:
        await asyncio.to_thread(remove_worktree, worktree.path, top, delete_branch=worktree.branch)
        await _log(store, worktree, WorktreeDiscarded())
        return f"removed {worktree.path} and {worktree.branch}: they held nothing"
    await asyncio.to_thread(remove_worktree, worktree.path, top)
    await _log(store, worktree, WorktreeKept(branch=worktree.branch, commit=head))
    return f"kept {worktree.branch} (its commits), worktree removed"


async def _log(store: BundleStore, worktree: ListedWorktree, event: Event) -> None:
    """Into the worktree's session, if it is still there (and nobody has it open)."""
    try:
        session = await Session.resume(store, worktree.session)
    except (BundleError, SessionLocked, OSError):
        return
    try:
        await session.append(event.model_copy(update={"agent": worktree.agent}))
    finally:
        await session.close()
