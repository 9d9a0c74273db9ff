"""A worker's checkouts with real git: many runs taken at once each get their worktree."""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import dataclass
from pathlib import Path

from workbench.engine.transports.cluster.checkout import Checkouts, snapshot_ref
from workbench.engine.transports.cluster.orders import RepoSnapshot


@dataclass
class _Found:
    data: bytes


class _OneBundle:
    """The object store as ``Checkouts`` reads it: one git bundle under one name."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def get(self, name: str) -> _Found:
        return _Found(self.data)


def _bundled_repository(tmp_path: Path) -> tuple[str, bytes]:
    repo = tmp_path / "source"
    repo.mkdir()
    run = lambda *args: subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    for i in range(20):
        (repo / f"file{i}.txt").write_text(f"line {i}\n")
    run("add", ".")
    run("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "start")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    run("update-ref", snapshot_ref(commit), commit)
    run("bundle", "create", "-q", str(tmp_path / "repo.bundle"), snapshot_ref(commit))
    return commit, (tmp_path / "repo.bundle").read_bytes()


RUNS = 100


async def test_a_hundred_runs_taken_at_once_each_get_a_worktree(tmp_path: Path) -> None:
    commit, bundle = _bundled_repository(tmp_path)
    checkouts = Checkouts(tmp_path / "worker")
    snapshot = RepoSnapshot(object="repo", commit=commit)
    store = _OneBundle(bundle)
    taken = await asyncio.gather(
        *(checkouts.prepare("session", f"agent-{i}", snapshot, store) for i in range(RUNS)),  # type: ignore[arg-type]
        return_exceptions=True,
    )
    assert [str(failure) for failure in taken if isinstance(failure, BaseException)] == []
    workspaces = [w for w in taken if not isinstance(w, BaseException)]
    assert len({w.root for w in workspaces}) == RUNS
    assert all((w.cwd / "file7.txt").read_text() == "line 7\n" for w in workspaces)
