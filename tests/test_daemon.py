"""The daemon: two real clients over the socket, attach mid-run, first approval wins, detach, crash and restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.daemon_helpers import connected, until
from workbench.engine.config import Config
from workbench.engine.transports import wire
from workbench.engine.transports.daemon import Daemon, DaemonRunning
from workbench.engine.transports.daemon_client import Connection, DaemonClient
from workbench.protocol.commands import Approve, Send, Spawn
from workbench.protocol.events import ApprovalDecided, ToolResult


@pytest.fixture
def short_dir() -> AsyncIterator[Path]:
    """Unix socket paths must stay short: a fresh folder right under /tmp."""
    folder = Path(tempfile.mkdtemp(prefix="wbd-"))
    yield folder


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "README.md").write_text("# Kite\n\nKite flies small models.\n")
    return ws


def config_for(store: Path) -> Config:
    return Config(brain="scripted", bundles=store, fsync="always", scripted_delay_s=0)


@pytest.fixture
async def daemon(short_dir: Path, tmp_path: Path) -> AsyncIterator[Daemon]:
    config = config_for(tmp_path / "store")
    running = Daemon(config, tmp_path / "store", socket=short_dir / "d.sock")
    await running.start()
    yield running
    await running.stop()


async def opened(daemon: Daemon, workspace: Path) -> str:
    connection = await Connection.open(daemon.socket)
    info = await connection.request(wire.OpenSession(cwd=str(workspace)))
    await connection.close()
    return str(info["session_id"])


async def test_two_clients_see_the_same_events_and_the_first_answer_wins(daemon: Daemon, workspace: Path) -> None:
    session = await opened(daemon, workspace)
    first = await DaemonClient.attach(daemon.socket, session)
    outcome = await first.submit(Send(text="run `ls`"))
    assert outcome.ok
    await until(first, lambda: bool(first.view.pending.approvals))

    # a second screen attaches mid-run: it catches up from the log and sees the same request waiting
    second = await DaemonClient.attach(daemon.socket, session)
    assert [e.seq for e in second.events] == [e.seq for e in first.events]
    assert set(second.view.pending.approvals) == set(first.view.pending.approvals)
    request_id = next(iter(first.view.pending.approvals))

    answers = await asyncio.gather(
        first.submit(Approve(request_id=request_id, choice="allow_once")),
        second.submit(Approve(request_id=request_id, choice="deny")),
    )
    assert sorted(a.ok for a in answers) == [False, True]
    assert "no longer waiting" in next(a.message for a in answers if not a.ok)

    for client in (first, second):
        await until(client, lambda c=client: c.view.roster.rows["primary"].state == "idle")  # type: ignore[misc]
    assert [e.seq for e in first.events] == [e.seq for e in second.events]
    decided = [e for e in first.events if isinstance(e, ApprovalDecided)]
    assert len(decided) == 1 and decided[0].choice == "allow_once"
    result = next(e for e in first.events if isinstance(e, ToolResult))
    assert "README.md" in result.content
    await first.leave("detach")
    await second.leave("detach")


async def test_detaching_leaves_agents_running_and_a_waiting_one_waits(daemon: Daemon, workspace: Path) -> None:
    session = await opened(daemon, workspace)
    client = await DaemonClient.attach(daemon.socket, session)
    spawned = await client.submit(Spawn(mode="background", task="run `ls`"))
    assert spawned.ok and spawned.agent == "agent-1"
    await until(client, lambda: bool(client.view.pending.approvals))
    await client.leave("detach")

    # nobody attached: the agent waits in awaiting_approval, as `workbench ps` shows
    listing = await Connection.open(daemon.socket)
    sessions = await listing.request(wire.ListSessions())
    await listing.close()
    (live,) = sessions
    assert live["clients"] == 0
    assert {a["id"]: a["state"] for a in live["agents"]}["agent-1"] == "awaiting_approval"
    costs = {a["id"]: a["cost"] for a in live["agents"]}
    assert live["cost"] == costs["agent-1"] == "n/a" and costs["primary"] == "$0.00"  # the offline brain has no price

    again = await DaemonClient.attach(daemon.socket, session[:18])  # a prefix will do
    (request_id,) = again.view.pending.approvals
    assert (await again.submit(Approve(request_id=request_id, choice="allow_once"))).ok
    await until(again, lambda: again.view.roster.rows["agent-1"].state == "done")
    await again.leave("detach")


async def test_a_malformed_line_gets_an_error_and_the_daemon_goes_on(daemon: Daemon) -> None:
    reader, writer = await asyncio.open_unix_connection(str(daemon.socket))
    for bad in (b"not json at all\n", b'{"req": "submit", "id": 1, "session": "x", "command": {"op": "fly"}}\n'):
        writer.write(bad)
        await writer.drain()
        answer = json.loads(await reader.readline())
        assert "error" in answer and "not a request" in answer["error"]
    writer.write(b'{"req": "hello", "id": 7}\n')
    await writer.drain()
    hello = json.loads(await reader.readline())
    assert hello["reply"] == 7 and hello["ok"] and hello["data"]["pid"] == os.getpid()
    writer.close()


async def test_a_second_daemon_on_the_same_store_refuses(daemon: Daemon, short_dir: Path, tmp_path: Path) -> None:
    second = Daemon(config_for(tmp_path / "store"), tmp_path / "store", socket=short_dir / "other.sock")
    with pytest.raises(DaemonRunning, match=f"pid {os.getpid()}"):
        await second.start()


async def test_sigkill_loses_no_acknowledged_event_and_the_restart_resumes(
    short_dir: Path, tmp_path: Path, workspace: Path
) -> None:
    store = tmp_path / "store"
    env = {**os.environ, "XDG_RUNTIME_DIR": str(short_dir), "WORKBENCH_BUNDLES": str(store)}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")

    def serve() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "workbench", "--brain", "scripted", "serve"],
            env=env,
            cwd=workspace,
            stderr=subprocess.PIPE,
        )

    from workbench.engine.transports.locations import socket_path

    path = socket_path(store, env)
    process = serve()
    try:
        connection = await connected(path, process)
        info = await connection.request(wire.OpenSession(cwd=str(workspace)))
        await connection.close()
        client = await DaemonClient.attach(path, info["session_id"])
        assert (await client.submit(Send(text="read README.md"))).ok
        await until(client, lambda: client.view.roster.rows["primary"].state == "idle" and len(client.events) > 8)
        assert (await client.submit(Spawn(mode="background", task="run `ls`"))).ok
        await until(client, lambda: bool(client.view.pending.approvals))
        seen = [e.model_dump(mode="json") for e in client.events]
        process.send_signal(signal.SIGKILL)
        process.wait()
        await client.leave("detach")

        process = serve()
        connection = await connected(path, process)
        assert [s["session"] for s in await connection.request(wire.ListSessions())] == [info["session_id"]]
        await connection.close()
        back = await DaemonClient.attach(path, info["session_id"])
        # every event a client saw was acknowledged, hence written: all of them are there, in order
        assert [e.model_dump(mode="json") for e in back.events[: len(seen)]] == seen
        (request_id,) = back.view.pending.approvals  # the agent waits on the same request again
        assert (await back.submit(Approve(request_id=request_id, choice="allow_once"))).ok
        await until(back, lambda: back.view.roster.rows["agent-1"].state == "done")
        await back.leave("detach")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
