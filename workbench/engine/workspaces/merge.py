"""Merging an agent's worktree into the folder it came from: all of it, or (on a conflict) nothing.

The merge is three-way at the level of trees: the base (what the worktree started from), the target as it
is on disk now, and the worktree as it is on disk now, merged by ``git merge-tree`` without touching any
checkout. A conflict names the files and leaves the target as it was. Otherwise the files that differ are
written by ``git checkout-index`` from a scratch index (so the target's HEAD and index stay as they are;
the changes show as the user's own uncommitted ones), after a journal that lets a crash mid-way be rolled
back by :func:`recover_merges`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from workbench.engine.workspaces.git import (
    GitError,
    changed_paths,
    commit_tree,
    git,
    git_text,
    scratch_index,
    snapshot_tree,
    tree_of,
)

JOURNALS = "workbench-merges"


@dataclass(frozen=True)
class MergeOutcome:
    files: list[str] = field(default_factory=list)  # written into the target (relative to its top)
    conflicts: list[str] = field(default_factory=list)  # nothing was written


def merge_worktree(worktree: Path, base: str, target: Path, label: str) -> MergeOutcome:
    """Bring what ``worktree`` changed since ``base`` into ``target`` (the top of a checkout)."""
    theirs = snapshot_tree(worktree)
    base_tree = tree_of(base, target)
    if theirs == base_tree:
        return MergeOutcome()
    recover_merges(target)
    ours = snapshot_tree(target)
    if ours == base_tree:
        merged = theirs
    else:
        mine = commit_tree(ours, [base], "workbench: your checkout, before the merge", target)
        agents = commit_tree(theirs, [base], f"workbench: {label}", target)
        done = git(
            ["merge-tree", "--write-tree", "--name-only", "-z", "--no-messages", mine, agents], target, check=False
        )
        parts = done.stdout.decode().split("\0")
        if done.returncode == 1:
            return MergeOutcome(conflicts=list(dict.fromkeys(p for p in parts[1:] if p)))
        if done.returncode != 0:
            raise GitError(f"`git merge-tree` failed: {done.stderr.decode(errors='replace').strip()}")
        merged = parts[0]
    paths = changed_paths(ours, merged, target)
    apply_change(target, ours, merged, paths)
    return MergeOutcome(files=paths)


def apply_change(top: Path, before: str, after: str, paths: list[str]) -> None:
    """Make ``paths`` of the checkout hold what they hold in tree ``after`` instead of ``before``: all of them
    or, when anything fails, none (then GitError says so)."""
    if not paths:
        return
    journal = _journal_path(top, after)
    _write_journal(journal, {"before": before, "after": after, "paths": paths})
    try:
        meanwhile = set(changed_paths(before, snapshot_tree(top), top)) & set(paths)
        if meanwhile:
            raise GitError(f"changed while merging: {', '.join(sorted(meanwhile))}; nothing was written")
        _checkout(top, after, paths)
    except BaseException as exc:
        _checkout(top, before, paths, tolerant=True)
        journal.unlink(missing_ok=True)
        if isinstance(exc, GitError):
            raise
        if isinstance(exc, Exception):
            raise GitError(f"the merge failed ({exc}); your files are as they were") from exc
        raise
    journal.unlink(missing_ok=True)


def recover_merges(top: Path) -> list[str]:
    """Roll back merges a crash interrupted in this checkout; a sentence for each file left as found."""
    folder = Path(git_text(["rev-parse", "--path-format=absolute", "--git-path", JOURNALS], top))
    notes: list[str] = []
    for journal in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            plan = json.loads(journal.read_text())
            before, after, paths = plan["before"], plan["after"], list(plan["paths"])
        except (OSError, ValueError, KeyError, TypeError):
            notes.append(f"{journal}: an unreadable merge journal, left as it is")
            continue
        now = snapshot_tree(top)
        not_before = set(changed_paths(before, now, top)) & set(paths)
        not_after = set(changed_paths(after, now, top)) & set(paths)
        touched = sorted(not_before & not_after)  # neither as before nor as merged: someone changed it since
        notes += [f"{path}: changed since the interrupted merge, left as it is" for path in touched]
        undone = sorted(not_before - not_after)
        _checkout(top, before, undone, tolerant=True)
        if undone:
            notes.append(f"{len(undone)} file(s) of an interrupted merge put back as they were: {', '.join(undone)}")
        journal.unlink()
    return notes


def _journal_path(top: Path, after: str) -> Path:
    folder = Path(git_text(["rev-parse", "--path-format=absolute", "--git-path", JOURNALS], top))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{after}.json"


def _write_journal(path: Path, plan: dict[str, object]) -> None:
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w") as f:
        json.dump(plan, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def _checkout(top: Path, tree: str, paths: list[str], *, tolerant: bool = False) -> None:
    """Write ``paths`` as ``tree`` holds them; those it does not hold are deleted."""
    if not paths:
        return
    held = set(git(["ls-tree", "-r", "-z", "--name-only", tree], top).stdout.decode().split("\0"))
    present = [path for path in paths if path in held]
    with scratch_index(top) as env:
        git(["read-tree", tree], top, env=env)
        if present:
            stdin = "\0".join(present).encode()
            done = git(["checkout-index", "--force", "-z", "--stdin"], top, env=env, input=stdin, check=False)
            if done.returncode != 0 and not tolerant:
                raise GitError(f"cannot write the merged files: {done.stderr.decode(errors='replace').strip()}")
    for path in set(paths) - set(present):
        _delete(top, path, tolerant)


def _delete(top: Path, path: str, tolerant: bool) -> None:
    target = top / path
    try:
        target.unlink(missing_ok=True)
    except OSError as exc:
        if not tolerant:
            raise GitError(f"cannot delete {path}: {exc.strerror}") from None
        return
    parent = target.parent
    while parent != top and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
