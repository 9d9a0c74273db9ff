"""A cluster as a user runs it, every part its own process: ``nats-server -js`` (token auth), the fake
Messages API, the coordinator (``workbench serve --cluster``) and workers (``workbench worker``).

Used by the fleet tests and by ``benchmarks/bench_cluster.py``. The workers hold the API key (their
environment); the coordinator has none.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import nats
from nats.js.errors import NotFoundError

from tests.daemon_helpers import connected
from tests.nats_server import NatsServer
from workbench.engine.context.fold import fold
from workbench.engine.transports import wire
from workbench.engine.transports.cluster.layout import EVENTS_STREAM, session_events
from workbench.engine.transports.cluster.mirror import untoken
from workbench.engine.transports.cluster.run_log import decoded, read_subjects
from workbench.engine.transports.daemon_client import DaemonClient
from workbench.engine.transports.locations import socket_path
from workbench.engine.views.placements import Placements
from workbench.log.bundle import BundleStore
from workbench.protocol.events import Event

REPO = Path(__file__).resolve().parent.parent


class Fleet:
    def __init__(self, root: Path, *, ack_wait_s: float = 3.0, slots: int = 8) -> None:
        self.root = root
        self.token = secrets.token_hex(8)
        self.api_key = f"sk-ant-api03-{secrets.token_urlsafe(40)}"  # what the workers hold, and nothing else
        self.server = NatsServer(root / "jetstream", args=["--auth", self.token])
        self.store = root / "store"
        self.slots = slots
        self.runtime = Path(tempfile.mkdtemp(prefix="wbf-"))  # the daemon's socket: a short path
        self.base_env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "WORKBENCH_"))}
        self.base_env["PYTHONPATH"] = str(REPO)
        self.coordinator: subprocess.Popen[bytes] | None = None
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.api: subprocess.Popen[str] | None = None
        self.api_url = ""
        cluster = f"[cluster]\nack_wait_s = {ack_wait_s}\nheartbeat_s = 0.5\n"
        self._config("coordinator", f'brain = "scripted"\nfsync = "never"\n[permissions]\nmode = "bypass"\n'
                     f"[limits]\nconcurrency = 2000\n{cluster}")  # fmt: skip
        self._config("worker", cluster)

    def _config(self, who: str, text: str) -> None:
        folder = self.root / f"{who}-config" / "workbench"
        folder.mkdir(parents=True)
        (folder / "config.toml").write_text(text)

    def url(self, token: str | None = None) -> str:
        return f"nats://{token or self.token}@127.0.0.1:{self.server.port}"

    @property
    def socket(self) -> Path:
        return socket_path(self.store, {"XDG_RUNTIME_DIR": str(self.runtime)})

    # ---------------------------------------------------------------- the parts

    def start_api(self, *args: str) -> None:
        """The fake Messages API, with ``python -m tests.fake_api``'s arguments (a responder, a pace)."""
        self.api = subprocess.Popen(
            [sys.executable, "-m", "tests.fake_api", *args],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=self.base_env,
        )
        assert self.api.stdout is not None
        self.api_url = self.api.stdout.readline().strip().rsplit(" ", 1)[-1]

    async def start_coordinator(self, workspace: Path) -> subprocess.Popen[bytes]:
        env = self.base_env | {
            "XDG_CONFIG_HOME": str(self.root / "coordinator-config"),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "WORKBENCH_BUNDLES": str(self.store),
        }
        log = open(self.root / "coordinator.log", "ab")  # noqa: SIM115  (closed with the process)
        self.coordinator = subprocess.Popen(
            [sys.executable, "-m", "workbench", "serve", "--cluster", self.url()],
            env=env,
            cwd=workspace,
            stderr=log,
        )
        (await connected(self.socket, self.coordinator)).writer.close()
        return self.coordinator

    def start_worker(self, name: str, *, token: str | None = None, slots: int | None = None) -> subprocess.Popen[bytes]:
        env = self.base_env | {
            "XDG_CONFIG_HOME": str(self.root / "worker-config"),
            "XDG_CACHE_HOME": str(self.root / "cache"),
            "ANTHROPIC_API_KEY": self.api_key,
            "ANTHROPIC_BASE_URL": self.api_url,
        }
        argv = ["worker", "--cluster", self.url(token), "--slots", str(slots or self.slots), "--name", name]
        log = open(self.worker_log(name), "ab")  # noqa: SIM115  (closed with the process)
        process = subprocess.Popen(
            [sys.executable, "-m", "workbench", *argv, "--workdir", str(self.root / "workers" / name)],
            env=env,
            cwd=self.root,
            stderr=log,
        )
        self.workers[name] = process
        return process

    def worker_log(self, name: str) -> Path:
        return self.root / f"worker-{name}.log"

    async def client(self, workspace: Path) -> DaemonClient:
        """A screen on a new session of the coordinator."""
        connection = await connected(self.socket, self.coordinator)  # type: ignore[arg-type]
        info = await connection.request(wire.OpenSession(cwd=str(workspace)))
        await connection.close()
        return await DaemonClient.attach(self.socket, info["session_id"])

    async def workers_listed(self) -> dict[str, Any]:
        connection = await connected(self.socket, self.coordinator)  # type: ignore[arg-type]
        try:
            return dict(await connection.request(wire.ListWorkers()))
        finally:
            await connection.close()

    def ps(self) -> str:
        """``workbench ps`` as the user types it, beside the coordinator."""
        env = self.base_env | {"XDG_RUNTIME_DIR": str(self.runtime), "WORKBENCH_BUNDLES": str(self.store)}
        done = subprocess.run(
            [sys.executable, "-m", "workbench", "ps"], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def kill(self, name: str) -> None:
        process = self.workers.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in [*self.workers.values(), self.coordinator, self.api]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers.values(), self.coordinator, self.api]:
            if process is not None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.server.stop()


