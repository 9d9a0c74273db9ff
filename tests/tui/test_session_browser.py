"""The session browser (ctrl+o, /remount) and what it leads to: remount, fork, resume, replay, import.

The store holds the sample bundles (fixed ids and times), a session made by the
scripted brain under another model name, one cut mid-turn (interrupted) and,
where a test needs it, one another process holds. Review a changed snapshot as
a picture: ``rsvg-convert tests/tui/__snapshots__/test_session_browser/x.svg -o x.png``.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.engine_driver import ask
from tests.tui.helpers import engine_of
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.context.fold import fold
from workbench.engine.context.tokens import default_counter
from workbench.engine.engine import Engine, SessionInfo
from workbench.engine.replay import ReplayClient
from workbench.frontends.tui.replay_player import MAX_WAIT_S, SPEEDS, ReplayPlayer
from workbench.frontends.tui.screens.confirm import ConfirmScreen
from workbench.frontends.tui.screens.rename import RenameScreen
from workbench.frontends.tui.screens.replay import ReplayBar, ReplayScreen
from workbench.frontends.tui.screens.session_browser import SessionBrowser
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.event_table import EventTable
from workbench.frontends.tui.widgets.import_pane import FoundTable, ImportPane
from workbench.frontends.tui.widgets.log_pane import LogTable
from workbench.frontends.tui.widgets.prompt import PromptArea
from workbench.frontends.tui.widgets.remounted_history import RemountedHistory
from workbench.frontends.tui.widgets.search_matches import SearchMatches
from workbench.frontends.tui.widgets.session_agents import SessionAgents
from workbench.frontends.tui.widgets.session_preview import SessionPreview
from workbench.frontends.tui.widgets.session_table import SessionTable
from workbench.log.bundle import BundleStore
from workbench.log.catalog import TITLE_FILE
from workbench.log.session_lock import SessionLock
from workbench.protocol.events import Remounted

from .conftest import SESSION_ID
from .helpers import engine_ready, notices, settle, until

SAMPLES = Path(__file__).parents[2] / "bundles" / "samples"
READ, DELEGATED, REMOUNTED = "20260101T090000Z-read", "20260101T091500Z-dlgt", "20260101T093000Z-rmnt"
LARGE = "20251230T120000Z-larg"  # made by the scripted brain calling itself "scripted-large"
CUT = "20251231T120000Z-intr"  # stopped after a tool call, before its result
WIDE = (160, 48)


async def _scripted_session(config: Config, cwd: Path, session_id: str, prompt: str, model: str) -> BundleStore:
    when = datetime.strptime(session_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    bench = await Engine.open(config, cwd, ScriptedBrain(model=model), session_id=session_id, clock=lambda: when)
    await ask(bench, prompt)
    await bench.close()
    return bench.session.store


@pytest.fixture
async def store(config: Config, workspace: Path) -> BundleStore:
    assert config.bundles is not None
    config.bundles.mkdir(parents=True)
    for sample in SAMPLES.iterdir():
        shutil.copytree(sample, config.bundles / sample.name)
    await _scripted_session(config, workspace, LARGE, "remember the zebra migration", "scripted-large")
    made = await _scripted_session(config, workspace, CUT, "read README.md", "scripted")
    log = made.folder(CUT) / "events.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    first_call = next(i for i, line in enumerate(lines) if b'"kind":"tool_call"' in line)
    log.write_bytes(b"".join(lines[: first_call + 1]))
    (made.folder(CUT) / "meta.json").unlink()
    return made


async def open_browser(pilot) -> SessionBrowser:
    app = await engine_ready(pilot)
    await pilot.press("ctrl+o")
    await until(pilot, lambda: isinstance(app.screen, SessionBrowser) and app.screen.query_one(SessionTable).row_count)
    browser = app.screen
    assert isinstance(browser, SessionBrowser)
    await until(pilot, lambda: browser.query_one(SessionPreview).session_id is not None)
    return browser


async def highlight(pilot, browser: SessionBrowser, session_id: str) -> SessionPreview:
    browser.query_one(SessionTable).point_at(session_id)
    preview = browser.query_one(SessionPreview)
    await until(pilot, lambda: preview.session_id == session_id)
    await pilot.pause()
    return preview


def listed(browser: SessionBrowser) -> list[tuple[str, str]]:
    return [(row.id, row.state) for row in browser.query_one(SessionTable).shown]


async def new_session(pilot, not_this: str = SESSION_ID) -> Engine:
    app = pilot.app
    await until(pilot, lambda: app.main_screen.client is not None and engine_of(app).session.id != not_this)
    bench = engine_of(app)
    await until(pilot, lambda: bench.primary.state == "idle")
    await settle(pilot)
    return bench


# ---------------------------------------------------------------- the list


async def test_the_list_shows_every_session_newest_first_with_its_state(make_app, store: BundleStore) -> None:
    held = SessionLock(store.folder(DELEGATED))
    held.acquire()  # as if another process were writing it
    try:
        async with make_app().run_test(size=WIDE) as pilot:
            browser = await open_browser(pilot)
            assert listed(browser) == [
                (SESSION_ID, "open here"),
                (REMOUNTED, "finished"),
                (DELEGATED, "running elsewhere"),
                (READ, "finished"),
                (CUT, "interrupted"),
                (LARGE, "finished"),
            ]
            assert browser.query_one(SessionTable).highlighted.id == REMOUNTED  # the newest past session
            preview = await highlight(pilot, browser, CUT)
            head = str(preview.query_one("#preview-head").visual)
            assert "interrupted, stopped after seq" in head and "tool calls never answered: Read" in head
    finally:
        held.release()


async def test_ctrl_o_and_slash_remount_open_the_browser_and_esc_closes_it(make_app, store: BundleStore) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, SessionBrowser))
        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#search")
        await pilot.press("escape")  # out of the search field first
        assert isinstance(app.screen, SessionBrowser) and isinstance(app.focused, SessionTable)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.main_screen)
        app.query_one(PromptArea).load_text("/remount")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SessionBrowser))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.main_screen)
        assert engine_of(app).session.id == SESSION_ID  # nothing chosen, nothing changed


# ---------------------------------------------------------------- search and filters


async def test_search_lists_the_sessions_that_mention_it_with_the_matching_lines(make_app, store) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        browser = await open_browser(pilot)
        await pilot.press("slash")
        await pilot.press(*"Markdown")
        await pilot.press("enter")
        await until(pilot, lambda: not browser.searching and browser.query_text == "Markdown")
        assert [row.id for row in browser.query_one(SessionTable).shown] == [DELEGATED]
        preview = browser.query_one(SessionPreview)
        matches = preview.query_one(SearchMatches)
        await until(pilot, lambda: matches.display and matches.option_count > 0)
        lines = [str(matches.get_option_at_index(i).prompt) for i in range(matches.option_count)]
        assert all("markdown" in line.lower() for line in lines)
        assert browser.found[DELEGATED].total == matches.option_count
        # the first matching line's event is the one highlighted among the events
        assert preview.event is not None and preview.event.seq == browser.found[DELEGATED].hits[0].seq
        # a query nobody wrote lists nothing
        await pilot.press("slash")
        browser.query_one("#search").value = "no such words anywhere"
        await pilot.press("enter")
        await until(pilot, lambda: not browser.searching and browser.query_text.startswith("no such"))
        assert browser.query_one(SessionTable).shown == []


async def test_filters_by_model_and_by_date(make_app, store) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        browser = await open_browser(pilot)
        table = browser.query_one(SessionTable)

        async def shown_after(field: str, text: str) -> list[str]:
            browser.query_one(f"#{field}").value = text
            await pilot.pause(0.2)
            await until(pilot, lambda: not browser.workers._workers or all(
                w.is_finished for w in browser.workers if w.group == "list"))  # fmt: skip
            await pilot.pause()
            return [row.id for row in table.shown]

        assert await shown_after("model", "large") == [LARGE]
        assert await shown_after("model", "") == [SESSION_ID, REMOUNTED, DELEGATED, READ, CUT, LARGE]
        assert await shown_after("since", "2026-01-01") == [SESSION_ID, REMOUNTED, DELEGATED, READ]
        assert await shown_after("until", "2026-01-01") == [REMOUNTED, DELEGATED, READ]
        assert await shown_after("since", "2026-01-01 09:10") == [REMOUNTED, DELEGATED]
        before = [row.id for row in table.shown]
        assert await shown_after("until", "tomorrow") == before  # not a date: the list stays as it was
        assert browser.query_one("#until").has_class("-invalid")
        assert "until: 'tomorrow' is not a date" in str(browser.query_one("#filter-problem").visual)


# ---------------------------------------------------------------- rename and delete


async def test_rename_sets_the_title_the_list_shows(make_app, store: BundleStore) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        browser = await open_browser(pilot)
        await highlight(pilot, browser, READ)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(pilot.app.screen, RenameScreen))
        pilot.app.screen.query_one("#rename-title").value = "The README tour"
        await pilot.press("enter")
        await until(
            pilot, lambda: any(r.entry.meta.title == "The README tour" for r in browser.query_one(SessionTable).shown)
        )
        assert (store.folder(READ) / TITLE_FILE).read_text().strip() == "The README tour"


async def test_delete_asks_first_and_removes_only_that_folder(make_app, store: BundleStore) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        browser = await open_browser(pilot)
        before = sorted(p.name for p in store.root.iterdir())
        await highlight(pilot, browser, READ)
        await pilot.press("delete")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        assert str(store.folder(READ)) in str(pilot.app.screen.query_one("#confirm-question").visual)
        await pilot.press("n")
        await until(pilot, lambda: pilot.app.screen is browser)
        assert store.folder(READ).is_dir()

        await pilot.press("delete")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: READ not in [row.id for row in browser.query_one(SessionTable).shown])
        assert sorted(p.name for p in store.root.iterdir()) == [name for name in before if name != READ]

        await highlight(pilot, browser, SESSION_ID)  # the session open here is never deleted
        await pilot.press("delete")
        await pilot.pause()
        assert pilot.app.screen is browser and store.folder(SESSION_ID).is_dir()
        assert any("cannot be deleted" in notice for notice in notices(pilot.app))


# ---------------------------------------------------------------- remount and fork


async def test_continue_remounts_the_session_with_the_same_context(make_app, store: BundleStore) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        browser = await open_browser(pilot)
        await highlight(pilot, browser, READ)
        await pilot.press("c")
        bench = await new_session(pilot)
        first = bench.events[:3]
        assert [e.kind for e in first] == ["session_started", "agent_spawned", "remounted"]
        remounted = first[2]
        assert isinstance(remounted, Remounted)
        assert (remounted.source_session, remounted.source_agent, remounted.up_to_seq) == (READ, "primary", 32)
        source = await store.read(READ)
        assert fold(bench.events, agent="primary").messages == fold(source.events, agent="primary").messages
        assert first[0].title == "↻ read README.md"  # type: ignore[union-attr]
        # the panes show the new session, the carried-over history first
        conversation = pilot.app.main_screen.query_one(Conversation)
        (history,) = conversation.query(RemountedHistory)
        assert "README.md" in str(history.query("UserTurn").first().visual)
        assert store.folder(SESSION_ID).is_dir()  # the session left behind is kept
        assert any("Remounted" in notice for notice in notices(pilot.app))


async def test_fork_at_an_event_continues_from_there(make_app, store: BundleStore) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        browser = await open_browser(pilot)
        preview = await highlight(pilot, browser, READ)
        events = preview.query_one(EventTable)
        events.point_at("12")
        events.focus()
        await pilot.press("enter")
        bench = await new_session(pilot)
        remounted = bench.events[2]
        assert isinstance(remounted, Remounted) and remounted.up_to_seq == 12
        source = await store.read(READ)
        assert remounted.messages == fold([e for e in source.events if e.seq <= 12], agent="primary").messages


async def test_one_agent_of_a_session_can_be_continued(make_app, store: BundleStore) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        browser = await open_browser(pilot)
        preview = await highlight(pilot, browser, DELEGATED)
        agents = preview.query_one(SessionAgents)
        node = next(n for n in agents._tree_nodes.values() if n.data == "agent-2")
        agents.move_cursor(node)
        await until(pilot, lambda: preview.query_one(EventTable).shown[0].agent == "agent-2")
        await pilot.press("c")
        bench = await new_session(pilot)
        remounted = bench.events[2]
        assert isinstance(remounted, Remounted) and remounted.source_agent == "agent-2"


async def test_slash_remount_with_an_id_continues_that_session_at_once(make_app, store: BundleStore) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        app.query_one(PromptArea).load_text("/remount 20260101T0915")
        await pilot.press("enter")
        bench = await new_session(pilot)
        assert bench.events[2].source_session == DELEGATED  # type: ignore[union-attr]
        # a new session has a new main screen (App.query_one still looks in the first one)
        app.main_screen.query_one(PromptArea).load_text("/remount 2026")  # names several sessions
        await pilot.press("enter")
        await until(pilot, lambda: any("matches" in notice for notice in notices(app)))
        assert engine_of(app) is bench


# ---------------------------------------------------------------- resume


async def test_resume_reopens_an_interrupted_session_where_it_stopped(make_app, store: BundleStore) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        browser = await open_browser(pilot)
        await highlight(pilot, browser, CUT)
        cut_events = len((await store.read(CUT)).events)
        await pilot.press("r")
        bench = await new_session(pilot)
        assert bench.session.id == CUT
        assert bench.events[:cut_events] == (await store.read(CUT)).events[:cut_events]
        assert pilot.app.main_screen.query_one("SessionHeader").session_id == CUT


async def test_a_session_another_process_holds_opens_read_only(make_app, store: BundleStore) -> None:
    held = SessionLock(store.folder(READ))
    held.acquire()
    try:
        async with make_app().run_test(size=WIDE) as pilot:
            browser = await open_browser(pilot)
            await highlight(pilot, browser, READ)
            await pilot.press("r")
            app = pilot.app
            await until(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.finished)
            screen = app.screen
            assert screen.read_only.startswith("open in process")
            assert "READ-ONLY" in str(screen.query_one(ReplayBar).visual)
            assert any("read-only" in notice for notice in notices(app))
            assert engine_of(app).session.id == SESSION_ID  # the live session goes on
    finally:
        held.release()


# ---------------------------------------------------------------- replay


def replay_client() -> ReplayClient:
    info = SessionInfo(session_id=READ, cwd="", brain="scripted", model="", window=200_000,
                       delegate_at=0.3, compact_at=0.8, depth=3)  # fmt: skip
    return ReplayClient(info, default_counter())


async def test_the_player_publishes_in_order_paced_by_the_recorded_gaps(store: BundleStore) -> None:
    events = (await store.read(READ)).events
    gaps = [(b.ts - a.ts).total_seconds() for a, b in zip(events, events[1:])]
    for speed in SPEEDS:
        seen: list[object] = []
        waits: list[float] = []

        async def sleep(seconds: float, waits: list[float] = waits) -> None:
            waits.append(seconds)

        client = replay_client()
        client.subscribe(seen.append)
        assert await ReplayPlayer(events, client, speed=speed, sleep=sleep).play() == len(events)
        assert [e.seq for e in seen] == [e.seq for e in events]  # type: ignore[attr-defined]
        expected = 0.0 if speed is None else sum(min(gap / speed, MAX_WAIT_S) for gap in gaps)
        assert sum(waits) == pytest.approx(expected)


async def test_a_new_speed_applies_in_the_middle_of_a_gap() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            player.faster()  # 1× → 10×

    player = ReplayPlayer([], replay_client(), speed=1.0, sleep=sleep)
    await player._pace(1.0)  # one recorded second: 0.1 s, 0.1 s at 1×, then the other 0.8 s at 10×
    assert sum(waits) == pytest.approx(0.2 + 0.08)


async def test_replay_plays_the_session_into_read_only_panes(make_app, store: BundleStore) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        browser = await open_browser(pilot)
        await highlight(pilot, browser, READ)
        await pilot.press("p")
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        screen = app.screen
        assert screen.player.speed == 1.0
        assert "1×" in str(screen.query_one(ReplayBar).visual)
        await pilot.press("s")
        assert screen.player.speed == 10.0
        await pilot.press("s")
        assert screen.player.speed is None
        await until(pilot, lambda: screen.finished)
        source = (await store.read(READ)).events
        assert [e.seq for e in screen.replay.played] == [e.seq for e in source]
        await until(pilot, lambda: screen.query_one(LogTable).row_count == len(source))
        assert screen.query_one(PromptArea).disabled
        assert "finished" in str(screen.query_one(ReplayBar).visual)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.main_screen)
        assert engine_of(app).session.id == SESSION_ID
        assert (await store.read(READ)).events == source  # replay never writes


# ---------------------------------------------------------------- import


def claude_code_file(home: Path) -> Path:
    path = home / ".claude" / "projects" / "-home-me-proj" / "5f0c3e1a-0000-4000-8000-000000000001.jsonl"
    path.parent.mkdir(parents=True)
    common = {"sessionId": "5f0c3e1a", "cwd": "/home/me/proj", "version": "2.1.12", "isSidechain": False}
    lines = [
        {**common, "type": "user", "uuid": "u1", "parentUuid": None, "timestamp": "2026-01-20T11:00:00.000Z",
         "message": {"role": "user", "content": "What does the zebra module do?"}},
        {**common, "type": "assistant", "uuid": "u2", "parentUuid": "u1", "timestamp": "2026-01-20T11:00:05.000Z",
         "message": {"id": "m1", "type": "message", "role": "assistant", "model": "claude-opus-4-5",
                     "content": [{"type": "text", "text": "It migrates zebras."}], "stop_reason": "end_turn",
                     "usage": {"input_tokens": 10, "output_tokens": 5}}},
    ]  # fmt: skip
    path.write_text(json.dumps(lines[0]) + "\n{not json\n" + json.dumps(lines[1]) + "\n")
    return path


async def test_import_lists_transcripts_at_home_and_imports_one(make_app, store, tmp_path, monkeypatch) -> None:
    home = tmp_path / "home"
    claude_code_file(home)
    monkeypatch.setenv("HOME", str(home))
    async with make_app().run_test(size=WIDE) as pilot:
        browser = await open_browser(pilot)
        before = {row.id for row in browser.query_one(SessionTable).shown}
        await pilot.press("i")
        files = browser.query_one(FoundTable)
        await until(pilot, lambda: files.row_count == 1)
        assert files.shown[0].source.format == "claude-code"
        await pilot.press("enter")
        report = browser.query_one(ImportPane).query_one("#import-report")
        await until(pilot, lambda: "Imported" in str(report.visual))
        assert "1 unreadable line(s) skipped" in str(report.visual)
        assert "line 2: not valid JSON" in str(report.visual)
        await pilot.press("s")
        await until(pilot, lambda: len(browser.query_one(SessionTable).shown) == len(before) + 1)
        (new,) = [row for row in browser.query_one(SessionTable).shown if row.id not in before]
        assert new.entry.meta.brain == "claude-code"
        assert new.entry.meta.title == "What does the zebra module do?"
        assert browser.query_one(SessionTable).highlighted == new


# ---------------------------------------------------------------- snapshots


def test_snapshot_browser_with_a_search(snap_compare, make_app, store) -> None:
    async def run_before(pilot) -> None:
        browser = await open_browser(pilot)
        await pilot.press("slash")
        await pilot.press(*"readme")
        await pilot.press("enter")
        await until(pilot, lambda: not browser.searching and browser.query_text == "readme")
        await highlight(pilot, browser, READ)
        await until(pilot, lambda: browser.query_one(SearchMatches).option_count > 0)
        await pilot.pause(0.2)
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


def test_snapshot_preview_of_a_session_with_sub_agents(snap_compare, make_app, store) -> None:
    async def run_before(pilot) -> None:
        browser = await open_browser(pilot)
        await highlight(pilot, browser, DELEGATED)
        await pilot.pause(0.2)
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


def test_snapshot_replay_mode(snap_compare, make_app, store) -> None:
    async def run_before(pilot) -> None:
        browser = await open_browser(pilot)
        await highlight(pilot, browser, DELEGATED)
        await pilot.press("p")
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("s", "s")
        await until(pilot, lambda: app.screen.finished)
        app.clear_notifications()
        await pilot.pause(0.5)
        await pilot.wait_for_scheduled_animations()

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)
