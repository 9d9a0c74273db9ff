"""Agents' worktrees on screen: change counts in the agents pane, the diff screen and its keys (merge,
a conflict, discard, commit), and the remount browser's choice between the conversation and the files.

The workspace is made a git repository (fixed dates, so nothing on screen moves between runs). Review a
changed snapshot as a picture: ``rsvg-convert tests/tui/__snapshots__/test_worktrees/x.svg -o x.png``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.engine_driver import ask, spawn
from tests.git_repos import call, script, sh_git
from tests.tui.helpers import engine_of
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config, PermissionsConfig
from workbench.engine.engine import Engine
from workbench.frontends.tui.screens.agent_diff import AgentDiffScreen
from workbench.frontends.tui.screens.commit_message import CommitMessageScreen
from workbench.frontends.tui.screens.confirm import ConfirmScreen
from workbench.frontends.tui.screens.rewind_choice import RewindChoiceScreen
from workbench.frontends.tui.screens.session_browser import SessionBrowser
from workbench.frontends.tui.widgets.agents_pane import AgentsPane
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.event_table import EventTable
from workbench.frontends.tui.widgets.session_preview import SessionPreview
from workbench.frontends.tui.widgets.session_table import SessionTable
from workbench.frontends.tui.widgets.transcript_blocks import Marker
from workbench.protocol.events import AgentFinished, FilesChanged, FilesRestored, WorktreeCommitted, WorktreeCreated

from .conftest import SESSION_ID
from .helpers import engine_ready, notices, settle, until

WIDE = (160, 48)
BYPASS = PermissionsConfig(mode="bypass")
WORKTREES = "worktree"  # the conftest's config shares the folder; these tests give agents their worktrees
GIT_DATES = {"GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z"}
TURNS = [
    call("Edit", file_path="app.py", old_string="print('hello')", new_string="print('hello from A')"),
    call("Write", file_path="NOTES.md", content="# Notes\n\n- written by agent A\n"),
    "A is done",
    call("Edit", file_path="app.py", old_string="print('hello')", new_string="print('hello from B')"),
    "B is done",
]


@pytest.fixture
def repo(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in GIT_DATES.items():
        monkeypatch.setenv(key, value)
    sh_git(workspace, "init", "--quiet", "--initial-branch=main")
    sh_git(workspace, "config", "user.name", "Test User")
    sh_git(workspace, "config", "user.email", "test@example.com")
    sh_git(workspace, "add", "--all")
    sh_git(workspace, "commit", "--quiet", "-m", "first")
    return workspace


def scripted(tmp_path: Path, turns: list[object]) -> ScriptedBrain:
    return ScriptedBrain(script(tmp_path / "turns.yaml", turns))


async def two_agents(pilot: Pilot[Any]) -> None:
    """agent-1 edits app.py and writes NOTES.md; agent-2 edits the same line of app.py; both finish."""
    app = await engine_ready(pilot)
    bench = engine_of(app)
    for task in ("greet as A and take notes", "greet as B"):
        await spawn(bench, "background", task)
        await until(
            pilot, lambda: sum(isinstance(e, AgentFinished) for e in bench.events) == len(bench.supervisor.agents) - 1
        )  # noqa: B023
    await until(pilot, lambda: any("agent-2's result" in n for n in notices(app)))  # the last one announced
    await settle(pilot)
    app.clear_notifications()
    await pilot.pause()


def markers(app: Any) -> list[str]:
    return [str(marker.visual) for marker in app.query_one(Conversation).query(Marker)]


def pane_label(app: Any, agent: str) -> str:
    pane = app.query_one(AgentsPane)
    return pane.label(pane.rows[agent], 60).plain


async def test_the_agents_pane_shows_files_and_lines_changed(make_app, repo: Path, tmp_path: Path) -> None:
    async with make_app(brain=scripted(tmp_path, TURNS), permissions=BYPASS, isolation=WORKTREES).run_test(
        size=WIDE
    ) as pilot:
        await two_agents(pilot)
        app = pilot.app
        assert "2 +4 -1" in pane_label(app, "agent-1")  # app.py one line for one, NOTES.md three new
        assert "1 +1 -1" in pane_label(app, "agent-2")
        assert "+" not in pane_label(app, "primary").split("primary", 1)[1].split()[0]
        app.main_screen.show_agent("agent-1")
        await pilot.pause()
        detail = str(app.query_one("#agent-detail", Static).visual)
        assert "worktree 2 files +4 -1" in detail
        assert f"branch workbench/{engine_of(app).session.id}/agent-1" in detail


async def test_the_diff_screen_merges_one_and_reports_the_others_conflict(make_app, repo: Path, tmp_path) -> None:
    async with make_app(brain=scripted(tmp_path, TURNS), permissions=BYPASS, isolation=WORKTREES).run_test(
        size=WIDE
    ) as pilot:
        await two_agents(pilot)
        app = pilot.app
        app.main_screen.show_agent("agent-1")
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, AgentDiffScreen))
        screen = app.screen
        table = screen.query_one("#diff-files", DataTable)
        assert [str(key.value) for key in table.rows] == ["NOTES.md", "app.py"]
        await pilot.press("down")
        await pilot.pause()
        assert "+    print('hello from A')" in str(screen.query_one("#diff-text", Static).visual)
        await pilot.press("m")
        await until(pilot, lambda: not isinstance(app.screen, AgentDiffScreen))
        assert "hello from A" in (repo / "app.py").read_text() and (repo / "NOTES.md").exists()
        assert any("2 files of agent-1 merged" in n for n in notices(app))
        assert "merged" in pane_label(app, "agent-1")

        app.main_screen.show_agent("agent-2")
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, AgentDiffScreen))
        await pilot.press("m")
        notice = app.screen.query_one("#diff-notice", Static)
        await until(pilot, lambda: "changed on both sides" in str(notice.visual))
        assert isinstance(app.screen, AgentDiffScreen)  # the worktree is still there to look at
        assert any("Not merged: app.py changed on both sides" in n for n in notices(app))
        assert "hello from A" in (repo / "app.py").read_text()  # the user's tree as the first merge left it


async def test_discard_asks_first_and_commit_takes_the_edited_message(make_app, repo: Path, tmp_path) -> None:
    async with make_app(brain=scripted(tmp_path, TURNS), permissions=BYPASS, isolation=WORKTREES).run_test(
        size=WIDE
    ) as pilot:
        await two_agents(pilot)
        app = pilot.app
        bench = engine_of(app)
        app.main_screen.show_agent("agent-1")
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, AgentDiffScreen))
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CommitMessageScreen))
        area = app.screen.query_one("TextArea")
        assert area.text.startswith("Change NOTES.md, app.py")  # proposed from the diff
        area.load_text("Greet as A, with notes")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any(isinstance(e, WorktreeCommitted) for e in bench.events))
        branch = next(e for e in bench.events if isinstance(e, WorktreeCreated) and e.agent == "agent-1").branch
        assert sh_git(repo, "log", "-1", "--format=%s", branch) == "Greet as A, with notes"
        await pilot.press("escape")
        app.main_screen.show_agent("agent-2")
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, AgentDiffScreen) and app.screen.diff.agent == "agent-2")
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: "discarded" in pane_label(app, "agent-2"))
        assert sh_git(repo, "branch", "--list", f"workbench/{bench.session.id}/agent-2") == ""
        assert "hello from B" not in (repo / "app.py").read_text()


async def test_without_git_agents_share_the_folder_with_one_visible_warning(make_app, workspace: Path) -> None:
    async with make_app(isolation=WORKTREES).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        for task in ("list python files", "read README.md"):
            await spawn(bench, "background", task)
        await until(pilot, lambda: sum(isinstance(e, AgentFinished) for e in bench.events) == 2)
        await settle(pilot)
        warnings = [n for n in notices(app) if n.startswith("No worktrees: agents share the folder")]
        assert len(warnings) == 1 and "not in a git repository" in warnings[0]
        assert "⚠ shared" in pane_label(app, "agent-1") and "⚠ shared" in pane_label(app, "agent-2")
        app.main_screen.show_agent("agent-2")
        await pilot.pause()
        assert "⚠ " in str(app.query_one("#agent-detail", Static).visual)
        assert any("no worktree: " in m for m in markers(app))


async def made_a_session_with_files(config: Config, repo: Path, tmp_path: Path) -> str:
    """A past session whose primary wrote two files in this folder (the source of a remount)."""
    turns = [
        call("Write", file_path="plan.md", content="# Plan\n\nfirst draft\n"),
        call("Write", file_path="plan.md", content="# Plan\n\nsecond draft\n"),
        call("Write", file_path="later.txt", content="written later\n"),
        "done",
    ]
    when = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    session = "20260101T090000Z-file"
    bench = await Engine.open(
        config.model_copy(update={"permissions": BYPASS}), repo, scripted(tmp_path, turns), session_id=session,
        clock=lambda: when,
    )  # fmt: skip
    await ask(bench, "draft a plan")
    await bench.close()
    return session


def opened_another(app: Any) -> bool:
    """The remount's new session is open (neither the one the app started with nor the source)."""
    client = app.main_screen.client
    return client is not None and client.info.session_id != SESSION_ID and "T0900" not in client.info.session_id


