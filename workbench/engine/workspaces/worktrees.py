"""An agent's own git worktree: made from the user's checkout as it is, reviewed as a diff, kept, committed
or removed. The user's HEAD, index and working tree are only ever read here (merging is ``merge.py``).

A worktree starts from the source's HEAD plus its uncommitted changes: those are committed, with a scratch
index, as the branch's first commit (``base``), so the agent sees what the user sees and its diff is only
its own work. The branch is ``workbench/<session>/<agent>``; the folder is ``<root>/<session>-<agent>``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from workbench.engine.workspaces.git import (
    changed_paths,
    commit_tree,
    git,
    git_text,
    head_commit,
    identity_env,
    snapshot_tree,
    toplevel,
    tree_of,
)
from workbench.protocol.events import WorktreeCreated

BRANCH_PREFIX = "workbench/"


def branch_name(session: str, agent: str) -> str:
    return f"{BRANCH_PREFIX}{session}/{agent}"


def create_worktree(source: Path, root: Path, session: str, agent: str) -> WorktreeCreated:
    """A worktree of ``source``'s repository holding exactly what ``source`` holds now, on a new branch.
    Raises GitError (NotARepository, GitMissing) with a message for the user."""
    top = toplevel(source)
    inside = Path(source).resolve().relative_to(top.resolve())
    head = head_commit(top)
    state = snapshot_tree(top)
    carried: list[str] = []
    if head and state == tree_of(head, top):
        base = head
    else:
        carried = changed_paths(tree_of(head, top), state, top)
        message = f"workbench: what {top} held for {session}/{agent} (uncommitted changes carried over)"
        base = commit_tree(state, [head] if head else [], message, top)
    branch = branch_name(session, agent)
    path = root / f"{session}-{agent}"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    # files are written by several processes at once: a checkout of thousands of files waits on the disk
    workers = f"checkout.workers={max(4, os.cpu_count() or 1)}"
    git(["-c", workers, "worktree", "add", "--quiet", "-b", branch, str(path), base], top)
    return WorktreeCreated(
        path=str(path),
        workspace=str(path / inside),
        branch=branch,
        base=base,
        head=head,
        source=str(source),
        repo=str(top),
        carried=carried,
    )


@dataclass(frozen=True)
class ChangedFile:
    path: str  # relative to the repository's top
    status: str  # A added, M modified, D deleted, T type changed
    added: int
    removed: int
    binary: bool


def worktree_changes(worktree: Path, base: str) -> tuple[str, list[ChangedFile]]:
    """The worktree's tree as it is on disk, and what differs from ``base``."""
    tree = snapshot_tree(worktree)
    return tree, tree_changes(tree_of(base, worktree), tree, worktree)


def tree_changes(old: str, new: str, top: Path) -> list[ChangedFile]:
    raw = git(["diff-tree", "-r", "-z", "--raw", "--no-renames", old, new], top).stdout.decode().split("\0")
    statuses: dict[str, str] = {}
    for meta, name in zip(raw[0::2], raw[1::2]):
        if meta:
            statuses[name] = meta.split()[-1][0]
    counts = git(["diff-tree", "-r", "-z", "--numstat", "--no-renames", old, new], top).stdout.decode().split("\0")
    files: list[ChangedFile] = []
    for line in counts:
        if not line:
            continue
        added, removed, path = line.split("\t", 2)
        binary = added == "-"
        files.append(
            ChangedFile(
                path, statuses.get(path, "M"), 0 if binary else int(added), 0 if binary else int(removed), binary
            )
        )
    return files


def tree_patches(old: str, new: str, top: Path) -> dict[str, str]:
    """The unified diff of each changed file, by path."""
    patches: dict[str, str] = {}
    for path in changed_paths(old, new, top):
        patch = git(["diff-tree", "-p", "--no-color", "--no-renames", old, new, "--", path], top).stdout
        patches[path] = patch.decode(errors="replace")
    return patches


def commit_worktree(worktree: Path, message: str) -> tuple[str, list[str]]:
    """Commit everything the worktree holds on its branch, the user's hooks running as usual: the commit and
    the files it changed."""
    env = identity_env(worktree)
    git(["add", "--all", "--", "."], worktree, env=env)
    git(["commit", "--quiet", "-m", message], worktree, env=env)
    commit = git_text(["rev-parse", "HEAD"], worktree)
    parent = git(["rev-parse", "--verify", "--quiet", "HEAD^"], worktree, check=False).stdout.decode().strip()
    return commit, changed_paths(tree_of(parent, worktree), tree_of(commit, worktree), worktree)


def has_changes(worktree: Path) -> bool:
    return bool(git_text(["status", "--porcelain", "--untracked-files=all"], worktree))


def remove_worktree(worktree: Path, repo: Path, *, delete_branch: str | None = None) -> None:
    """Remove the worktree (whatever it holds) and maybe its branch. A folder git no longer knows is deleted."""
    done = git(["worktree", "remove", "--force", "--force", str(worktree)], repo, check=False)
    if done.returncode != 0 and worktree.exists():
        shutil.rmtree(worktree)
        git(["worktree", "prune"], repo)
    if delete_branch:
        git(["branch", "--quiet", "-D", delete_branch], repo, check=False)


def keep_branch(worktree: Path, repo: Path, branch: str, message: str) -> str:
    """Commit what the worktree holds (if anything), remove the worktree, keep the branch: its last commit."""
    if has_changes(worktree):
        commit_worktree(worktree, message)
    commit = git_text(["rev-parse", "HEAD"], worktree)
    remove_worktree(worktree, repo)
    return commit


@dataclass(frozen=True)
class ListedWorktree:
    path: Path
    branch: str
    head: str
    session: str
    agent: str
    missing: bool  # the folder is gone (git prune forgets it)


def list_worktrees(repo: Path) -> list[ListedWorktree]:
    """Workbench's worktrees of the repository ``repo`` is in."""
    top = toplevel(repo)
    out = git_text(["worktree", "list", "--porcelain"], top)
    found: list[ListedWorktree] = []
    for record in out.split("\n\n"):
        fields = dict(line.partition(" ")[::2] for line in record.splitlines() if line)
        branch = fields.get("branch", "").removeprefix("refs/heads/")
        if not branch.startswith(BRANCH_PREFIX) or "worktree" not in fields:
            continue
        session, _, agent = branch.removeprefix(BRANCH_PREFIX).partition("/")
        path = Path(fields["worktree"])
        found.append(ListedWorktree(path, branch, fields.get("HEAD", ""), session, agent, not path.exists()))
    return found


def kept_branches(repo: Path) -> list[str]:
    """Workbench's branches with no worktree: work the user kept."""
    top = toplevel(repo)
    branches = git_text(["for-each-ref", "--format=%(refname:short)", f"refs/heads/{BRANCH_PREFIX}"], top).split()
    checked_out = {w.branch for w in list_worktrees(top)}
    return [b for b in branches if b not in checked_out]
