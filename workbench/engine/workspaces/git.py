"""Running git: one call, its failure turned into a sentence for the user.

Everything here is blocking: callers on the event loop run it in a thread.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
NO_OBJECT = "0" * 40
# the commits workbench makes for itself (carried-over changes, merge inputs) are signed thus
WORKBENCH_IDENTITY = {
    "GIT_AUTHOR_NAME": "Workbench",
    "GIT_AUTHOR_EMAIL": "workbench@localhost",
    "GIT_COMMITTER_NAME": "Workbench",
    "GIT_COMMITTER_EMAIL": "workbench@localhost",
}
TIMEOUT_S = 120


class GitError(Exception):
    """A git call failed; the message says which and why, for the user."""


class GitMissing(GitError):
    pass


class NotARepository(GitError):
    pass


def git_available() -> bool:
    return shutil.which("git") is not None


def git(
    args: Sequence[str],
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    input: bytes | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``git args`` in ``cwd``; raises GitError (GitMissing, NotARepository) when it fails and ``check``."""
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_LITERAL_PATHSPECS": "1", "LC_ALL": "C", **(env or {})}
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=full_env,
            input=input,
            capture_output=True,
            timeout=TIMEOUT_S,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        if not git_available():
            raise GitMissing("git is not installed (no `git` on the PATH)") from None
        raise GitError(f"cannot run git in {cwd}: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"`git {' '.join(args[:2])}` took longer than {TIMEOUT_S} s") from None
    if check and done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        if "not a git repository" in message:
            raise NotARepository(f"{cwd} is not in a git repository")
        raise GitError(f"`git {' '.join(args[:2])}` failed: {message.splitlines()[-1]}")
    return done


def git_text(args: Sequence[str], cwd: Path, **kwargs: object) -> str:
    return git(args, cwd, **kwargs).stdout.decode().strip()  # type: ignore[arg-type]


def toplevel(folder: Path) -> Path:
    """The top folder of the repository ``folder`` is in (raises NotARepository, GitMissing)."""
    if not git_available():
        raise GitMissing("git is not installed (no `git` on the PATH)")
    return Path(git_text(["rev-parse", "--show-toplevel"], folder))


def head_commit(top: Path) -> str:
    """The commit HEAD names; '' in a repository without commits."""
    done = git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], top, check=False)
    return done.stdout.decode().strip() if done.returncode == 0 else ""


def tree_of(commit: str, top: Path) -> str:
    return git_text(["rev-parse", f"{commit}^{{tree}}"], top) if commit else EMPTY_TREE


@contextmanager
def scratch_index(top: Path) -> Iterator[dict[str, str]]:
    """An index of our own (a copy of the checkout's, for its stat cache): the environment that makes git use it.
    The checkout's own index is never written."""
    own = Path(git_text(["rev-parse", "--path-format=absolute", "--git-path", "index"], top))
    with tempfile.TemporaryDirectory(prefix="workbench-index-") as folder:
        index = Path(folder) / "index"
        if own.is_file():
            # with its time: git re-reads a file changed in the same second the index was written ("racy
            # git") only if it knows when that was
            shutil.copy2(own, index)
        yield {"GIT_INDEX_FILE": str(index)}


def snapshot_tree(top: Path) -> str:
    """The tree of the checkout as it is on disk: tracked files as they are now, untracked ones that are not
    ignored, deletions. Written to the object store; nothing of the checkout changes."""
    with scratch_index(top) as env:
        git(["add", "--all", "--", "."], top, env=env)
        return git_text(["write-tree"], top, env=env)


def commit_tree(tree: str, parents: Sequence[str], message: str, top: Path) -> str:
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    return git_text([*args, "-m", message], top, env=WORKBENCH_IDENTITY)


def changed_paths(old_tree: str, new_tree: str, top: Path) -> list[str]:
    out = git(["diff-tree", "-r", "-z", "--name-only", "--no-renames", old_tree, new_tree], top).stdout
    return [p.decode() for p in out.split(b"\0") if p]


def identity_env(top: Path) -> dict[str, str]:
    """The user's own identity when git has one; otherwise Workbench's, so a commit can still be made."""
    done = git(["var", "GIT_AUTHOR_IDENT"], top, check=False)
    return {} if done.returncode == 0 else WORKBENCH_IDENTITY


def read_at(commit: str, paths: Sequence[str], top: Path) -> dict[str, bytes | None]:
    """What each path (relative to the top) held in ``commit``; None where it held nothing."""
    if not paths:
        return {}
    wanted = "".join(f"{commit}:{path}\n" for path in paths).encode()
    out = git(["cat-file", "--batch"], top, input=wanted).stdout
    found: dict[str, bytes | None] = {}
    at = 0
    for path in paths:
        line_end = out.index(b"\n", at)
        header = out[at:line_end].split()
        at = line_end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            found[path] = out[at : at + size]
            at += size + 1
        else:  # "<name> missing", or a tree/submodule: not a file
            found[path] = None
            if len(header) == 3:
                at += int(header[2]) + 1
    return found
