"""The MCP screen against real servers: the SDK's demo server over stdio, and one whose command is missing.

The demo server is copied into the workspace and started as ``python demo_server.py``
(the test's own interpreter first on PATH), so what the screen shows does not
depend on where the repository is checked out.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from textual.widgets import OptionList, Static

from tests.engine_driver import run
from tests.tui.helpers import engine_of
from workbench.engine.config import PermissionsConfig
from workbench.frontends.tui.bridge import BusBridge
from workbench.frontends.tui.messages import McpChanged
from workbench.frontends.tui.screens.mcp import NO_SERVERS, McpScreen
from workbench.frontends.tui.widgets.session_header import McpTally, SessionHeader
from workbench.protocol.commands import Send
from workbench.protocol.events import Error
from workbench.protocol.signals import McpStatusChanged

from .helpers import engine_ready, notices, settle, type_and_send, until

DEMO = Path(__file__).parents[1] / "mcp_servers" / "demo.py"
MISSING = "no-such-mcp-server"
START_S = 30.0  # the demo server imports the SDK first: a few seconds on a busy machine


@pytest.fixture
def mcp_workspace(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(DEMO, workspace / "demo_server.py")
    servers = {
        "demo": {"command": "python", "args": ["demo_server.py"]},
        "broken": {"command": MISSING, "args": ["--stdio"]},
    }
    (workspace / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return workspace


def states(app) -> dict[str, str]:
    return {status.name: status.state for status in engine_of(app).mcp.statuses()}


async def servers_settled(pilot, **wanted: str) -> None:
    app = pilot.app
    await until(pilot, lambda: app.main_screen.client is not None and engine_of(app).mcp is not None, START_S)
    await until(pilot, lambda: states(app) == wanted, START_S)
    await settle(pilot)


def text_of(screen: McpScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).visual)


def option_texts(screen: McpScreen) -> dict[str, str]:
    return {str(o.id): str(o.prompt) for o in screen.query_one(OptionList).options}


async def open_mcp_screen(pilot, highlight: str | None = None) -> McpScreen:
    await pilot.press("f4")
    await until(pilot, lambda: isinstance(pilot.app.screen, McpScreen))
    screen = pilot.app.screen
    if highlight is not None:
        options = screen.query_one(OptionList)
        options.highlighted = options.get_option_index(highlight)
    await pilot.pause()
    return screen


async def test_a_ready_server_shows_its_tools_and_a_missing_command_shows_failed_with_why(
    make_app, mcp_workspace: Path
) -> None:
    async with make_app().run_test(size=(160, 48)) as pilot:
        app = await engine_ready(pilot)
        await servers_settled(pilot, demo="ready", broken="failed")
        assert app.query_one(SessionHeader).mcp == McpTally(ready=1, starting=0, failed=1, total=2)
        assert str(app.query_one("#mcp").visual) == "mcp 1/2"
        assert any(f"MCP server broken failed: command not found: {MISSING}" in n for n in notices(app))

        screen = await open_mcp_screen(pilot, highlight="demo")
        listed = option_texts(screen)
        assert "ready" in listed["demo"] and "stdio · 4 tools" in listed["demo"]
        assert "failed" in listed["broken"] and "command not found: no-such" in listed["broken"]  # clipped
        detail = text_of(screen, "#mcp-server")
        assert "demo  ● ready" in detail and "python demo_server.py" in detail and ".mcp.json" in detail
        tools = text_of(screen, "#mcp-tools")
        for name, kind, summary in (("add", "exec", "Add two integers."), ("sleep", "exec", "Sleep, then say so")):
            line = next(line for line in tools.splitlines() if line.startswith(f"mcp__demo__{name} "))
            assert kind in line and summary in line
        assert not screen.query_one("#mcp-error").display

        options = screen.query_one(OptionList)
        options.highlighted = options.get_option_index("broken")
        await pilot.pause()
        assert f"Failed: command not found: {MISSING}" in text_of(screen, "#mcp-error")
        assert "No tools until it is ready." in text_of(screen, "#mcp-tools")

        # the failure is in the log, and the primary agent is unharmed
        bench = engine_of(app)
        assert any(isinstance(e, Error) and MISSING in e.message for e in bench.events)
        await pilot.press("escape")
        await type_and_send(pilot, "read README.md")
        await settle(pilot)
        assert bench.primary.state == "idle" and bench.primary.result


async def test_r_restarts_the_highlighted_server_and_the_screen_follows_it(make_app, mcp_workspace: Path) -> None:
    async with make_app().run_test(size=(160, 48)) as pilot:
        app = await engine_ready(pilot)
        await servers_settled(pilot, demo="ready", broken="failed")
        bench = engine_of(app)
        first_runner = bench.mcp.servers["demo"]._runner
        seen: list[str] = []
        bench.bus.subscribe(lambda item: seen.append(item.state) if isinstance(item, McpStatusChanged) else None)

        screen = await open_mcp_screen(pilot, highlight="demo")
        await pilot.press("r")
        await until(pilot, lambda: "starting" in option_texts(screen)["demo"], START_S)
        assert app.query_one(SessionHeader).mcp.starting == 1  # the header follows too
        await until(pilot, lambda: "ready" in option_texts(screen)["demo"], START_S)
        assert seen == ["stopped", "starting", "ready"]
        assert bench.mcp.servers["demo"]._runner is not first_runner  # a new connection
        assert any("demo restarted: 4 tools offered again" in n for n in notices(app))
        assert "mcp__demo__add" in text_of(screen, "#mcp-tools")

        # the broken one restarts too, and fails again with its reason
        options = screen.query_one(OptionList)
        options.highlighted = options.get_option_index("broken")
        await pilot.pause()
        await pilot.press("r")
        await until(pilot, lambda: seen.count("failed") == 1, START_S)
        await settle(pilot)
        assert "failed" in option_texts(screen)["broken"]
        assert f"command not found: {MISSING}" in text_of(screen, "#mcp-error")


async def test_a_server_that_dies_mid_session_is_shown_failed_and_the_agent_goes_on(
    make_app, mcp_workspace: Path, tmp_path: Path
) -> None:
    from workbench.brains.scripted import ScriptedBrain

    script = tmp_path / "die.yaml"
    script.write_text("- tool_use: {name: mcp__demo__die, input: {}}\n- The server is gone.\n")
    app = make_app(
        brain=ScriptedBrain(script=script, delay_s=0), permissions=PermissionsConfig(allow=["mcp__demo__die"])
    )
    async with app.run_test(size=(160, 48)) as pilot:
        app = await engine_ready(pilot)
        await servers_settled(pilot, demo="ready", broken="failed")
        screen = await open_mcp_screen(pilot, highlight="demo")
        await run(engine_of(app), Send(text="call die"))
        await until(pilot, lambda: "failed" in option_texts(screen)["demo"], START_S)
        await settle(pilot)
        assert "Failed: the server closed the connection" in text_of(screen, "#mcp-error")
        assert app.query_one(SessionHeader).mcp == McpTally(ready=0, starting=0, failed=2, total=2)
        assert engine_of(app).primary.result == "The server is gone."


async def test_without_servers_the_screen_says_how_to_add_them_and_the_header_shows_nothing(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        assert not app.query_one("#mcp").display
        await type_and_send(pilot, "/mcp")
        await until(pilot, lambda: isinstance(app.screen, McpScreen))
        assert str(app.screen.query_one("#mcp-summary").visual) == NO_SERVERS
        assert not app.screen.query_one("#mcp-body").display


def test_the_bridge_turns_a_status_signal_into_a_message() -> None:
    from .test_bridge import FakeClient, Inbox

    client, inbox, late = FakeClient(), Inbox(), Inbox()
    bus = client.bus
    bridge = BusBridge([inbox], client)  # type: ignore[arg-type]
    bridge.attach()
    stop = bridge.follow(late)
    bus.publish(McpStatusChanged(agent="", server="demo", state="failed", error="command not found: x"))
    stop()
    bus.publish(McpStatusChanged(agent="", server="demo", state="starting"))
    assert [(m.server, m.state, m.error) for m in inbox.messages] == [
        ("demo", "failed", "command not found: x"),
        ("demo", "starting", ""),
    ]
    assert all(isinstance(m, McpChanged) for m in inbox.messages)
    assert [m.state for m in late.messages] == ["failed"]  # followed, then no more


def test_the_tally_counts_config_problems_as_failures() -> None:
    tally = McpTally.of(["ready", "starting", "failed"], problems=1)
    assert tally == McpTally(ready=1, starting=1, failed=2, total=3) and tally.health == "failed"
    assert McpTally.of(["ready", "starting"]).health == "starting"


def test_the_mcp_screen(snap_compare, make_app, mcp_workspace: Path) -> None:
    async def run_before(pilot) -> None:
        await engine_ready(pilot)
        await servers_settled(pilot, demo="ready", broken="failed")
        pilot.app.clear_notifications()  # toasts belong to the screen shown when they came
        await pilot.pause()
        await open_mcp_screen(pilot, highlight="demo")
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=(160, 48), run_before=run_before)
