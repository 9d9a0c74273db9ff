"""The background shells screen: listed from the engine's view, the output read through the client, stopped
with a command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.tui.helpers import engine_of
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import PermissionsConfig
from workbench.frontends.tui.screens.shells import ShellsScreen
from workbench.frontends.tui.widgets.agents_pane import AgentsPane, AgentTree
from workbench.frontends.tui.widgets.log_pane import LogTable
from workbench.protocol.events import ShellEnded

from .helpers import engine_ready, settle, type_and_send, until

# two lines at once, then it waits: it is running when the screen opens, and a stop finds it running
COMMAND = "echo first line; echo second line; sleep 300"
WIDE = (160, 48)


def shell_app(make_app: Any, tmp_path: Path) -> Any:
    script = tmp_path / "script.yaml"
    call = {"tool_use": {"name": "Bash", "input": {"command": COMMAND, "run_in_background": True}}}
    script.write_text(yaml.safe_dump([call, "It runs in the background."]))
    return make_app(brain=ScriptedBrain(script, delay_s=0), permissions=PermissionsConfig(allow=["Bash"]))


async def a_running_shell(pilot: Any) -> None:
    app = await engine_ready(pilot)
    await type_and_send(pilot, "start the ticker")
    bench = engine_of(app)
    await until(pilot, lambda: bool(bench.view.shells.running()))
    path = Path(bench.view.shells.rows["bash_1"].output_path)
    await until(pilot, lambda: b"second line" in path.read_bytes())
    await settle(pilot)


def shown_output(app: Any) -> str:
    """The output the shells screen shows ('' before it is composed)."""
    outputs = app.screen.query("#shell-output") if isinstance(app.screen, ShellsScreen) else []
    return str(outputs[0].visual) if outputs else ""


def shown_size(app: Any) -> str:
    tables = app.screen.query("#shells-table") if isinstance(app.screen, ShellsScreen) else []
    return str(tables[0].get_row_at(0)[4]).strip() if tables and tables[0].row_count else ""


def detail_text(app: Any) -> str:
    return str(app.query_one(AgentsPane).query_one("#agent-detail").visual)


async def test_the_shells_screen_lists_shows_the_output_and_stops_a_shell(make_app, tmp_path: Path) -> None:
    async with shell_app(make_app, tmp_path).run_test(size=WIDE) as pilot:
        await a_running_shell(pilot)
        app = pilot.app
        assert "1 shell running · s to list" in detail_text(app)

        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, ShellsScreen))
        screen = app.screen
        await until(pilot, lambda: "second line" in shown_output(app))
        assert screen.table.row_count == 1
        row = screen.table.get_row_at(0)
        assert [str(cell) for cell in row[:3]] == ["primary", "bash_1", "running"]
        assert str(row[4]).strip() == "23 B"  # "first line\nsecond line\n"
        assert COMMAND in str(screen.output.visual)

        await pilot.press("k")
        bench = engine_of(app)
        await until(pilot, lambda: any(isinstance(e, ShellEnded) for e in bench.events))
        await settle(pilot)
        ended = next(e for e in bench.events if isinstance(e, ShellEnded))
        assert (ended.how, ended.by) == ("stopped", "user")
        assert str(screen.table.get_row_at(0)[2]) == "stopped"
        assert "second line" in str(screen.output.visual)  # what it wrote stays readable

        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ShellsScreen))
        assert "1 shell, none running · s to list" in detail_text(app)


async def test_s_in_the_agents_pane_lists_the_highlighted_agents_shells(make_app, tmp_path: Path) -> None:
    async with shell_app(make_app, tmp_path).run_test(size=WIDE) as pilot:
        await a_running_shell(pilot)
        app = pilot.app
        app.query_one(AgentTree).focus()
        await pilot.press("s")
        await until(pilot, lambda: bool(shown_output(app)))
        assert app.screen.agent == "primary"
        assert app.screen.query_one("#shells").border_title == "Background shells of primary"
        await pilot.press("escape")


async def test_a_session_without_shells_says_so(make_app) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "/shells")
        await until(pilot, lambda: bool(shown_output(app)))
        assert shown_output(app) == "No agent has started a background shell in this session."
        assert app.screen.table.row_count == 0


def test_snapshot_of_the_shells_screen(snap_compare, make_app, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await a_running_shell(pilot)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(pilot.app.screen, ShellsScreen))
        await until(pilot, lambda: "second line" in shown_output(pilot.app))
        # the size is read before the output: a read may have found only the first line
        await until(pilot, lambda: shown_size(pilot.app) == "23 B")
        await settle(pilot)
        # the bundle log behind the modal follows its last event after a refresh: wait until it has
        log = pilot.app.main_screen.query_one(LogTable)
        events = len(engine_of(pilot.app).events)
        await until(pilot, lambda: log.row_count == events and log.scroll_y >= log.max_scroll_y)
        await pilot.pause()

    # tall enough for the whole log behind the modal: a scrollbar's thumb is drawn a frame late now and then
    assert snap_compare(shell_app(make_app, tmp_path), terminal_size=(160, 64), run_before=run_before)
