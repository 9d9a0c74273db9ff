"""A worktree per agent, in real git repositories: made from the user's checkout as it is, reviewed,
merged (or refused on a conflict, the user's tree untouched), discarded, kept, committed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine_driver import run, spawn
from tests.git_repos import call, checkout_state, make_repo, script, sh_git, write_files
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config, PermissionsConfig
from workbench.engine.engine import Engine
from workbench.protocol.commands import Commit, Discard, KeepBranch, Merge, Spawn
from workbench.protocol.events import (
    FilesChanged,
    ToolResult,
    WorktreeCommitted,
    WorktreeConflicted,
    WorktreeCreated,
    WorktreeDiscarded,
    WorktreeKept,
    WorktreeMerged,
    WorktreeSkipped,
)

APP = "def main():\n    print('hello')\n\n\nmain()\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project", {"app.py": APP, "README.md": "# Demo\n", "docs/guide.md": "Guide\n"})


def config_for(tmp_path: Path, **changes: object) -> Config:
    return Config(bundles=tmp_path / "bundles", fsync="never", permissions=PermissionsConfig(mode="bypass"), **changes)


async def open_engine(tmp_path: Path, cwd: Path, turns: list[object], **changes: object) -> Engine:
    brain = ScriptedBrain(script(tmp_path / "script.yaml", turns))
    return await Engine.open(config_for(tmp_path, **changes), cwd, brain)


def edit(old: str, new: str, path: str = "app.py") -> dict[str, object]:
    return call("Edit", file_path=path, old_string=old, new_string=new)


def worktree_of(engine: Engine, agent: str) -> WorktreeCreated:
    return next(e for e in engine.session.events_of(agent) if isinstance(e, WorktreeCreated))


async def run_to_end(engine: Engine, task: str, **fields: object) -> str:
    agent = await spawn(engine, "background", task, **fields)
    await engine.wait_all()
    return agent.id


async def test_two_agents_on_one_file_each_in_its_worktree_merge_one_and_the_other_conflicts(
    tmp_path: Path, repo: Path
) -> None:
    engine = await open_engine(
        tmp_path,
        repo,
        [
            edit("print('hello')", "print('hello from A')"),
            "A is done",
            edit("print('hello')", "print('hello from B')"),
            "B is done",
        ],
    )
    before = checkout_state(repo)
    first = await run_to_end(engine, "greet as A")
    second = await run_to_end(engine, "greet as B")
    # each changed its own copy; the user's file is as it was, and so are HEAD, branch, index and status
    assert (repo / "app.py").read_text() == APP
    assert checkout_state(repo) == before
    a, b = worktree_of(engine, first), worktree_of(engine, second)
    assert a.branch == f"workbench/{engine.session.id}/{first}" and a.path != b.path
    assert "hello from A" in (Path(a.workspace) / "app.py").read_text()
    assert "hello from B" in (Path(b.workspace) / "app.py").read_text()

    diffs = [await engine.workspaces.diff(agent) for agent in (first, second)]
    assert [[(f.path, f.status, f.added, f.removed) for f in d.files] for d in diffs] == [
        [("app.py", "modified", 1, 1)],
        [("app.py", "modified", 1, 1)],
    ]
    assert "+    print('hello from A')" in diffs[0].files[0].patch
    assert "+    print('hello from B')" in diffs[1].files[0].patch
    # the pane's counts, folded from the log
    row = engine.view.workspaces.get(first)
    assert row is not None and (len(row.files), row.added, row.removed) == (1, 1, 1)

    await run(engine, Merge(agent=first))
    assert "hello from A" in (repo / "app.py").read_text()
    assert sh_git(repo, "rev-parse", "HEAD") == before[0]  # merged as the user's uncommitted change
    assert not Path(a.path).exists()
    assert sh_git(repo, "branch", "--list", a.branch) == ""

    merged_tree = (repo / "app.py").read_bytes()
    refused = await engine.submit(Merge(agent=second))
    assert not refused.ok and "app.py" in refused.message
    assert (repo / "app.py").read_bytes() == merged_tree  # the conflict left the user's tree as it was
    conflict = next(e for e in engine.session.events_of(second) if isinstance(e, WorktreeConflicted))
    assert conflict.files == ["app.py"]
    assert Path(b.path).is_dir()  # the second agent's work is still there to look at
    assert engine.view.workspaces.get(second).conflicts == ["app.py"]  # type: ignore[union-attr]
    merged = next(e for e in engine.session.events_of(first) if isinstance(e, WorktreeMerged))
    assert merged.files == ["app.py"]
    await engine.close()


async def test_a_merge_brings_changes_beside_the_users_own_later_edits(tmp_path: Path, repo: Path) -> None:
    engine = await open_engine(tmp_path, repo, [call("Write", file_path="NEW.md", content="new\n"), "done"])
    agent = await run_to_end(engine, "add a note")
    (repo / "README.md").write_text("# Demo, edited by the user meanwhile\n")
    await run(engine, Merge(agent=agent))
    assert (repo / "NEW.md").read_text() == "new\n"
    assert (repo / "README.md").read_text() == "# Demo, edited by the user meanwhile\n"
    await engine.close()


async def test_uncommitted_changes_are_seen_by_the_agent_and_left_alone_in_the_users_tree(
    tmp_path: Path, repo: Path
) -> None:
    (repo / "README.md").write_text("# Demo\n\nAn uncommitted line the user typed.\n")
    write_files(repo, {"notes/todo.txt": "an untracked file\n"})
    sh_git(repo, "add", "docs/guide.md")  # something staged too
    (repo / "docs" / "guide.md").unlink()  # and deleted on disk after
    before = checkout_state(repo)
    engine = await open_engine(
        tmp_path,
        repo,
        [call("Read", file_path="README.md"), call("Read", file_path="notes/todo.txt"), "seen"],
    )
    agent = await run_to_end(engine, "look at the project")
    results = [e for e in engine.session.events_of(agent) if isinstance(e, ToolResult)]
    assert "An uncommitted line the user typed." in results[0].content
    assert "an untracked file" in results[1].content
    created = worktree_of(engine, agent)
    assert sorted(created.carried) == ["README.md", "docs/guide.md", "notes/todo.txt"]
    assert not (Path(created.workspace) / "docs" / "guide.md").exists()
    assert checkout_state(repo) == before
    assert (repo / "README.md").read_text().endswith("An uncommitted line the user typed.\n")
    # the agent changed nothing: its diff is empty (the carried-over changes are its base, not its work)
    assert (await engine.workspaces.diff(agent)).files == []
    await engine.close()


async def test_a_worktree_agent_cannot_reach_the_users_tree(tmp_path: Path, repo: Path) -> None:
    secret = repo / "README.md"
    engine = await open_engine(
        tmp_path,
        repo,
        [
            call("Read", file_path=f"../{repo.name}/README.md"),
            call("Read", file_path=str(secret)),
            call("Bash", command=f"ln -s {secret} link.md"),
            call("Read", file_path="link.md"),
            call("Write", file_path=str(secret), content="overwritten\n"),
            call("Edit", file_path="../../project/README.md", old_string="Demo", new_string="Gone"),
            "done",
        ],
    )
    agent = await run_to_end(engine, "try to get out")
    results = [e for e in engine.session.events_of(agent) if isinstance(e, ToolResult)]
    escapes = [results[i] for i in (0, 1, 3, 4, 5)]
    assert all(r.is_error and "outside the workspace" in r.content for r in escapes), [r.content for r in escapes]
    assert secret.read_text() == "# Demo\n"
    await engine.close()


async def test_not_a_git_repository_runs_shared_with_a_visible_warning(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    engine = await open_engine(tmp_path, folder, [call("Write", file_path="out.txt", content="x\n"), "done"])
    agent = await run_to_end(engine, "write a file")
    skipped = next(e for e in engine.session.events_of(agent) if isinstance(e, WorktreeSkipped))
    assert "not in a git repository" in skipped.reason and str(folder) in skipped.reason
    assert (folder / "out.txt").read_text() == "x\n"  # it worked in the shared folder
    assert engine.view.workspaces.get(agent).warning == skipped.reason  # type: ignore[union-attr]
    refused = await engine.submit(Merge(agent=agent))
    assert not refused.ok and "with the others" in refused.message
    await engine.close()


async def test_git_missing_runs_shared_with_a_visible_warning(
    tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = await open_engine(tmp_path, repo, ["nothing to do"])
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    agent = await run_to_end(engine, "anything")
    monkeypatch.undo()
    skipped = next(e for e in engine.session.events_of(agent) if isinstance(e, WorktreeSkipped))
    assert "git is not installed" in skipped.reason
    await engine.close()


async def test_discard_keep_and_commit(tmp_path: Path, repo: Path) -> None:
    engine = await open_engine(
        tmp_path,
        repo,
        [
            call("Write", file_path="a.txt", content="a\n"),
            "a",
            call("Write", file_path="b.txt", content="b\n"),
            "b",
            call("Write", file_path="c.txt", content="c\n"),
            "c",
        ],
    )
    first = await run_to_end(engine, "write a")
    second = await run_to_end(engine, "write b")
    third = await run_to_end(engine, "write c")
    one, two, three = (worktree_of(engine, a) for a in (first, second, third))

    await run(engine, Discard(agent=first))
    assert not Path(one.path).exists() and sh_git(repo, "branch", "--list", one.branch) == ""
    assert not (repo / "a.txt").exists()
    assert next(e for e in engine.session.events_of(first) if isinstance(e, WorktreeDiscarded)).files == ["a.txt"]

    outcome = await engine.submit(KeepBranch(agent=second))
    assert outcome.ok, outcome.message
    kept = next(e for e in engine.session.events_of(second) if isinstance(e, WorktreeKept))
    assert not Path(two.path).exists()
    assert sh_git(repo, "show", f"{two.branch}:b.txt") == "b"
    assert sh_git(repo, "rev-parse", two.branch) == kept.commit

    diff = await engine.workspaces.diff(third)
    assert diff.proposed_message.startswith("Add c.txt")
    await run(engine, Commit(agent=third, message="Add c, as the user asked"))
    committed = next(e for e in engine.session.events_of(third) if isinstance(e, WorktreeCommitted))
    assert committed.files == ["c.txt"] and sh_git(repo, "log", "-1", "--format=%s", three.branch) == (
        "Add c, as the user asked"
    )
    again = await engine.submit(Commit(agent=third, message="again"))
    assert not again.ok and "nothing" in again.message
    await run(engine, Merge(agent=third))  # committed work merges like any other
    assert (repo / "c.txt").read_text() == "c\n"
    assert not (repo / "a.txt").exists() and not (repo / "b.txt").exists()
    await engine.close()


async def test_isolation_per_spawn_per_agent_type_and_for_readers(tmp_path: Path, repo: Path) -> None:
    agents = repo / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "reviewer.md").write_text("---\nname: reviewer\ntools: Read, Grep\nisolation: worktree\n---\nReview.\n")
    (agents / "fixer.md").write_text("---\nname: fixer\nisolation: shared\n---\nFix.\n")
    engine = await open_engine(tmp_path, repo, ["ok"] * 5)
    shared = await run_to_end(engine, "share", isolation="shared")
    explorer = await run_to_end(engine, "explore", agent_type="Explore")
    reviewer = await run_to_end(engine, "review", agent_type="reviewer")
    fixer = await run_to_end(engine, "fix", agent_type="fixer")
    writer = await run_to_end(engine, "write")
    has_worktree = {
        a: any(isinstance(e, WorktreeCreated) for e in engine.session.events_of(a))
        for a in (shared, explorer, reviewer, fixer, writer)
    }
    assert has_worktree == {shared: False, explorer: False, reviewer: True, fixer: False, writer: True}
    assert not any(isinstance(e, WorktreeCreated) for e in engine.session.events_of("primary"))
    assert engine.workspaces.workspace_of(explorer) == repo
    await engine.close()


async def test_shared_config_and_a_worktree_agents_children_share_its_worktree(tmp_path: Path, repo: Path) -> None:
    engine = await open_engine(tmp_path, repo, ["ok"], isolation="shared")
    agent = await run_to_end(engine, "anything")
    assert not any(isinstance(e, (WorktreeCreated, WorktreeSkipped)) for e in engine.session.events_of(agent))
    await engine.close()

    engine = await open_engine(
        tmp_path, repo, [call("Task", description="look", prompt="look", subagent_type="Explore"), "looked", "done"]
    )
    parent = await run_to_end(engine, "delegate a look")
    child = next(a for a in engine.supervisor.agents.values() if a.spec.parent == parent)
    assert child.workspace == Path(worktree_of(engine, parent).workspace)
    await engine.close()


async def test_a_resumed_session_puts_the_agent_back_in_its_worktree(tmp_path: Path, repo: Path) -> None:
    engine = await open_engine(tmp_path, repo, [call("Write", file_path="x.txt", content="x\n"), "done"])
    agent = await run_to_end(engine, "write x")
    created = worktree_of(engine, agent)
    await engine.close()
    again = await Engine.resume(config_for(tmp_path), repo, ScriptedBrain(), engine.session.id)
    assert again.agent(agent).workspace == Path(created.workspace)  # type: ignore[union-attr]
    assert [f.path for f in (await again.workspaces.diff(agent)).files] == ["x.txt"]
    await run(again, Merge(agent=agent))
    assert (repo / "x.txt").read_text() == "x\n"
    await again.close()


async def test_a_busy_agent_is_not_merged(tmp_path: Path, repo: Path) -> None:
    from tests.engine_driver import next_event

    engine = await open_engine(tmp_path, repo, [call("Bash", command="sleep 30"), "done"])
    started = next_event(engine, lambda e: e.kind == "tool_call")
    await run(engine, Spawn(mode="background", task="take a while"))
    event = await started
    refused = await engine.submit(Merge(agent=event.agent))
    assert not refused.ok and "still at work" in refused.message
    await engine.close("cancel")


async def test_a_worktree_of_a_sub_folder_works_in_that_sub_folder(tmp_path: Path, repo: Path) -> None:
    engine = await open_engine(tmp_path, repo / "docs", [call("Write", file_path="more.md", content="more\n"), "done"])
    agent = await run_to_end(engine, "write more")
    created = worktree_of(engine, agent)
    assert Path(created.workspace) == Path(created.path) / "docs"
    await run(engine, Merge(agent=agent))
    assert (repo / "docs" / "more.md").read_text() == "more\n"
    await engine.close()


async def test_bash_changes_in_a_worktree_are_recorded_with_their_old_bytes(tmp_path: Path, repo: Path) -> None:
    engine = await open_engine(
        tmp_path, repo, [call("Bash", command="sed -i s/hello/bye/ app.py && rm README.md && echo n > n.txt"), "ok"]
    )
    agent = await run_to_end(engine, "change by command")
    changed = next(e for e in engine.session.events_of(agent) if isinstance(e, FilesChanged))
    by_path = {c.path: c for c in changed.changes}
    assert sorted(by_path) == ["README.md", "app.py", "n.txt"]
    assert all(c.before_known for c in by_path.values())  # the worktree's base knows what they held
    assert engine.workspaces.blobs.get(by_path["README.md"].before) == b"# Demo\n"  # type: ignore[arg-type]
    assert by_path["README.md"].after is None and by_path["n.txt"].before is None
    assert (by_path["app.py"].added, by_path["app.py"].removed) == (1, 1)
    await engine.close()
