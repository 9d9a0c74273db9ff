"""The cluster as a user runs it: a real ``nats-server -js``, a coordinator and workers, each its own process,
agents streaming from the fake Messages API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.cluster_fleet import Fleet, assert_mirrored_once_in_order, git_repository, stored_bytes, wait_for
from tests.daemon_helpers import until
from workbench.engine.context.fold import INTERRUPTED_RESULT
from workbench.engine.transports.cluster.layout import EVENTS_STREAM, FILES_BUCKET, RUNS_STREAM, WORKERS_BUCKET
from workbench.protocol.commands import Spawn
from workbench.protocol.events import AgentPlaced, ClusterStatus, Error, PermissionDecision, ToolResult

AGENTS = 60


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[Fleet]:
    running = Fleet(tmp_path)
    running.server.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    return git_repository(tmp_path / "ws")


async def test_sixty_agents_on_three_workers_finish_and_a_killed_worker_loses_nothing(
    fleet: Fleet, repository: Path
) -> None:
    fleet.start_api("--responder", "tests.cluster_responders:fleet")
    await fleet.start_coordinator(repository)
    for name in ("w1", "w2", "w3"):
        fleet.start_worker(name)
    client = await fleet.client(repository)
    placements = client.view.placements

    for i in range(AGENTS):
        outcome = await client.submit(Spawn(mode="background", task=f"job {i}"))
        assert outcome.ok, outcome.message

    # w1 is killed while it holds runs that are streaming: they go to the other workers after the ack wait
    def w1_busy() -> bool:
        rows = client.view.roster.rows
        return any(placements.worker(a) == "w1" and rows[a].state == "thinking" for a in rows)

    await until(client, w1_busy)
    on_w1 = {
        a for a in client.view.roster.rows if placements.worker(a) == "w1" and not client.view.roster.rows[a].ended
    }
    fleet.kill("w1")

    agents = [a for a in client.view.roster.rows if a != "primary"]
    assert len(agents) == AGENTS
    await until(client, lambda: all(client.view.roster.rows[a].finished for a in agents))
    assert {client.view.roster.rows[a].state for a in agents} == {"done"}

    # every run w1 held and had not finished was taken up by another worker, from its log
    resumed = {a for a in on_w1 if placements.worker(a) in ("w2", "w3")}
    assert resumed == on_w1 and resumed
    for agent in resumed:
        placed = [e for e in client.events_of(agent) if isinstance(e, AgentPlaced) and e.worker]
        assert [p.worker for p in placed][0] == "w1" and placed[-1].attempt >= 2

    # ps: each agent with the worker that ran it; the live workers with their slots, load and heartbeat
    listing = fleet.ps()
    assert f"cluster nats://127.0.0.1:{fleet.server.port} (connected): 2 workers" in listing
    assert fleet.token not in listing
    for name in ("w2", "w3"):
        line = next(line for line in listing.splitlines() if line.strip().startswith(name))
        assert "slots 8" in line and "running 0" in line and "load   0%" in line and "s ago" in line
    assert sum("@w" in line for line in listing.splitlines()) == AGENTS

    session = client.session_id
    await client.leave("detach")
    events = await assert_mirrored_once_in_order(fleet.url(), fleet.store, session)

    # the key the workers hold was read by every agent, and reached no stream, object or bundle
    results = [e for e in events if isinstance(e, ToolResult)]
    assert len({e.agent for e in results}) == AGENTS and all("[REDACTED]" in e.content for e in results)
    key = fleet.api_key.encode()
    for stream in (EVENTS_STREAM, RUNS_STREAM, f"KV_{WORKERS_BUCKET}", f"OBJ_{FILES_BUCKET}"):
        stored = await stored_bytes(fleet.url(), stream)
        assert stored or stream == RUNS_STREAM, stream  # every run was acknowledged, so the queue is empty
        assert not any(key in data for data in stored), stream
    assert key not in (fleet.store / session / "events.jsonl").read_bytes()


async def test_the_fleet_waits_visibly_while_the_server_is_down_and_goes_on_when_it_is_back(
    fleet: Fleet, repository: Path
) -> None:
    fleet.start_api("--responder", "tests.cluster_responders:slow")
    await fleet.start_coordinator(repository)
    fleet.start_worker("w1")
    fleet.start_worker("w2")
    client = await fleet.client(repository)
    for i in range(12):
        assert (await client.submit(Spawn(mode="background", task=f"long job {i}"))).ok
    await until(client, lambda: sum(r.state == "thinking" for r in client.view.roster.rows.values()) >= 6)

    fleet.server.stop()
    await until(client, lambda: client.view.placements.unreachable)
    down = next(e for e in reversed(client.events) if isinstance(e, ClusterStatus))
    assert down.state == "unreachable" and "wait" in down.detail and fleet.token not in down.url
    assert not all(r.ended for a, r in client.view.roster.rows.items() if a != "primary")
    listed = await fleet.workers_listed()
    assert listed["connected"] is False

    fleet.server.start()  # the same port, the same stored streams
    await until(client, lambda: client.view.placements.cluster_state == "connected")
    agents = [a for a in client.view.roster.rows if a != "primary"]
    await until(client, lambda: all(client.view.roster.rows[a].finished for a in agents))
    failures = [e for e in client.events if isinstance(e, Error)]
    assert {client.view.roster.rows[a].state for a in agents} == {"done"}, failures
    session = client.session_id
    await client.leave("detach")
    await assert_mirrored_once_in_order(fleet.url(), fleet.store, session)


async def test_a_worker_with_a_wrong_token_is_refused_with_a_clear_message(fleet: Fleet) -> None:
    fleet.start_api("--responder", "tests.cluster_responders:fleet")
    worker = fleet.start_worker("intruder", token="not-the-token")
    await wait_for(lambda: worker.poll() is not None, "the refused worker to exit", 60)
    assert worker.returncode == 1
    message = fleet.worker_log("intruder").read_text()
    assert "refused the credentials" in message and "Authorization Violation" in message
    assert "not-the-token" not in message and fleet.token not in message  # credentials are never printed
    await asyncio.sleep(0)


async def test_a_tool_call_cut_short_by_a_lost_worker_is_recorded_interrupted_never_run_again(
    fleet: Fleet, repository: Path
) -> None:
    fleet.start_api("--responder", "tests.cluster_responders:long_tool")
    await fleet.start_coordinator(repository)
    fleet.start_worker("w1")
    client = await fleet.client(repository)
    assert (await client.submit(Spawn(mode="background", task="wait for the build"))).ok
    rows = client.view.roster.rows
    # the call is allowed (in the log): its command runs on w1 when w1 is killed
    await until(client, lambda: any(isinstance(e, PermissionDecision) for e in client.events_of("agent-1")))
    fleet.kill("w1")
    fleet.start_worker("w2")
    await until(client, lambda: bool(rows["agent-1"].finished))
    (result,) = [e for e in client.events_of("agent-1") if isinstance(e, ToolResult)]
    assert result.is_error and result.content == INTERRUPTED_RESULT and "finished" not in result.content
    assert rows["agent-1"].state == "done" and client.view.placements.worker("agent-1") == "w2"
    await client.leave("detach")