async def open_rewind_choice(pilot: Pilot[Any], session: str) -> RewindChoiceScreen:
    app = await engine_ready(pilot)
    await pilot.press("ctrl+o")
    await until(pilot, lambda: isinstance(app.screen, SessionBrowser) and app.screen.query_one(SessionTable).row_count)
    browser = app.screen
    browser.query_one(SessionTable).point_at(session)
    preview = browser.query_one(SessionPreview)
    await until(pilot, lambda: preview.session_id == session)
    first = next(e.seq for e in preview.events if isinstance(e, FilesChanged))  # the first plan.md written
    preview.query_one(EventTable).point_at(str(first))
    await until(pilot, lambda: preview.event is not None and preview.event.seq == first)
    await pilot.press("f")
    await until(pilot, lambda: isinstance(app.screen, RewindChoiceScreen))
    await pilot.pause()
    return app.screen  # type: ignore[return-value]


async def test_remount_with_the_files_puts_them_back_in_a_fresh_worktree(make_app, repo, config, tmp_path) -> None:
    session = await made_a_session_with_files(config, repo, tmp_path)
    async with make_app().run_test(size=WIDE) as pilot:
        choice = await open_rewind_choice(pilot, session)
        listed = str(choice.query_one("#rewind-files Static", Static).visual)
        assert "plan.md  put back as it was then" in listed and "later.txt  did not exist then: deleted" in listed
        await pilot.press("w")
        app = pilot.app
        await until(pilot, lambda: opened_another(app))
        bench = engine_of(app)
        await until(pilot, lambda: any(isinstance(e, FilesRestored) for e in bench.events))
        worktree = Path(next(e for e in bench.events if isinstance(e, WorktreeCreated)).workspace)
        assert (worktree / "plan.md").read_text() == "# Plan\n\nfirst draft\n" and not (worktree / "later.txt").exists()
        assert (repo / "plan.md").read_text() == "# Plan\n\nsecond draft\n"  # the user's folder untouched
        assert bench.primary.workspace == worktree


