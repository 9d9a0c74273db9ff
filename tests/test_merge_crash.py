"""A merge that fails or crashes half-way leaves the user's tree as it was (a crash: once recovered)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.git_repos import make_repo, sh_git, tree_bytes
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.engine import Engine
from workbench.engine.workspaces import merge
from workbench.engine.workspaces.git import GitError
from workbench.engine.workspaces.merge import JOURNALS, merge_worktree, recover_merges
from workbench.engine.workspaces.worktrees import create_worktree
from workbench.protocol.events import Error

FILES = {"a.txt": "a0\n", "b.txt": "b0\n", "c/d.txt": "d0\n"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project", FILES)


def agent_worktree(repo: Path, tmp_path: Path) -> tuple[Path, str]:
    created = create_worktree(repo, tmp_path / "worktrees", "S", "agent-1")
    worktree = Path(created.path)
    (worktree / "a.txt").write_text("a1\n")
    (worktree / "b.txt").write_text("b1\n")
    (worktree / "c" / "d.txt").unlink()
    (worktree / "new.txt").write_text("new\n")
    return worktree, created.base


def journals(repo: Path) -> list[Path]:
    return sorted((repo / ".git" / JOURNALS).glob("*.json"))


def test_a_failure_half_way_puts_every_file_back(tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "b.txt").write_text("b0, the user's uncommitted edit\n")  # merges cleanly: a different file changes
    before = tree_bytes(repo)
    worktree, base = agent_worktree(repo, tmp_path)
    original = merge._checkout

    def half_then_fail(top: Path, tree: str, paths: list[str], *, tolerant: bool = False) -> None:
        if tolerant:
            return original(top, tree, paths, tolerant=True)
        original(top, tree, paths[:1])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(merge, "_checkout", half_then_fail)
    with pytest.raises(GitError, match="your files are as they were"):
        merge_worktree(worktree, base, repo, "agent-1")
    assert tree_bytes(repo) == before and journals(repo) == []


def test_a_crash_half_way_is_rolled_back_when_recovered(tmp_path: Path, repo: Path) -> None:
    before = tree_bytes(repo)
    worktree, base = agent_worktree(repo, tmp_path)
    crash = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from workbench.engine.workspaces import merge

        original = merge._checkout

        def write_one_then_die(top, tree, paths, *, tolerant=False):
            original(top, tree, paths[:2])
            os._exit(9)  # the process dies: no handler, no cleanup

        merge._checkout = write_one_then_die
        merge.merge_worktree(Path({str(worktree)!r}), {base!r}, Path({str(repo)!r}), "agent-1")
        """
    )
    done = subprocess.run([sys.executable, "-c", crash], capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    assert journals(repo) and tree_bytes(repo) != before  # half-merged, as a crash leaves it
    (repo / "b.txt").write_text("typed by the user after the crash\n")
    notes = recover_merges(repo)
    assert journals(repo) == []
    assert any("b.txt: changed since the interrupted merge" in note for note in notes), notes
    after = tree_bytes(repo)
    assert after == {**before, "b.txt": b"typed by the user after the crash\n"}
    assert sh_git(repo, "status", "--porcelain") == "M b.txt"


async def test_opening_a_session_rolls_back_an_interrupted_merge_and_says_so(tmp_path: Path, repo: Path) -> None:
    before = tree_bytes(repo)
    worktree, base = agent_worktree(repo, tmp_path)
    crash = (
        "import os\nfrom pathlib import Path\nfrom workbench.engine.workspaces import merge\n"
        "o = merge._checkout\n"
        "def f(top, tree, paths, *, tolerant=False):\n    o(top, tree, paths[:1]); os._exit(9)\n"
        "merge._checkout = f\n"
        f"merge.merge_worktree(Path({str(worktree)!r}), {base!r}, Path({str(repo)!r}), 'x')\n"
    )
    assert subprocess.run([sys.executable, "-c", crash]).returncode == 9
    engine = await Engine.open(Config(bundles=tmp_path / "bundles", fsync="never"), repo, ScriptedBrain())
    await engine.close()
    assert tree_bytes(repo) == before
    note = next(e for e in engine.session.events_of("primary") if isinstance(e, Error))
    assert note.error_type == "merge" and "put back as they were" in note.message
