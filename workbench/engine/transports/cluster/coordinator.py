"""The coordinator: the session host (``workbench serve --cluster``) whose cluster agents run on workers.

For each session it hosts, a ``ClusterSession`` is the engine's ``ClusterSide``: a spawn that
goes to the cluster gets a ``RemoteAgent`` stand-in, whose announcement (spawn, task, placement)
opens the run's log on the stream and whose run is queued as a run order; the mirror copies
every run's log into the session's bundle, where the views, the screens and the stand-ins hear
it. A command for a cluster agent goes to the worker holding its run (request and reply on the
run's command subject); when none holds it (it waits in the queue, or its worker was lost) the
coordinator writes what the command does into the run's log itself — a pause, a prompt — and the
worker that takes the run finds it there. The cluster becoming unreachable, and reachable again,
is an event in every session, so the screens show it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS
from nats.errors import ConnectionClosedError, NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.errors import APIError
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

from workbench.engine.config import ClusterConfig
from workbench.engine.engine import Engine, new_prompt_id
from workbench.engine.runtime.agent import Agent, AgentSpec
from workbench.engine.runtime.supervisor import SpawnRefused
from workbench.engine.transports.cluster.checkout import snapshot_repo
from workbench.engine.transports.cluster.connection import ClusterError, connect, shown_url
from workbench.engine.transports.cluster.heartbeat import WorkerBeat, workers
from workbench.engine.transports.cluster.layout import (
    command_subject,
    ensure_streams,
    events_subject,
    files_bucket,
    policy_subject,
    run_subject,
    workers_bucket,
)
from workbench.engine.transports.cluster.mirror import COORDINATOR_MSG_ID, Mirror
from workbench.engine.transports.cluster.orders import RepoSnapshot, RunOrder
from workbench.engine.transports.cluster.run_log import (
    EXPECTED_LAST_SUBJECT_SEQUENCE,
    MSG_ID,
    OUT_OF_REACH,
    WRONG_LAST_SEQUENCE,
    encoded,
)
from workbench.log.redact import Redactor
from workbench.protocol.commands import (
    AddRule,
    Answer,
    Approve,
    Cancel,
    Close,
    Command,
    Commit,
    Compact,
    DecideDelegation,
    DecidePlan,
    Discard,
    HandResult,
    Interrupt,
    KeepBranch,
    Merge,
    Orchestrate,
    Outcome,
    Pause,
    Prime,
    Reduce,
    Rename,
    RestartMcp,
    RestoreFiles,
    Resume,
    Send,
    SetMode,
    SetSpendCap,
    Spawn,
    StopShell,
)
from workbench.protocol.events import (
    FINAL_STATES,
    AgentFinished,
    AgentPlaced,
    AssistantMessage,
    ClusterStatus,
    Event,
    EventBase,
    ModeChanged,
    PatchStored,
    PauseChanged,
    PromptQueued,
    RuleAdded,
    Status,
)
from workbench.protocol.signals import Live

log = logging.getLogger(__name__)

COMMAND_TIMEOUT_S = 15.0
SLOW_COMMAND_TIMEOUT_S = 180.0  # compaction and priming ask the worker's brain
WRITE_TIMEOUT_S = 10.0
MAX_RUNS_PER_SUBJECT = 10077  # the server's error code: the run is queued or held already
PATCHES_DIR = "patches"


class RunBusy(Exception):
    """Someone wrote into the run's log meanwhile (a worker took it): the command goes to that worker."""


class Coordinator:
    """The daemon's connection to the cluster, shared by the sessions it hosts."""

    def __init__(self, settings: ClusterConfig) -> None:
        self.settings = settings
        self.url = shown_url(settings.url or "")
        self.nc: NATS | None = None
        self.sessions: dict[str, ClusterSession] = {}
        self.connected = False
        self._files: ObjectStore | None = None
        self._workers: KeyValue | None = None

    @property
    def js(self) -> JetStreamContext:
        assert self.nc is not None, "the coordinator is not started"
        return self.nc.jetstream()

    @property
    def files(self) -> ObjectStore:
        assert self._files is not None, "the coordinator is not started"
        return self._files

    async def start(self) -> None:
        """Connect (ClusterRefused, ClusterUnreachable: why not) and make what the cluster needs."""
        self.nc = await connect(
            self.settings,
            name=f"workbench-coordinator-{socket.gethostname()}-{os.getpid()}",
            on_disconnected=self._lost,
            on_reconnected=self._back,
        )
        self.connected = True
        await ensure_streams(self.js, self.settings.ack_wait_s)
        self._files = await files_bucket(self.js)
        self._workers = await workers_bucket(self.js, ttl_s=self.settings.heartbeat_s * 5)

    async def close(self) -> None:
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.close()

    def for_session(self, engine: Engine) -> ClusterSession:
        side = ClusterSession(self, engine)
        self.sessions[engine.session.id] = side
        return side

    async def workers(self) -> list[WorkerBeat]:
        if self._workers is None or not self.connected:
            return []
        return await workers(self._workers)

    async def _lost(self) -> None:
        self.connected = False
        for side in list(self.sessions.values()):
            side.status("unreachable", "the cluster's agents wait where they are until it is back")

    async def _back(self) -> None:
        self.connected = True
        for side in list(self.sessions.values()):
            side.status("connected", "the cluster's agents go on")


