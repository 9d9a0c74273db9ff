"""Workspaces on workers: the session's repository travels as a git bundle, changes come back as a patch.

The coordinator snapshots the session's repository once per commit: the working tree as it is
(``git stash create`` — uncommitted changes to tracked files included — or ``HEAD`` when clean), bundled with its
history into the cluster's object store. A worker keeps one bare repository per machine, fetches
the bundle into it, and gives each agent a worktree of its own at that commit. What the agent
changed is a binary patch against the commit (``git diff --binary``), stored in the object store
after every tool call that may have changed files and at the end: a run taken over by another
worker starts from the last one, and the coordinator keeps the final one beside the bundle.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nats.js.errors import NotFoundError
from nats.js.object_store import ObjectStore

from workbench.engine.transports.cluster.layout import repo_object, token
from workbench.engine.transports.cluster.orders import RepoSnapshot

PRUNE_EVERY = 100


def snapshot_ref(commit: str) -> str:
    return f"refs/workbench-cluster/{commit}"


class CheckoutError(Exception):
    """A git step failed; the message has git's own words."""


async def git(*args: str, cwd: Path, stdin: bytes | None = None) -> bytes:
    process = await asyncio.create_subprocess_exec(
        "git",
        *args,
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
    )
    out, err = await process.communicate(stdin)
    if process.returncode != 0:
        raise CheckoutError(f"git {args[0]} failed: {err.decode(errors='replace').strip()}")
    return out


# ---------------------------------------------------------------- the coordinator's side


async def snapshot_repo(cwd: Path, files: ObjectStore) -> RepoSnapshot | None:
    """The session's repository at its current state, in the object store; None when ``cwd`` is not in one."""
    try:
        top = Path((await git("rev-parse", "--show-toplevel", cwd=cwd)).decode().strip())
        commit = (await git("stash", "create", cwd=top)).decode().strip()
        commit = commit or (await git("rev-parse", "HEAD", cwd=top)).decode().strip()
    except (CheckoutError, OSError):
        return None
    name = repo_object(commit)
    try:
        await files.get_info(name)
    except NotFoundError:
        await _upload_bundle(top, commit, name, files)
    subdir = os.path.relpath(cwd.resolve(), top.resolve())
    return RepoSnapshot(
        object=name, commit=commit, subdir="" if subdir == "." else subdir, label=f"{top.name} at {commit[:10]}"
    )


async def _upload_bundle(top: Path, commit: str, name: str, files: ObjectStore) -> None:
    with tempfile.TemporaryDirectory(prefix="wb-bundle-") as tmp:
        bundle = Path(tmp) / "repo.bundle"
        ref = snapshot_ref(commit)  # a bundle carries refs: one made for it, and removed at once
        await git("update-ref", ref, commit, cwd=top)
        try:
            await git("bundle", "create", "--quiet", str(bundle), ref, cwd=top)
        finally:
            await git("update-ref", "-d", ref, cwd=top)
        await files.put(name, bundle.read_bytes())


# ---------------------------------------------------------------- the worker's side


@dataclass(frozen=True)
class Workspace:
    root: Path  # the agent's worktree (or an empty folder: the session has no repository)
    cwd: Path  # where the agent works: the session's folder inside the worktree
    base: str  # the commit the worktree was made at ("" without a repository)
    label: str


class Checkouts:
    """A worker's repositories and the worktrees of the runs it holds."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.repo = workdir / "repo.git"
        self._fetched: set[str] = set()
        self._lock = asyncio.Lock()
        self._worktrees = asyncio.Lock()
        self._removed = 0

    async def prepare(self, session: str, agent: str, snapshot: RepoSnapshot | None, files: ObjectStore) -> Workspace:
        """A fresh worktree for the run at the snapshot's commit, with the run's last patch applied."""
        root = self.workdir / "runs" / token(session) / token(agent)
        await self.remove(root)
        if snapshot is None:
            root.mkdir(parents=True)
            return Workspace(root, root, "", "an empty folder (the session's folder is not in a git repository)")
        await self._fetch(snapshot, files)
        root.parent.mkdir(parents=True, exist_ok=True)
        # --force: a worktree removed here may still be registered (git is told of removals now and then);
        # one at a time: git reads the other worktrees' records while it adds one, and fails on a half-made one
        async with self._worktrees:
            await git("worktree", "add", "--force", "--detach", str(root), snapshot.commit, cwd=self.repo)
        workspace = Workspace(root, root / snapshot.subdir, snapshot.commit, f"a checkout of {snapshot.label}")
        workspace.cwd.mkdir(parents=True, exist_ok=True)
        return workspace

    async def _fetch(self, snapshot: RepoSnapshot, files: ObjectStore) -> None:
        async with self._lock:
            if snapshot.commit in self._fetched:
                return
            if not self.repo.is_dir():
                self.workdir.mkdir(parents=True, exist_ok=True)
                await git("init", "--bare", "--quiet", str(self.repo), cwd=self.workdir)
            found = await files.get(snapshot.object)
            with tempfile.TemporaryDirectory(prefix="wb-bundle-") as tmp:
                bundle = Path(tmp) / "repo.bundle"
                bundle.write_bytes(found.data or b"")
                refspec = f"{snapshot_ref(snapshot.commit)}:refs/snapshots/{snapshot.commit}"
                await git("fetch", "--quiet", str(bundle), refspec, cwd=self.repo)
            self._fetched.add(snapshot.commit)

    async def patch(self, workspace: Workspace) -> tuple[bytes, list[str]]:
        """What the agent changed against the commit (a binary patch) and the files it touches."""
        if not workspace.base:
            return b"", []
        # one cheap look first: most agents change nothing (staged changes, a patch restored, show too)
        if not await git("status", "--porcelain", "-z", "--untracked-files=all", cwd=workspace.root):
            return b"", []
        await git("add", "--all", cwd=workspace.root)
        names = (await git("diff", "--cached", "--name-only", "-z", workspace.base, cwd=workspace.root)).decode()
        changed = [name for name in names.split("\0") if name]
        if not changed:
            return b"", []
        diff = await git("diff", "--cached", "--binary", workspace.base, cwd=workspace.root)
        return diff, changed

    async def apply(self, workspace: Workspace, patch: bytes) -> None:
        await git("apply", "--index", "--binary", "-", cwd=workspace.root, stdin=patch)

    async def remove(self, root: Path) -> None:
        """The run's worktree goes; git forgets the worktrees gone now and then (it never needs to at once)."""
        if root.exists():
            shutil.rmtree(root, ignore_errors=True)
            self._removed += 1
            if self.repo.is_dir() and self._removed % PRUNE_EVERY == 0:
                async with self._worktrees:
                    with contextlib.suppress(CheckoutError):
                        await git("worktree", "prune", cwd=self.repo)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
