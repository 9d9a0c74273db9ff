"""The bundle log pane: a live tail, filters by agent and kind, and an event's JSON on enter."""

from __future__ import annotations

import json

from textual.widgets import Input, TextArea

from tests.tui.helpers import engine_of
from workbench.frontends.tui.log_filter import LogFilter
from workbench.frontends.tui.messages import EventLogged
from workbench.frontends.tui.screens.event_detail import EventDetailScreen
from workbench.frontends.tui.widgets.log_pane import TAIL_ROWS, LogPane, LogTable
from workbench.protocol.events import Status

from .helpers import engine_ready, settle, type_and_send, until


def shown(pane: LogPane, column: str) -> list[str]:
    table = pane.table
    return [str(table.get_row_at(i)[table.get_column_index(column)]) for i in range(table.row_count)]


def shown_kinds(pane: LogPane) -> list[str]:
    return shown(pane, "kind")


def shown_agents(pane: LogPane) -> list[str]:
    return shown(pane, "agent")


async def test_the_log_tails_every_event_of_the_session(make_app) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "read README.md")
        await settle(pilot)
        pane = app.query_one(LogPane)
        events = engine_of(app).events
        assert shown_kinds(pane) == [e.kind for e in events]
        assert pane.table.cursor_row == pane.table.row_count - 1  # following the tail


async def test_the_log_filters_by_kind_and_by_agent(make_app) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "read README.md")
        await settle(pilot)
        await type_and_send(pilot, "/background list python files")
        await until(pilot, lambda: "agent-1" in engine_of(app).supervisor.agents)
        await settle(pilot)
        pane = app.query_one(LogPane)
        events = engine_of(app).events

        app.query_one(LogTable).focus()
        await pilot.press("slash", *"kind:tool_call")
        assert shown_kinds(pane) == ["tool_call", "tool_call"]
        assert shown_agents(pane) == ["primary", "agent-1"]

        pane.query_one(Input).value = "agent-1 tool"
        await pilot.pause()
        assert shown_kinds(pane) == ["tool_call", "tool_result"]
        assert set(shown_agents(pane)) == {"agent-1"}

        pane.query_one(Input).value = "agent:agent-1"
        await pilot.pause()
        agent_events = [e for e in events if e.agent == "agent-1"]
        assert shown_kinds(pane) == [e.kind for e in agent_events]
        assert pane.border_subtitle == f"{len(agent_events)} of {len(events)} events"

        pane.query_one(Input).value = ""
        await pilot.pause()
        assert len(shown_kinds(pane)) == len(events)


def test_a_filter_is_words_about_the_agent_and_the_kind() -> None:
    assert LogFilter.parse("agent-1 tool").matches("agent-1", "tool_result")
    assert not LogFilter.parse("agent-1 tool").matches("agent-1", "usage")
    assert not LogFilter.parse("agent-1 tool").matches("primary", "tool_call")
    assert LogFilter.parse("kind:error agent:primary").matches("primary", "error")
    assert not LogFilter.parse("kind:error").matches("primary", "error_x")
    assert LogFilter.parse("agent:primary agent:agent-2").matches("agent-2", "usage")
    assert LogFilter.parse("session").matches("", "session_started")
    assert not LogFilter.parse("")


async def test_enter_opens_the_event_as_json(make_app) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "read README.md")
        await settle(pilot)
        table = app.query_one(LogTable)
        table.focus()
        call_row = shown_kinds(app.query_one(LogPane)).index("tool_call")
        table.move_cursor(row=call_row)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, EventDetailScreen)
        shown = json.loads(app.screen.query_one(TextArea).text)
        assert shown["kind"] == "tool_call"
        assert shown["input"] == {"file_path": "README.md"}
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, EventDetailScreen)


async def test_a_long_session_keeps_a_bounded_tail_that_ends_at_the_newest_event(make_app) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        pane = app.query_one(LogPane)
        before = len(pane.events)
        for seq in range(1000, 1000 + 3 * TAIL_ROWS):
            pane.post_message(EventLogged(Status(seq=seq, agent="agent-9", state="thinking")))
        await until(pilot, lambda: len(pane.events) == before + 3 * TAIL_ROWS)
        await pilot.pause()
        table = pane.table
        assert TAIL_ROWS <= table.row_count <= 2 * TAIL_ROWS
        assert str(table.get_row_at(table.row_count - 1)[table.get_column_index("agent")]) == "agent-9"
        assert table.cursor_row == table.row_count - 1
        assert pane.border_subtitle == f"{table.row_count} of {len(pane.events)} events"


async def test_new_events_leave_the_row_a_reader_scrolled_back_to(make_app) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "read README.md")
        await settle(pilot)
        pane = app.query_one(LogPane)
        table = pane.table
        table.focus()

        async def log(count: int) -> None:
            first = 1000 + len(pane.events)
            for seq in range(first, first + count):
                pane.post_message(EventLogged(Status(seq=seq, agent="agent-9", state="thinking")))
            await until(pilot, lambda: pane.events[-1].seq == first + count - 1)
            await pilot.pause()

        def under_cursor() -> str:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

        table.move_cursor(row=1)
        reading = under_cursor()
        await log(TAIL_ROWS)
        assert table.cursor_row == 1 and under_cursor() == reading

        # the table is trimmed: the row read, among the newest, stays under the cursor
        table.move_cursor(row=table.row_count - 3)
        reading = under_cursor()
        await log(2 * TAIL_ROWS - table.row_count + 5)
        assert table.row_count < 2 * TAIL_ROWS
        assert under_cursor() == reading and table.cursor_row < table.row_count - 1