def git_repository(folder: Path) -> Path:
    """A session's folder that is a small git repository (the workers check it out for each agent)."""
    folder.mkdir()
    (folder / "README.md").write_text("# Kite\n\nKite flies small models.\n")
    for args in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "kite"]):
        subprocess.run(["git", *args], cwd=folder, check=True)
    return folder


# ---------------------------------------------------------------- what the stream and the bundle hold


async def stream_messages(
    url: str, stream: str = EVENTS_STREAM, subjects: list[str] | None = None
) -> list[tuple[str, int, bytes]]:
    client = await nats.connect(url)
    try:
        return await read_subjects(client.jetstream(), subjects or [">"], stream=stream)
    finally:
        await client.close()


async def stored_bytes(url: str, stream: str) -> list[bytes]:
    """Every message a stream holds now (headers and data), whatever kind of stream it is."""
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        state = (await js.stream_info(stream)).state
        found = []
        for seq in range(state.first_seq, state.last_seq + 1):
            try:
                message = await js.get_msg(stream, seq)
            except NotFoundError:
                continue
            found.append(repr(message.headers).encode() + (message.data or b""))
        return found
    finally:
        await client.close()


async def runs_on_stream(url: str, session: str) -> dict[str, list[Event]]:
    """Each run's log as the stream holds it, by the agent the run was placed for."""
    runs: dict[str, list[Event]] = defaultdict(list)
    for subject, seq, data in await stream_messages(url, subjects=[session_events(session)]):
        runs[untoken(subject.rsplit(".", 1)[-1])].append(decoded(data, seq))
    return runs


async def runs_in_bundle(store: Path, session: str) -> tuple[list[Event], dict[str, list[Event]]]:
    """The session's events, and each run's events among them (in the bundle's order)."""
    contents = await BundleStore(store).read(session)
    assert not contents.problems, contents.problems
    placements = Placements()
    for event in contents.events:
        placements.apply(event)
    runs: dict[str, list[Event]] = defaultdict(list)
    for event in contents.events:
        run = placements.run_of(event.agent)
        if run is not None:
            runs[run.root].append(event)
    return contents.events, runs


def comparable(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json", exclude={"seq", "session"})


async def events_lost(url: str, store: Path, session: str) -> int:
    """How many events the stream holds for the session's runs that its bundle does not (in order)."""
    _, in_bundle = await runs_in_bundle(store, session)
    lost = 0
    for root, stored in (await runs_on_stream(url, session)).items():
        mirrored = [comparable(e) for e in in_bundle.get(root, [])]
        wanted = [comparable(e) for e in stored]
        lost += len(wanted) - sum(1 for a, b in zip(wanted, mirrored) if a == b)
    return lost


async def assert_mirrored_once_in_order(url: str, store: Path, session: str) -> list[Event]:
    """Every event of every run is in the session's bundle exactly once, in the stream's order, with the
    session's seq 1, 2, 3 …; each cluster agent's log folds into a context."""
    events, in_bundle = await runs_in_bundle(store, session)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    on_stream = await runs_on_stream(url, session)
    assert set(in_bundle) == set(on_stream)
    for root, stored in on_stream.items():
        assert [comparable(e) for e in in_bundle[root]] == [comparable(e) for e in stored], root
    for agent in {e.agent for run in in_bundle.values() for e in run}:
        mine = [e for e in events if e.agent == agent]
        assert fold(mine, agent=agent).messages, agent
    return events


async def wait_for(condition: Any, what: str, timeout_s: float = 120.0) -> None:
    """A safety net for conditions no event reports (a process's exit): poll with a generous deadline."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
