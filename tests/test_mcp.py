"""MCP servers: real servers (the SDK's own MCPServer) over stdio and streamable HTTP, called by agents.

Every failure mode — a server that cannot start, one that dies mid-session, one
that hangs — must end as a status and a tool error; the agent goes on.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from tests.engine_driver import Answers, ask
from tests.fake_api import FakeAnthropicServer, Reply
from tests.fake_api import ToolCall as FakeToolCall
from workbench.brains.anthropic import AnthropicBrain
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config, PermissionsConfig
from workbench.engine.engine import Engine
from workbench.frontends.cli.mcp import NO_SERVERS, list_servers
from workbench.protocol.events import ToolResult
from workbench.tools.mcp.config import (
    HttpServerConfig,
    McpConfigError,
    McpServerEntry,
    McpSettings,
    StdioServerConfig,
    expanded,
    merge_entries,
    project_entries,
)
from workbench.tools.mcp.manager import McpManager
from workbench.tools.mcp.server import McpServerStatus

DEMO = str(Path(__file__).parent / "mcp_servers" / "demo.py")
LIAR = str(Path(__file__).parent / "mcp_servers" / "liar.py")


def stdio(name: str, *flags: str) -> McpServerEntry:
    return McpServerEntry(
        name=name, source="config", config=StdioServerConfig(command=sys.executable, args=[DEMO, *flags])
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


async def open_bench(
    workspace: Path, brain, entries: list[McpServerEntry], **timeouts: float
) -> tuple[Engine, McpManager]:
    config = Config(
        bundles=workspace.parent / "bundles",
        fsync="never",
        permissions=PermissionsConfig(allow=["mcp__demo__*", "mcp__web"]),
    )
    bench = await Engine.open(config, workspace, brain)
    manager = McpManager(entries, cwd=workspace, registry=bench.services.tools, **timeouts)
    manager.start()
    await manager.settled()
    return bench, manager


def script(tmp_path: Path, *turns: dict) -> ScriptedBrain:
    path = tmp_path / "script.yaml"
    path.write_text(yaml.safe_dump(list(turns)))
    return ScriptedBrain(path)


def results(bench: Engine) -> list[ToolResult]:
    return [e for e in bench.events if isinstance(e, ToolResult)]


async def test_a_stdio_server_tool_is_offered_with_its_schema_and_called_in_a_turn(workspace: Path) -> None:
    replies = [
        Reply(tool_calls=[FakeToolCall(name="mcp__demo__add", input={"a": 2, "b": 3})]),
        Reply(text="2 + 3 = 5"),
    ]
    async with FakeAnthropicServer(*replies) as api:
        brain = AnthropicBrain("claude-sonnet-4-6", base_url=api.base_url, api_key="k")
        bench, manager = await open_bench(workspace, brain, [stdio("demo")])
        try:
            assert await ask(bench, "add 2 and 3") == "2 + 3 = 5"
        finally:
            await manager.close()
            await bench.close()
        offered = {tool["name"]: tool for tool in api.message_requests[0].body["tools"]}
    add = offered["mcp__demo__add"]
    assert add["description"] == "Add two integers."
    assert add["input_schema"]["required"] == ["a", "b"]
    assert add["input_schema"]["properties"]["a"]["type"] == "integer"
    assert {"Read", "mcp__demo__sleep"} <= set(offered)
    [result] = results(bench)
    assert result.name == "mcp__demo__add" and result.content == "5" and not result.is_error


async def test_only_tools_the_user_marks_read_only_run_unasked(workspace: Path, tmp_path: Path) -> None:
    brain = script(
        tmp_path,
        {
            "tool_use": [
                {"name": "mcp__demo__add", "input": {"a": 1, "b": 2}},
                {"name": "mcp__demo__sleep", "input": {"seconds": 0}},
            ]
        },
        "done",
    )
    config = Config(bundles=workspace.parent / "bundles", fsync="never")  # no allow rule: the mode decides
    bench = await Engine.open(config, workspace, brain)
    asked = Answers(bench, "deny").asked
    settings = McpSettings(read_only=["mcp__demo__add"])
    manager = McpManager(
        [stdio("demo")], cwd=workspace, registry=bench.services.tools, read_only=settings.marks_read_only
    )
    manager.start()
    await manager.settled()
    try:
        kinds = {t.name: t.kind for t in manager.tools()}
        assert kinds["mcp__demo__add"] == "read"  # the user's word
        assert kinds["mcp__demo__sleep"] == "exec"
        await ask(bench, "go")
    finally:
        await manager.close()
        await bench.close()
    by_name = {r.name: r for r in results(bench)}
    added, slept = by_name["mcp__demo__add"], by_name["mcp__demo__sleep"]
    assert added.content == "3" and not added.is_error
    assert [a.tool for a in asked] == ["mcp__demo__sleep"]  # only the one that may change things asked
    assert slept.is_error and "denied" in slept.content


async def test_a_tool_claiming_to_be_read_only_cannot_write_in_plan_mode(workspace: Path, tmp_path: Path) -> None:
    target = workspace / "planted.txt"
    brain = script(
        tmp_path, {"tool_use": [{"name": "mcp__liar__note", "input": {"path": str(target), "text": "x"}}]}, "done"
    )
    config = Config(
        bundles=workspace.parent / "bundles",
        fsync="never",
        permissions=PermissionsConfig(mode="plan", allow=["mcp__liar__*"]),
    )
    bench = await Engine.open(config, workspace, brain)
    liar = McpServerEntry(name="liar", source="config", config=StdioServerConfig(command=sys.executable, args=[LIAR]))
    manager = McpManager([liar], cwd=workspace, registry=bench.services.tools)
    manager.start()
    await manager.settled()
    try:
        [note] = manager.tools()
        assert note.claims_read_only and note.kind == "exec"  # readOnlyHint alone counts for nothing
        await ask(bench, "go")
    finally:
        await manager.close()
        await bench.close()
    [result] = results(bench)
    assert result.is_error and "Plan mode forbids" in result.content
    assert not target.exists()


def test_read_only_marks_are_mcp_tool_names() -> None:
    settings = McpSettings(read_only=["mcp__a__x", "mcp__b__*", "mcp__c"])
    assert [
        settings.marks_read_only(n) for n in ("mcp__a__x", "mcp__a__y", "mcp__b__z", "mcp__c__w", "mcp__cc__w")
    ] == [
        True,
        False,
        True,
        True,
        False,
    ]
    with pytest.raises(ValueError, match="not an MCP tool name"):
        McpSettings(read_only=["Read"])


@pytest.fixture
async def http_server() -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, DEMO, "--http", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        assert line.startswith("listening on "), line
        yield line.removeprefix("listening on ").strip(), process
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def test_a_streamable_http_server_tool_is_called_in_a_turn(
    workspace: Path, tmp_path: Path, http_server: tuple[str, asyncio.subprocess.Process]
) -> None:
    url, process = http_server
    assert url.startswith("http://127.0.0.1:")
    brain = script(
        tmp_path,
        {"tool_use": {"name": "mcp__web__add", "input": {"a": 20, "b": 22}}},
        "done",
        {"tool_use": {"name": "mcp__web__add", "input": {"a": 1, "b": 1}}},
        "gone",
    )
    web = McpServerEntry(name="web", source="config", config=HttpServerConfig(url=url))
    bench, manager = await open_bench(workspace, brain, [web])
    try:
        assert manager.servers["web"].status.state == "ready"
        await ask(bench, "add")
        assert results(bench)[-1].content == "42" and not results(bench)[-1].is_error
        process.kill()
        await process.wait()
        assert await ask(bench, "add again") == "gone"
        assert results(bench)[-1].is_error and "The MCP server web is not available" in results(bench)[-1].content
        assert manager.servers["web"].status.state == "failed"
    finally:
        await manager.close()
        await bench.close()


async def test_servers_that_cannot_start_are_failed_with_the_reason_and_the_rest_run(
    workspace: Path, tmp_path: Path
) -> None:
    missing = McpServerEntry(name="missing", source="config", config=StdioServerConfig(command="/no/such/server"))
    brain = script(tmp_path, {"tool_use": {"name": "mcp__demo__add", "input": {"a": 1, "b": 1}}}, "done")
    changes: list[McpServerStatus] = []
    bench, manager = await open_bench(workspace, brain, [missing, stdio("crashy", "--crash-on-start"), stdio("demo")])
    manager.on_change = changes.append
    try:
        status = {s.name: s for s in manager.statuses()}
        assert status["missing"].state == "failed" and "command not found: /no/such/server" in status["missing"].error
        assert status["crashy"].state == "failed"
        assert "closed the connection" in status["crashy"].error
        assert "demo: cannot start (as asked)" in status["crashy"].error  # the server's stderr is quoted
        assert status["demo"].state == "ready" and status["demo"].tools == ["add", "fail", "sleep", "die"]
        assert not any(name.startswith("mcp__crashy") for name in bench.services.tools.names)
        await ask(bench, "add")
        assert results(bench)[-1].content == "2"
        assert (await manager.restart("missing")).state == "failed"
        assert [c.state for c in changes] == ["starting", "failed"]
    finally:
        await manager.close()
        await bench.close()


async def test_a_server_that_dies_mid_session_is_a_tool_error_until_restarted(workspace: Path, tmp_path: Path) -> None:
    brain = script(
        tmp_path,
        {"tool_use": {"name": "mcp__demo__die", "input": {}}},
        {"tool_use": {"name": "mcp__demo__add", "input": {"a": 1, "b": 2}}},
        "it died",
        {"tool_use": {"name": "mcp__demo__add", "input": {"a": 1, "b": 2}}},
        "back",
    )
    bench, manager = await open_bench(workspace, brain, [stdio("demo")])
    try:
        await ask(bench, "die")
        died, after = results(bench)
        assert died.is_error and "The MCP server demo is not available" in died.content
        assert after.is_error and "until it is restarted" in after.content
        assert manager.servers["demo"].status.state == "failed"
        assert bench.primary.state == "idle"
        assert (await manager.restart("demo")).state == "ready"
        assert await ask(bench, "again") == "back"
        assert results(bench)[-1].content == "3" and not results(bench)[-1].is_error
    finally:
        await manager.close()
        await bench.close()


async def test_a_server_that_hangs_at_start_fails_and_a_hanging_call_times_out(workspace: Path, tmp_path: Path) -> None:
    brain = script(
        tmp_path,
        {"tool_use": {"name": "mcp__demo__sleep", "input": {"seconds": 3600}}},
        {"tool_use": {"name": "mcp__demo__fail", "input": {"message": "bad input"}}},
        {"tool_use": {"name": "mcp__demo__add", "input": {"a": "x"}}},
        "survived",
    )
    # the demo server has all the time a busy machine needs to start; only the stuck one is timed out
    bench, manager = await open_bench(workspace, brain, [stdio("demo")], startup_timeout_s=120, call_timeout_s=2)
    stuck_manager = McpManager([stdio("stuck", "--hang-on-start")], cwd=workspace, startup_timeout_s=1)
    stuck_manager.start()
    await stuck_manager.settled()
    try:
        stuck = stuck_manager.servers["stuck"].status
        assert stuck.state == "failed" and stuck.error == "did not start within 1 s"
        assert await ask(bench, "sleep") == "survived"
        timed_out, raised, invalid = results(bench)
        assert timed_out.is_error and "timed out: sleep did not answer within 2 s" in timed_out.content
        assert manager.servers["demo"].status.state == "ready"
        assert manager.servers["demo"].status.error == "sleep did not answer within 2 s"
        assert raised.is_error and "fail" in raised.content  # the server's own error result
        assert invalid.is_error and "validation error" in invalid.content
    finally:
        await stuck_manager.close()
        await manager.close()
        await bench.close()


def test_mcp_json_has_claude_codes_shape_with_variables_and_bad_entries_kept(tmp_path: Path) -> None:
    (tmp_path / ".mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "files": {
                        "command": "npx",
                        "args": ["-y", "files-server", "${ROOT:-/srv}"],
                        "env": {"TOKEN": "${TOKEN}"},
                    },
                    "remote": {"type": "http", "url": "https://example.com/mcp", "headers": {"X-Key": "k"}},
                    "typo": {"comand": "x"},
                    "sse": {"type": "sse", "url": "https://example.com/sse"},
                }
            }
        )
    )
    entries = {e.name: e for e in project_entries(tmp_path)}
    assert isinstance(entries["files"].config, StdioServerConfig)
    assert isinstance(entries["remote"].config, HttpServerConfig) and entries["remote"].config.headers == {"X-Key": "k"}
    assert entries["typo"].config is None and "command" in entries["typo"].problem
    assert entries["sse"].config is None and "type must be 'stdio'" in entries["sse"].problem
    settings = McpSettings.model_validate({"servers": {"remote": {"command": "local-remote"}}})
    merged = {e.name: e for e in merge_entries(list(entries.values()), settings)}
    assert merged["remote"].source == "config" and isinstance(merged["remote"].config, StdioServerConfig)
    files = entries["files"].config
    assert isinstance(files, StdioServerConfig)
    assert expanded(files, {"TOKEN": "t"}).args[-1] == "/srv"
    assert expanded(files, {"TOKEN": "t", "ROOT": "/r"}).args[-1] == "/r"
    assert expanded(files, {"TOKEN": "t"}).env == {"TOKEN": "t"}
    with pytest.raises(McpConfigError, match="TOKEN is not set"):
        expanded(files, {})


async def test_an_unset_variable_fails_only_that_server(workspace: Path) -> None:
    entry = McpServerEntry(
        name="needs",
        source="config",
        config=StdioServerConfig(command=sys.executable, args=[DEMO], env={"K": "${NOT_SET_ANYWHERE}"}),
    )
    manager = McpManager([entry], cwd=workspace, environ={})
    manager.start()
    await manager.settled()
    assert (
        manager.servers["needs"].status.error == "McpConfigError: the environment variable NOT_SET_ANYWHERE is not set"
    )


async def test_mcp_ls_prints_each_server_its_status_and_its_tools(tmp_path: Path) -> None:
    (tmp_path / ".mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "demo": {"command": sys.executable, "args": [DEMO]},
                    "broken": {"command": "/no/such/server"},
                }
            }
        )
    )
    out = io.StringIO()
    assert await list_servers(McpSettings(), tmp_path, out) == 1
    text = out.getvalue()
    assert "demo  ready  stdio  (.mcp.json)" in text
    assert "  mcp__demo__add  Add two integers." in text
    assert "broken  failed  stdio  (.mcp.json)\n    command not found: /no/such/server" in text

    (tmp_path / ".mcp.json").write_text("{not json")
    out = io.StringIO()
    assert await list_servers(McpSettings(), tmp_path, out) == 1
    assert ".mcp.json: cannot be read" in out.getvalue() and NO_SERVERS in out.getvalue()
