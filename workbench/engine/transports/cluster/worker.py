"""``workbench worker``: takes cluster agents' runs from the work queue and runs them here.

A worker pulls at most ``slots`` runs at once from the queue's one durable consumer (shared by
every worker: each run goes to exactly one), holds each as a :class:`HeldRun`, and says it is
alive in the workers bucket every ``heartbeat_s``. Its brain is its own — the API key in its
environment never leaves this machine. Stopped (SIGTERM, SIGINT), it gives its runs back to the
queue at once; killed, its runs go to the other workers once the ack wait has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.errors import FetchTimeoutError
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore
from pydantic import ValidationError

from workbench.brains.base import Brain
from workbench.engine.brain_factory import choose_brain, make_brain
from workbench.engine.config import Config
from workbench.engine.context.tokens import TokenCounter, default_counter
from workbench.engine.transports.cluster.checkout import Checkouts
from workbench.engine.transports.cluster.connection import connect
from workbench.engine.transports.cluster.heartbeat import WorkerBeat, beat, forget
from workbench.engine.transports.cluster.held_run import HeldRun
from workbench.engine.transports.cluster.layout import (
    RUNS_STREAM,
    WORKERS_CONSUMER,
    ensure_streams,
    files_bucket,
    workers_bucket,
)
from workbench.engine.transports.cluster.orders import RunOrder
from workbench.engine.transports.cluster.run_log import OUT_OF_REACH
from workbench.log.redact import Redactor
from workbench.protocol.brain_io import BrainEvent, BrainRequest

log = logging.getLogger(__name__)

FETCH_WAIT_S = 1.0
RETRY_FAILED_RUN_S = 1.0  # a run that failed here is offered again after this, not after the ack wait


def default_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def default_workdir(name: str, environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "workbench" / "workers" / name


class SharedBrain:
    """The worker's one brain, lent to every run it holds: a run that ends does not close it."""

    def __init__(self, brain: Brain) -> None:
        self.inner = brain
        self.name = brain.name
        self.model = brain.model

    @property
    def label(self) -> str:
        return self.inner.label

    def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        return self.inner.stream(request)

    async def aclose(self) -> None:
        """The worker closes the brain when it stops."""


class Worker:
    def __init__(
        self,
        config: Config,
        *,
        name: str,
        slots: int,
        workdir: Path,
        brain: Brain | None = None,
        counter: TokenCounter | None = None,
    ) -> None:
        self.config = config
        self.name = name
        self.slots = slots
        self.workdir = workdir
        self.checkouts = Checkouts(workdir)
        self.redact = Redactor()  # masks this machine's secrets (its API key) in every event it sends
        self.counter = counter or default_counter()
        self._own_brain = brain
        self.brain: SharedBrain | None = None
        self.nc: NATS | None = None
        self._files: ObjectStore | None = None
        self._beats: KeyValue | None = None
        self.runs: dict[str, HeldRun] = {}
        self.started = datetime.now(UTC)
        self._freed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def js(self) -> JetStreamContext:
        assert self.nc is not None, "the worker is not connected"
        return self.nc.jetstream()

    @property
    def files(self) -> ObjectStore:
        assert self._files is not None, "the worker is not connected"
        return self._files

    async def connect(self) -> None:
        """Connect (ClusterRefused, ClusterUnreachable: why not), make what is missing, start the brain."""
        self.nc = await connect(self.config.cluster, name=f"workbench-worker-{self.name}")
        await ensure_streams(self.js, self.config.cluster.ack_wait_s)
        self._files = await files_bucket(self.js)
        self._beats = await workers_bucket(self.js, ttl_s=self.config.cluster.heartbeat_s * 5)
        brain = self._own_brain
        if brain is None:
            brain = await asyncio.to_thread(make_brain, choose_brain(self.config), self.config)
        self.brain = SharedBrain(brain)
        self.workdir.mkdir(parents=True, exist_ok=True, mode=0o700)

    async def serve(self) -> None:
        """Take runs until stopped (``stop``, SIGTERM, SIGINT)."""
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(number, self._stopping.set)
        beating = asyncio.create_task(self._beat())
        pulling = asyncio.create_task(self._pull())
        try:
            await self._stopping.wait()
        finally:
            pulling.cancel()
            beating.cancel()
            await asyncio.gather(pulling, beating, return_exceptions=True)
            await self._close()

    def stop(self) -> None:
        self._stopping.set()

    async def _pull(self) -> None:
        subscription = await self.js.pull_subscribe_bind(durable=WORKERS_CONSUMER, stream=RUNS_STREAM)
        while True:
            free = self.slots - len(self.runs)
            if free <= 0:
                self._freed.clear()
                await self._freed.wait()
                continue
            try:
                messages = await subscription.fetch(batch=free, timeout=FETCH_WAIT_S)
            except (TimeoutError, FetchTimeoutError, NatsTimeout):
                continue
            except OUT_OF_REACH:
                await asyncio.sleep(FETCH_WAIT_S)
                continue
            for message in messages:
                self._take(message)

    def _take(self, message: Msg) -> None:
        try:
            order = RunOrder.model_validate_json(message.data)
        except ValidationError as exc:
            log.warning("a run order that cannot be read was dropped: %s", exc.errors()[0]["msg"])
            asyncio.ensure_future(message.term())
            return
        run = HeldRun(self, message, order)
        self.runs[run.name] = run
        task = asyncio.create_task(self._hold(run), name=f"run-{run.name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _hold(self, run: HeldRun) -> None:
        try:
            await run.serve()
        except Exception:  # one run's failure never reaches another: it is taken again, soon, here or elsewhere
            log.exception("run %s failed on this worker", run.name)
            with contextlib.suppress(Exception):  # the server is away: the ack wait hands it on all the same
                await run.message.nak(delay=RETRY_FAILED_RUN_S)
        finally:
            self.runs.pop(run.name, None)
            self._freed.set()

    async def _beat(self) -> None:
        host = socket.gethostname()
        while True:
            if self._beats is not None:
                now = datetime.now(UTC)
                heartbeat = WorkerBeat(
                    name=self.name,
                    host=host,
                    pid=os.getpid(),
                    slots=self.slots,
                    running=len(self.runs),
                    started=self.started,
                    beat=now,
                )
                try:
                    await beat(self._beats, heartbeat)
                except Exception as exc:  # the server is away: the next beat goes through
                    log.debug("heartbeat: %s", exc)
            await asyncio.sleep(self.config.cluster.heartbeat_s)

    async def _close(self) -> None:
        for run in list(self.runs.values()):
            await run.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._beats is not None:
            with contextlib.suppress(Exception):
                await forget(self._beats, self.name)
        if self.brain is not None:
            await self.brain.inner.aclose()
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.close()
