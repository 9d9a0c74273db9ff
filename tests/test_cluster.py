"""Cluster agents driven from a screen: a real ``nats-server -js``; the coordinator and the workers in this
process, their brain the real Anthropic client against the fake Messages API."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest

from tests.cluster_fleet import assert_mirrored_once_in_order, git_repository, wait_for
from tests.cluster_responders import by_task
from tests.daemon_helpers import until
from tests.fake_api import FakeAnthropicServer
from tests.nats_server import NatsServer
from workbench.brains.anthropic import AnthropicBrain
from workbench.engine.config import ClusterConfig, Config, PermissionsConfig
from workbench.engine.transports import wire
from workbench.engine.transports.cluster.coordinator import Coordinator, patch_path
from workbench.engine.transports.cluster.layout import EVENTS_STREAM, ensure_streams, events_subject
from workbench.engine.transports.cluster.run_log import RunLost, RunWriter, read_subjects
from workbench.engine.transports.cluster.worker import Worker
from workbench.engine.transports.daemon import Daemon
from workbench.engine.transports.daemon_client import Connection, DaemonClient
from workbench.frontends.cli.cluster import show_patch
from workbench.protocol.commands import Approve, Cancel, Interrupt, Pause, Resume, Send, Spawn
from workbench.protocol.events import (
    AgentPlaced,
    ApprovalRequested,
    ChildResult,
    PatchStored,
    PauseChanged,
    PromptQueued,
    RuleAdded,
    Status,
    ToolResult,
    UserMessage,
)


class Cluster:
    """A server, the fake API, a coordinator (the daemon) and workers, all but the server in this loop."""

    def __init__(self, root: Path, server: NatsServer, api: FakeAnthropicServer) -> None:
        self.root = root
        self.server = server
        self.api = api
        self.socket = Path(tempfile.mkdtemp(prefix="wbk-")) / "d.sock"
        self.daemon: Daemon | None = None
        self.workers: dict[str, tuple[Worker, asyncio.Task[None]]] = {}
        self.mode = "default"

    def config(self) -> Config:
        return Config(
            brain="scripted",
            bundles=self.root / "store",
            fsync="never",
            scripted_delay_s=0,
            permissions=PermissionsConfig(mode=self.mode),  # type: ignore[arg-type]
            cluster=ClusterConfig(url=self.server.url, ack_wait_s=5, heartbeat_s=0.5),
        )

    async def start_daemon(self) -> Daemon:
        config = self.config()
        self.daemon = Daemon(config, config.bundles, socket=self.socket, coordinator=Coordinator(config.cluster))  # type: ignore[arg-type]
        await self.daemon.start()
        return self.daemon

    async def start_worker(self, name: str) -> Worker:
        brain = AnthropicBrain("claude-sonnet-4-6", base_url=self.api.base_url, api_key="sk-ant-api03-test")
        worker = Worker(self.config(), name=name, slots=4, workdir=self.root / name, brain=brain)
        await worker.connect()
        self.workers[name] = (worker, asyncio.create_task(worker.serve()))
        return worker

    async def stop_worker(self, name: str) -> None:
        worker, serving = self.workers.pop(name)
        worker.stop()
        await serving

    async def client(self, workspace: Path) -> DaemonClient:
        connection = await Connection.open(self.socket)
        info = await connection.request(wire.OpenSession(cwd=str(workspace)))
        await connection.close()
        return await DaemonClient.attach(self.socket, info["session_id"])

    async def stop(self) -> None:
        for name in list(self.workers):
            await self.stop_worker(name)
        if self.daemon is not None:
            await self.daemon.stop()


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    with NatsServer(tmp_path / "jetstream") as server:
        async with FakeAnthropicServer(responder=by_task) as api:
            running = Cluster(tmp_path, server, api)
            try:
                yield running
            finally:
                await running.stop()


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    return git_repository(tmp_path / "ws")


def state(client: DaemonClient, agent: str) -> str:
    row = client.view.roster.rows.get(agent)
    return row.state if row is not None else ""


async def test_a_cluster_agent_asks_the_screen_and_the_answer_goes_back_to_its_worker(
    cluster: Cluster, repository: Path
) -> None:
    await cluster.start_daemon()
    await cluster.start_worker("w1")
    client = await cluster.client(repository)
    spawned = await client.submit(Spawn(mode="background", task="run ls"))
    assert spawned.ok and spawned.agent == "agent-1"

    await until(client, lambda: bool(client.view.pending.approvals))
    (request_id,) = client.view.pending.approvals
    assert client.view.placements.worker("agent-1") == "w1" and state(client, "agent-1") == "awaiting_approval"
    answers = await asyncio.gather(  # two screens answer at once: the worker's engine lets the first win
        client.submit(Approve(request_id=request_id, choice="allow_always")),
        client.submit(Approve(request_id=request_id, choice="deny")),
    )
    assert [a.ok for a in answers] == [True, False] and "waiting" in answers[1].message

    await until(client, lambda: state(client, "agent-1") == "done")
    result = next(e for e in client.events_of("agent-1") if isinstance(e, ToolResult))
    assert "README.md" in result.content  # it ran in its checkout of the repository
    assert any(isinstance(e, RuleAdded) and e.rule == "Bash(ls:*)" for e in client.events)

    # the rule is the session's now: the next cluster agent's run carries it, and nothing asks
    assert (await client.submit(Spawn(mode="background", task="run ls"))).ok
    await until(client, lambda: state(client, "agent-2") == "done")
    assert not any(isinstance(e, ApprovalRequested) for e in client.events_of("agent-2"))
    await client.leave("detach")


async def test_pause_resume_interrupt_and_cancel_reach_the_worker_holding_the_run(
    cluster: Cluster, repository: Path
) -> None:
    await cluster.start_daemon()
    await cluster.start_worker("w1")
    client = await cluster.client(repository)
    for i in range(3):
        assert (await client.submit(Spawn(mode="background", task=f"slow job {i}"))).ok
    agents = ["agent-1", "agent-2", "agent-3"]
    await until(client, lambda: all(state(client, a) == "thinking" for a in agents))

    assert (await client.submit(Pause(agent="agent-1"))).ok
    assert not (await client.submit(Pause(agent="agent-1"))).ok  # the worker's engine: paused already
    assert (await client.submit(Cancel(agent="agent-2"))).ok
    assert (await client.submit(Interrupt(agent="agent-3"))).ok
    await until(client, lambda: state(client, "agent-2") == "cancelled" and state(client, "agent-3") == "cancelled")
    await until(client, lambda: state(client, "agent-1") == "paused")  # after the reply it was streaming

    assert (await client.submit(Send(agent="agent-1", text="and one more thing"))).ok  # it waits, paused
    assert (await client.submit(Resume(agent="agent-1"))).ok
    await until(client, lambda: state(client, "agent-1") == "done")
    said = [e.text for e in client.events_of("agent-1") if isinstance(e, UserMessage)]
    assert said == ["slow job 0", "and one more thing"]
    await client.leave("detach")


async def test_a_waiting_run_is_paused_and_prompted_by_the_coordinator_and_its_worker_finds_it_so(
    cluster: Cluster, repository: Path
) -> None:
    await cluster.start_daemon()
    client = await cluster.client(repository)
    assert (await client.submit(Spawn(mode="background", task="slow and steady"))).ok
    await until(client, lambda: state(client, "agent-1") == "queued")
    assert not (await client.submit(Interrupt(agent="agent-1"))).ok  # nothing runs yet

    # no worker holds the run: the coordinator writes the pause and the prompt into its log
    assert (await client.submit(Pause(agent="agent-1"))).ok
    assert (await client.submit(Send(agent="agent-1", text="then this"))).ok
    await until(client, lambda: any(isinstance(e, PromptQueued) for e in client.events_of("agent-1")))
    assert client.view.roster.rows["agent-1"].paused

    await cluster.start_worker("w1")
    await until(client, lambda: state(client, "agent-1") == "paused" and client.view.placements.worker("agent-1"))
    assert not any(isinstance(e, Status) and e.state == "thinking" for e in client.events_of("agent-1"))
    assert (await client.submit(Resume(agent="agent-1"))).ok
    await until(client, lambda: state(client, "agent-1") == "done")
    said = [e.text for e in client.events_of("agent-1") if isinstance(e, UserMessage)]
    assert said == ["slow and steady", "then this"]

    # a finished cluster agent sent a message works again: its run is ordered anew
    assert (await client.submit(Send(agent="agent-1", text="one last question"))).ok
    await until(client, lambda: len([e for e in client.events_of("agent-1") if isinstance(e, UserMessage)]) == 3)
    await until(client, lambda: state(client, "agent-1") == "done")
    await client.leave("detach")


async def test_what_an_agent_changed_comes_back_as_a_patch_the_user_applies(cluster: Cluster, repository: Path) -> None:
    cluster.mode = "bypass"
    daemon = await cluster.start_daemon()
    await cluster.start_worker("w1")
    client = await cluster.client(repository)
    assert (await client.submit(Spawn(mode="background", task="write notes/plan.md: fly the kite"))).ok
    await until(client, lambda: any(isinstance(e, PatchStored) for e in client.events_of("agent-1")))
    stored = next(e for e in client.events_of("agent-1") if isinstance(e, PatchStored))
    assert stored.files == ["notes/plan.md"] and stored.bytes > 0
    assert not (repository / "notes").exists()  # the user's folder is untouched until the patch is applied

    folder = daemon.store.folder(client.session_id)
    await wait_for(lambda: patch_path(folder, "agent-1").is_file(), "the coordinator's copy of the patch", 30)
    config = cluster.config()
    assert await show_patch(config, client.session_id, "agent-1", apply=True) == 0
    assert (repository / "notes" / "plan.md").read_text() == "fly the kite"
    await client.leave("detach")


async def test_a_coordinator_stopped_mid_run_mirrors_on_from_where_it_was(cluster: Cluster, repository: Path) -> None:
    await cluster.start_daemon()
    await cluster.start_worker("w1")
    client = await cluster.client(repository)
    session = client.session_id
    for i in range(3):
        assert (await client.submit(Spawn(mode="background", task=f"slow job {i}"))).ok
    await until(client, lambda: state(client, "agent-1") == "thinking")
    await client.leave("detach")
    assert cluster.daemon is not None
    await cluster.daemon.stop()  # the agents go on at the worker meanwhile

    await cluster.start_daemon()
    again = await DaemonClient.attach(cluster.socket, session)
    await until(again, lambda: all(again.view.roster.rows[f"agent-{i}"].finished for i in (1, 2, 3)))
    await again.leave("detach")
    await assert_mirrored_once_in_order(cluster.server.url, cluster.root / "store", session)


async def test_a_worker_given_up_for_lost_cannot_write_into_the_run_it_held(cluster: Cluster) -> None:
    client = await nats.connect(cluster.server.url)
    js = client.jetstream()
    await ensure_streams(js, ack_wait_s=5)
    old = RunWriter(js, "s1", "agent-1", last_seq=0, folder=cluster.root)
    await old.start()
    first = await old.append(AgentPlaced(agent="agent-1", worker="old"))

    new = RunWriter(js, "s1", "agent-1", last_seq=first.seq, folder=cluster.root)  # took the run over
    await new.start()
    await new.append(AgentPlaced(agent="agent-1", worker="new", attempt=2))
    with pytest.raises(RunLost, match="taken over"):
        await old.append(PauseChanged(agent="agent-1", paused=True))
    with pytest.raises(RunLost):
        old.submit(PauseChanged(agent="agent-1", paused=False))
    await new.append(PauseChanged(agent="agent-1", paused=True))  # the new holder goes on
    messages = await js.get_last_msg("WORKBENCH_EVENTS", events_subject("s1", "agent-1"))
    assert b'"paused":true' in (messages.data or b"")
    await old.close()
    await new.close()
    await client.close()


async def test_spawns_go_where_their_placement_says(cluster: Cluster, repository: Path, tmp_path: Path) -> None:
    agents_dir = repository / ".workbench" / "agents"
    agents_dir.mkdir(parents=True)
    (agents_dir / "homebody.md").write_text("---\nname: homebody\nplacement: local\n---\nStay here.\n")
    await cluster.start_daemon()
    await cluster.start_worker("w1")
    client = await cluster.client(repository)
    assert (await client.submit(Spawn(mode="background", task="hello there"))).ok
    assert (await client.submit(Spawn(mode="background", task="hi here", placement="local"))).ok
    assert (await client.submit(Spawn(mode="background", task="hi typed", agent_type="homebody"))).ok
    await until(client, lambda: all(state(client, f"agent-{i}") == "done" for i in (1, 2, 3)))
    placements = client.view.placements
    assert [placements.remote(f"agent-{i}") for i in (1, 2, 3)] == [True, False, False]
    assert placements.worker("agent-1") == "w1"
    await client.leave("detach")


async def test_a_delegated_agent_runs_on_the_cluster_and_its_summary_comes_back_to_the_primary(
    cluster: Cluster, repository: Path
) -> None:
    await cluster.start_daemon()
    await cluster.start_worker("w1")
    client = await cluster.client(repository)
    delegated = await client.submit(Spawn(mode="delegated", task="summarise the kite"))
    assert delegated.ok and delegated.agent == "agent-1"
    await until(client, lambda: any(isinstance(e, ChildResult) for e in client.events_of("primary")))
    result = next(e for e in client.events_of("primary") if isinstance(e, ChildResult))
    assert result.child == "agent-1" and not result.is_error and "summarise the kite" in result.summary
    assert client.view.placements.worker("agent-1") == "w1"
    await client.leave("detach")


async def test_reading_runs_leaves_no_consumer_behind(tmp_path: Path) -> None:
    """Each read of a run's log makes a consumer: it goes with the read, or a burst of runs taken at once
    (a thousand agents on one worker) reaches the server's limit and their runs fail."""
    with NatsServer(tmp_path / "jetstream") as server:
        connection = await nats.connect(server.url)
        try:
            js = connection.jetstream()
            await ensure_streams(js, ack_wait_s=30.0)
            await js.publish(events_subject("s1", "agent-1"), b"{}")
            for _ in range(20):
                found = await read_subjects(js, [events_subject("s1", "agent-1")])
                assert len(found) == 1
            assert await js.consumers_info(EVENTS_STREAM) == []
        finally:
            await connection.close()