async def test_remount_with_conversation_only_leaves_the_files(make_app, repo, config, tmp_path) -> None:
    session = await made_a_session_with_files(config, repo, tmp_path)
    async with make_app().run_test(size=WIDE) as pilot:
        await open_rewind_choice(pilot, session)
        await pilot.press("o")
        app = pilot.app
        await until(pilot, lambda: opened_another(app))
        await settle(pilot)
        bench = engine_of(app)
        assert not any(isinstance(e, (FilesRestored, WorktreeCreated)) for e in bench.events)
        assert (repo / "later.txt").exists() and bench.primary.workspace == repo


async def test_remount_with_the_files_into_the_folder_asks_first(make_app, repo, config, tmp_path) -> None:
    session = await made_a_session_with_files(config, repo, tmp_path)
    async with make_app().run_test(size=WIDE) as pilot:
        await open_rewind_choice(pilot, session)
        app = pilot.app
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, SessionBrowser))
        assert (repo / "later.txt").exists()  # nothing written on a no


# ---------------------------------------------------------------- snapshots


def test_snapshot_the_agents_pane_with_change_counts(snap_compare, make_app, repo, tmp_path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await two_agents(pilot)
        pilot.app.main_screen.show_agent("agent-1")
        await pilot.pause(0.2)

    app = make_app(brain=scripted(tmp_path, TURNS), permissions=BYPASS, isolation=WORKTREES)
    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_snapshot_the_diff_screen(snap_compare, make_app, repo, tmp_path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await two_agents(pilot)
        pilot.app.main_screen.show_agent("agent-1")
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(pilot.app.screen, AgentDiffScreen))
        await pilot.press("down")
        await pilot.pause(0.2)

    app = make_app(brain=scripted(tmp_path, TURNS), permissions=BYPASS, isolation=WORKTREES)
    assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def test_snapshot_the_rewind_choice(snap_compare, make_app, repo, config, tmp_path) -> None:
    import asyncio

    session = asyncio.run(made_a_session_with_files(config, repo, tmp_path))

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_rewind_choice(pilot, session)

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)
