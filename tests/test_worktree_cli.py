"""``workbench bundles files`` and ``workbench worktrees ls|prune``, run as a user would."""

from __future__ import annotations

from pathlib import Path

from tests.git_repos import call, make_repo, script, sh_git
from tests.test_cli import workbench
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config, PermissionsConfig
from workbench.engine.engine import Engine
from workbench.log.bundle import BundleStore
from workbench.protocol.commands import Spawn
from workbench.protocol.events import FilesChanged, WorktreeCreated, WorktreeDiscarded, WorktreeKept


async def test_bundles_files_lists_and_restores_refusing_files_changed_since(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project", {"a.txt": "v0\n"})
    bundles = tmp_path / "bundles"
    turns = [
        call("Write", file_path="a.txt", content="v1\n"),
        call("Write", file_path="a.txt", content="v2\n"),
        call("Bash", command="printf 'made\\n' > b.txt"),
        "done",
    ]
    ran = workbench(
        "run", "--yes", "--brain", "scripted", "--script", str(script(tmp_path / "s.yaml", turns)), "go",
        cwd=repo, bundles=bundles,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    store = BundleStore(bundles)
    session = store.session_ids()[0]
    changes = [e for e in (await store.read(session)).events if isinstance(e, FilesChanged)]
    first = changes[0].seq

    listed = workbench("bundles", "files", session[:12], "--at", str(first), cwd=repo, bundles=bundles)
    assert listed.returncode == 0, listed.stderr
    assert f"2 file(s) primary changed, as at seq {first}" in listed.stdout
    assert "~ a.txt  present then · restore" in listed.stdout and "~ b.txt  absent then · restore" in listed.stdout

    (repo / "a.txt").write_text("the user's own\n")
    refused = workbench("bundles", "files", session, "--at", str(first), "--restore", cwd=repo, bundles=bundles)
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert (repo / "a.txt").read_text() == "the user's own\n" and not (repo / "b.txt").exists()

    forced = workbench(
        "bundles", "files", session, "--at", str(first), "--restore", "--force", cwd=repo, bundles=bundles
    )
    assert forced.returncode == 0, forced.stderr
    assert (repo / "a.txt").read_text() == "v1\n" and not (repo / "b.txt").exists()

    start = workbench("bundles", "files", session, "--at", "1", "--restore", cwd=repo, bundles=bundles)
    assert start.returncode == 0 and (repo / "a.txt").read_text() == "v0\n"  # the committed bytes, from git

    wrong = workbench("bundles", "files", session, "--at", "100000", cwd=repo, bundles=bundles)
    assert wrong.returncode == 1 and "outside session" in wrong.stderr


async def test_worktrees_ls_and_prune_keep_the_work_and_log_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project", {"a.txt": "a\n"})
    bundles = tmp_path / "bundles"
    config = Config(bundles=bundles, fsync="never", permissions=PermissionsConfig(mode="bypass"))
    turns = [call("Write", file_path="new.txt", content="one\ntwo\n"), "wrote", "nothing to write"]
    engine = await Engine.open(config, repo, ScriptedBrain(script(tmp_path / "s.yaml", turns)))
    await engine.submit(Spawn(mode="background", task="write"))
    await engine.wait_all()
    await engine.submit(Spawn(mode="background", task="idle"))
    await engine.wait_all()
    await engine.close()
    writer, idle = (
        next(e for e in engine.session.events_of(a) if isinstance(e, WorktreeCreated)) for a in ("agent-1", "agent-2")
    )

    listed = workbench("worktrees", "ls", cwd=repo, bundles=bundles)
    assert listed.returncode == 0, listed.stderr
    assert f"{writer.path}  {writer.branch}  1 file(s) +2 -0  (session closed)" in listed.stdout
    assert f"{idle.path}  {idle.branch}  0 file(s) +0 -0" in listed.stdout

    pruned = workbench("worktrees", "prune", cwd=repo, bundles=bundles)
    assert pruned.returncode == 0, pruned.stderr
    assert f"kept {writer.branch}: 1 uncommitted file(s) committed there" in pruned.stdout
    assert f"removed {idle.path} and {idle.branch}" in pruned.stdout
    assert not Path(writer.path).exists() and not Path(idle.path).exists()
    assert sh_git(repo, "show", f"{writer.branch}:new.txt") == "one\ntwo"
    assert sh_git(repo, "branch", "--list", idle.branch) == ""
    assert (repo / "a.txt").read_text() == "a\n" and not (repo / "new.txt").exists()

    after = workbench("worktrees", "ls", cwd=repo, bundles=bundles)
    assert f"(kept, no worktree)  {writer.branch}" in after.stdout
    events = (await BundleStore(bundles).read(engine.session.id)).events
    assert any(isinstance(e, WorktreeKept) and e.agent == "agent-1" for e in events)
    assert any(isinstance(e, WorktreeDiscarded) and e.agent == "agent-2" for e in events)


def test_worktrees_outside_a_repository_say_so(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    listed = workbench("worktrees", "ls", cwd=plain, bundles=tmp_path / "bundles")
    assert listed.returncode == 1 and "not in a git repository" in listed.stderr