class ClusterSession:
    """One hosted session's side of the cluster (the engine's ``ClusterSide``)."""

    def __init__(self, coordinator: Coordinator, engine: Engine) -> None:
        self.coordinator = coordinator
        self.engine = engine
        self.session = engine.session
        self.mirror = Mirror(coordinator.js, engine.session, self._root_of)
        self.redact = Redactor()
        self._published: dict[str, int] = {}  # per run: the stream sequence of our last write into it
        self._nonce = secrets.token_hex(4)
        self._writes = 0
        self._repo: RepoSnapshot | None = None
        self._repo_taken = False
        self._repo_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unsubscribe: Callable[[], None] = lambda: None

    # ---------------------------------------------------------------- ClusterSide

    @property
    def workspace(self) -> str:
        return f"a checkout of {self.engine.cwd.name} (the session's repository) on a worker of the cluster"

    def remote_agent(self, spec: AgentSpec) -> Agent:
        return RemoteAgent(spec, self.engine.services, self)

    def restored(self, agent: Agent) -> Agent | None:
        run = self.engine.view.placements.run_of(agent.id)
        if run is None:
            return agent
        if run.root != agent.id:
            return None
        stand_in = RemoteAgent(agent.spec, self.engine.services, self)
        stand_in.state, stand_in.result, stand_in.answered = agent.state, agent.result, agent.answered
        if agent.paused:
            stand_in.pause()
        return stand_in

    async def start(self) -> None:
        await self.mirror.start()
        self._unsubscribe = self.engine.subscribe(self._heard)
        placements = self.engine.view.placements
        if self.coordinator.connected and (placements.cluster_state, placements.cluster_url) != (
            "connected",
            self.coordinator.url,
        ):
            self.status("connected", "background and delegated agents run on its workers")

    async def close(self) -> None:
        self._unsubscribe()
        await self.mirror.stop()
        for task in list(self._tasks):
            task.cancel()
        self.coordinator.sessions.pop(self.session.id, None)

    async def route(self, command: Command) -> Outcome | None:
        target = self._target(command)
        placements = self.engine.view.placements
        if target is None or not placements.remote(target):
            return None
        run = placements.run_of(target)
        assert run is not None
        if isinstance(command, (Cancel, HandResult)):
            if isinstance(self.engine.agent(target), RemoteAgent):
                return None  # the engine's own handler, through the stand-in
            if isinstance(command, HandResult):
                return Outcome.refused(f"{target} runs inside {run.root}'s run: its result goes to its parent.")
        for _ in range(3):
            outcome = await self.forward(run.root, command)
            if outcome is not None:
                return outcome
            try:
                return await self._unheld(run.root, target, command)
            except RunBusy:
                await asyncio.sleep(0.2)
        return Outcome.refused(f"{target}'s run is changing hands; try again in a moment.")

    # ---------------------------------------------------------------- runs

    async def write(self, root: str, event: Event) -> Event:
        """Write into a run's log (no worker holds it): the session's copy, once mirrored."""
        if not self.coordinator.connected:
            raise ClusterError(f"the cluster at {self.coordinator.url} is unreachable")
        self._writes += 1
        headers = {
            MSG_ID: f"{COORDINATOR_MSG_ID}{self._nonce}.{self._writes}",
            EXPECTED_LAST_SUBJECT_SEQUENCE: str(max(self.mirror.last_seq.get(root, 0), self._published.get(root, 0))),
        }
        data = encoded(event.model_copy(update={"session": self.session.id}), self.redact)
        try:
            ack = await self.coordinator.js.publish(
                events_subject(self.session.id, root), data, timeout=WRITE_TIMEOUT_S, headers=headers
            )
        except APIError as exc:
            if exc.err_code == WRONG_LAST_SEQUENCE:
                raise RunBusy(root) from None
            raise ClusterError(f"the cluster refused {event.kind} for {root}: {exc.description}") from None
        except OUT_OF_REACH as exc:
            raise ClusterError(f"the cluster at {self.coordinator.url} did not answer ({type(exc).__name__})") from None
        self._published[root] = ack.seq
        return await self.mirror.written(ack.seq)

    async def order(self, agent: RemoteAgent) -> None:
        """Queue the agent's run for the workers, unless it waits or runs already."""
        order = RunOrder.of(
            self.session.id,
            agent.id,
            str(self.engine.cwd),
            self.engine.config,
            self.engine.view.policy.rules,
            await self._snapshot(),
        )
        headers = {MSG_ID: f"run.{self.session.id}.{agent.id}.{secrets.token_hex(4)}"}
        while True:
            try:
                await self.coordinator.js.publish(
                    run_subject(self.session.id, agent.id), order.model_dump_json().encode(), headers=headers
                )
                return
            except APIError as exc:
                if exc.err_code == MAX_RUNS_PER_SUBJECT:
                    return
                raise
            except OUT_OF_REACH:
                await asyncio.sleep(0.5)  # the cluster is away: the run is ordered when it is back

    async def _snapshot(self) -> RepoSnapshot | None:
        async with self._repo_lock:
            if not self._repo_taken:
                self._repo = await snapshot_repo(self.engine.cwd, self.coordinator.files)
                self._repo_taken = True
            return self._repo

    async def forward(self, root: str, command: Command) -> Outcome | None:
        """The command carried out by the worker holding the run; None when no worker holds it."""
        if not self.coordinator.connected:
            return Outcome.refused(
                f"The cluster at {self.coordinator.url} is unreachable; {root} waits where it is until it is back."
            )
        slow = isinstance(command, (Compact, Prime, Spawn, DecideDelegation))
        timeout = SLOW_COMMAND_TIMEOUT_S if slow else COMMAND_TIMEOUT_S
        assert self.coordinator.nc is not None
        try:
            reply = await self.coordinator.nc.request(
                command_subject(self.session.id, root), command.model_dump_json().encode(), timeout=timeout
            )
        except NoRespondersError:
            return None
        except (TimeoutError, NatsTimeout):
            return Outcome.refused(f"The worker holding {root} did not answer within {timeout:g} s.")
        except ConnectionClosedError:
            return Outcome.refused(f"The cluster at {self.coordinator.url} is unreachable.")
        if not reply.data:  # the worker is letting the run go
            return None
        return Outcome.model_validate_json(reply.data)

    async def _unheld(self, root: str, target: str, command: Command) -> Outcome:
        """What the coordinator does itself for a run no worker holds (it waits for one)."""
        stand_in = self.engine.agent(root)
        row = self.engine.view.roster.get(target)
        waiting = f"{target} waits for a worker of the cluster"
        if target != root or not isinstance(stand_in, RemoteAgent) or row is None:
            return Outcome.refused(f"{waiting} (its run is between workers); try again once one has taken it.")
        match command:
            case Send():
                await self.write(root, PromptQueued(agent=root, prompt_id=new_prompt_id(), text=command.text))
                if stand_in.state in FINAL_STATES:
                    self.engine.supervisor.revive(stand_in)  # its run is ordered again, the prompt goes with it
                return Outcome(agent=root)
            case Pause():
                if row.paused:
                    return Outcome.refused(f"{root} is paused already.")
                await self.write(root, PauseChanged(agent=root, paused=True))
                return Outcome(agent=root)
            case Resume():
                if not row.paused:
                    return Outcome.refused(f"{root} is not paused.")
                await self.write(root, PauseChanged(agent=root, paused=False))
                return Outcome(agent=root)
            case _:
                return Outcome.refused(f"{waiting}; try again once one has taken it.")

    async def cancel(self, agent: RemoteAgent) -> None:
        """The person cancelled a cluster agent: its worker cancels it, or its log records it cancelled."""
        for _ in range(3):
            try:
                outcome = await self.forward(agent.id, Cancel(agent=agent.id))
                if outcome is not None:
                    return
                await agent.finish_unstarted()
                return
            except RunBusy:
                await asyncio.sleep(0.2)
            except ClusterError as exc:
                log.warning("%s could not be cancelled: %s", agent.id, exc)
                return

    # ---------------------------------------------------------------- what the session hears

    def status(self, state: str, detail: str) -> None:
        if self.engine.closed:
            return
        event = ClusterStatus(state="connected" if state == "connected" else "unreachable", url=self.coordinator.url)
        self._follow(self.session.append(event.model_copy(update={"detail": detail})))

    def _heard(self, item: Event | Live) -> None:
        if not isinstance(item, EventBase):
            return
        stand_in = self.engine.supervisor.agents.get(item.agent)
        if isinstance(stand_in, RemoteAgent):
            stand_in.heard(item)
        if isinstance(item, (ModeChanged, RuleAdded)):  # the workers follow the session's policy
            self._follow(self._publish_policy(item))
        elif isinstance(item, PatchStored):
            self._follow(self._keep_patch(item))

    async def _publish_policy(self, event: Event) -> None:
        data = encoded(event, self.redact)
        for _ in range(20):
            try:
                await self.coordinator.js.publish(policy_subject(self.session.id), data)
                return
            except OUT_OF_REACH:
                await asyncio.sleep(0.5)

    async def _keep_patch(self, event: PatchStored) -> None:
        """A copy of a cluster agent's patch beside the session's log, where ``workbench patch`` finds it."""
        found = await self.coordinator.files.get(event.object)
        folder = self.session.folder / PATCHES_DIR
        folder.mkdir(mode=0o700, exist_ok=True)
        path = patch_path(self.session.folder, event.agent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(found.data or b"")

    def _root_of(self, agent_id: str) -> str | None:
        run = self.engine.view.placements.run_of(agent_id)
        return run.root if run is not None else None

    def _target(self, command: Command) -> str | None:
        pending = self.engine.view.pending
        match command:
            case Spawn():
                return command.parent if command.mode == "delegated" else None
            case Approve():
                asked = pending.approvals.get(command.request_id)
                return asked.agent if asked is not None else None
            case Answer():
                question = pending.questions.get(command.request_id)
                return question.agent if question is not None else None
            case (
                Send()
                | Interrupt()
                | Cancel()
                | Pause()
                | Resume()
                | Compact()
                | Reduce()
                | Prime()
                | HandResult()
                | DecideDelegation()
            ):
                return command.agent
            case DecidePlan():
                plan = pending.plans.get(command.request_id)
                return plan.agent if plan is not None else None
            case StopShell():
                shell = self.engine.view.shells.rows.get(command.shell_id)
                return shell.agent if shell is not None else None
            case (
                Orchestrate()
                | SetMode()
                | AddRule()
                | Rename()
                | RestartMcp()
                | Close()
                | SetSpendCap()  # caps are kept here, where every run's usage is mirrored
                | Merge()  # a cluster agent's work comes back as a patch, never as a worktree here
                | Discard()
                | KeepBranch()
                | Commit()
                | RestoreFiles()
            ):
                return None

    def _follow(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("session %s: %s", self.session.id, task.exception())


def patch_path(session_folder: Path, agent: str) -> Path:
    return session_folder / PATCHES_DIR / f"{agent}.patch"


class RemoteAgent(Agent):
    """The coordinator's stand-in for a cluster agent: what it appends goes into its run's log on the
    stream; it follows the run through the events mirrored back, and ends when the run's agent does."""

    remote = True

    def __init__(self, spec: AgentSpec, services: Any, side: ClusterSession) -> None:
        super().__init__(spec, services)
        self.side = side
        self._ended = asyncio.Event()

    async def append(self, event: Event) -> Event:
        return await self.side.write(self.id, event.model_copy(update={"agent": self.id}))

    async def announce(self, primed: Any = None) -> None:
        try:
            await super().announce(primed)
            await self.append(AgentPlaced(workspace=self.side.workspace))
            await self.set_state("queued", "waiting for a worker of the cluster")
        except ClusterError as exc:
            raise SpawnRefused(f"Refused: {exc}.") from None

    async def run(self) -> str:
        self.started = True
        self._ended.clear()
        try:
            while not self._ended.is_set():  # ordered again should the order be gone with the agent not ended
                await self.side.order(self)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._ended.wait(), self.side.coordinator.settings.ack_wait_s)
        except asyncio.CancelledError:
            if not self.closing:  # stopping the host leaves cluster agents running; cancelling ends them
                await asyncio.shield(self.side.cancel(self))
            raise
        self._settled.set()
        return self.result

    def heard(self, event: Event) -> None:
        """An event of this agent's run, once in the session's bundle."""
        match event:
            case Status():
                self.state = event.state
            case AgentFinished():
                self.state, self.result = event.state, event.result or self.result
                self._ended.set()
            case AssistantMessage():
                self.result = "".join(b.text for b in event.content if b.type == "text") or self.result
            case PauseChanged():
                self.pause() if event.paused else self.resume()
            case _:
                pass
