"""A run a worker holds: the agent it was placed for (and the sub-agents it starts), taken up from its log.

Taking a run: read its log from the stream; a run whose agent has ended (and owes nothing) is
acknowledged and left. Otherwise the worker makes the agent's checkout (the session's repository
at its commit, with the run's last patch), claims the run — its ``agent_placed`` is the next event
of the log, written only if nobody else wrote meanwhile — and brings the agents back in the state
the log left them, exactly as a resumed session does: a tool call that had started is answered
as interrupted, never run again. While the agent works the worker keeps the run's message alive;
the message is acknowledged once the agent has ended and its patch is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError
from pydantic import BaseModel, ValidationError

from workbench.engine.engine import Engine
from workbench.engine.transports.cluster.checkout import CheckoutError, Workspace, digest
from workbench.engine.transports.cluster.layout import EVENTS_STREAM, command_subject, patch_object, policy_subject
from workbench.engine.transports.cluster.orders import RunOrder
from workbench.engine.transports.cluster.run_log import (
    OUT_OF_REACH,
    RETRY_WAIT_S,
    RunContents,
    RunLost,
    RunWriter,
    decoded,
    read_run,
)
from workbench.engine.views.roster import Roster
from workbench.log.bundle import BundleError, BundleStore
from workbench.log.bus import EventBus
from workbench.log.session import Session
from workbench.protocol.commands import Outcome, command_adapter
from workbench.protocol.events import FINAL_STATES, AgentFinished, AgentPlaced, Error, PatchStored, Status
from workbench.tools.base import Tool, ToolContext, ToolOutput
from workbench.tools.registry import ToolRegistry

if TYPE_CHECKING:
    from workbench.engine.transports.cluster.worker import Worker

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # a run lost on this many workers fails instead of taking a sixth one down
CLAIM_TRIES = 20


class HeldRun:
    def __init__(self, worker: Worker, message: Msg, order: RunOrder) -> None:
        self.worker = worker
        self.message = message
        self.order = order
        self.js: JetStreamContext = worker.js
        self.engine: Engine | None = None
        self.writer: RunWriter | None = None
        self.workspace: Workspace | None = None
        self.lost = asyncio.Event()
        self.stopping = False
        self.letting_go = False  # the agent has ended: commands from now on go back to the coordinator
        self._subscriptions: list[Any] = []

    @property
    def name(self) -> str:
        return f"{self.order.session}/{self.order.agent}"

    async def serve(self) -> None:
        keep_alive = asyncio.create_task(self._keep_alive())
        try:
            await self._take_up()
        except RunLost as exc:
            log.info("%s: %s", self.name, exc)
        finally:
            keep_alive.cancel()
            await self._let_go()

    async def stop(self) -> None:
        """The worker stops: the agents stop where they are and the run goes back to the queue at once."""
        self.stopping = True
        if self.engine is not None:
            await self.engine.close("stop")
        with contextlib.suppress(Exception):
            await self.message.nak()

    # ---------------------------------------------------------------- taking the run up

    async def _take_up(self) -> None:
        """Serve the run until its log shows nothing more to do (a prompt sent as the agent ended is
        in the log by then: the run is taken up again for it), then acknowledge it."""
        order = self.order
        while not self.stopping:
            contents = await self._read()
            attempt = _placements_since_it_ended(contents) + 1
            if _owes_nothing(contents, order.agent):
                await self.message.ack()
                return
            if self.workspace is None:
                self.workspace = await self.worker.checkouts.prepare(
                    order.session, order.agent, order.repo, self.worker.files
                )
                if any(isinstance(e, AgentPlaced) and e.worker for e in contents.events):  # it worked before
                    await self._restore_files(self.workspace)
            writer, contents = await self._claim(contents, attempt, self.workspace)
            if attempt > MAX_ATTEMPTS:
                await self._give_up(writer, attempt)
                return
            engine = self._engine(writer, contents, self.workspace)
            self.letting_go = False
            await self._listen(engine, contents)
            await self._until_ended(engine)
            self.letting_go = True
            await self._stop_listening()
            await engine.wait_all()  # what a command set going before the listening stopped
            if self.stopping:
                return
            await self._store_patch(final=True)
            await engine.close("stop")
            if await self._nothing_since(writer):
                await self.message.ack()
                return

    async def _read(self) -> RunContents:
        """The run's log; while the server is away, once it is back."""
        for attempt in itertools.count():
            try:
                return await read_run(self.js, self.order.session, self.order.agent)
            except OUT_OF_REACH:
                await asyncio.sleep(RETRY_WAIT_S[min(attempt, len(RETRY_WAIT_S) - 1)])
        raise AssertionError("unreachable")

    async def _nothing_since(self, writer: RunWriter) -> bool:
        """No one wrote into the run after this worker's last event (a prompt sent as the agent ended)."""
        try:
            last = await self.js.get_last_msg(EVENTS_STREAM, writer.subject)
        except NotFoundError:
            return False
        return last.seq == writer.last_seq

    async def _claim(self, contents: RunContents, attempt: int, workspace: Workspace) -> tuple[RunWriter, RunContents]:
        """Write this worker's ``agent_placed`` as the run's next event; read again while someone else writes."""
        order = self.order
        for _ in range(CLAIM_TRIES):
            writer = RunWriter(
                self.js,
                order.session,
                order.agent,
                last_seq=contents.last_seq,
                folder=workspace.root.parent,
                redactor=self.worker.redact,
                on_lost=lambda exc: self.lost.set(),
            )
            await writer.start()
            placed = AgentPlaced(agent=order.agent, worker=self.worker.name, attempt=attempt, workspace=workspace.label)
            try:
                stored = await writer.append(placed)
            except RunLost:
                await writer.close()
                await asyncio.sleep(0.2)
                contents = await self._read()
                continue
            contents.events.append(stored)
            contents.last_seq = stored.seq
            self.writer = writer
            return writer, contents
        raise RunLost(f"{self.name}: another writer kept writing into the run")

    def _engine(self, writer: RunWriter, contents: RunContents, workspace: Workspace) -> Engine:
        worker, order = self.worker, self.order
        session = Session(BundleStore(worker.workdir / "sessions"), order.session, writer, EventBus())
        session.take_in(contents.events)
        assert worker.brain is not None, "the worker is not connected"
        engine = Engine(order.config(worker.config), workspace.cwd, worker.brain, session, counter=worker.counter)
        for event in contents.policy:  # the session's mode changes and rules since the order's snapshot
            engine.view.policy.apply(event)
        engine.supervisor.ids = lambda n: f"{order.agent}-{n}"  # its sub-agents: ids no other run uses
        engine.services.tools = CheckpointingRegistry(engine.services.tools, self._checkpoint)
        engine.take_up(session.events)
        agent, row = engine.agent(order.agent), engine.view.roster.get(order.agent)
        if agent is not None and row is not None and agent.state in FINAL_STATES and row.queued:
            for prompt_id, text in row.queued.items():  # it had ended; a prompt sent since starts it again
                agent.send(text, prompt_id)
            engine.supervisor.revive(agent)
        self.engine = engine
        return engine

    async def _listen(self, engine: Engine, contents: RunContents) -> None:
        """Commands for the run's agents, and the session's policy as it changes."""
        assert self.worker.nc is not None
        order = self.order

        async def command(message: Msg) -> None:
            asyncio.ensure_future(self._carry_out(engine, message))

        async def policy(message: Msg) -> None:
            with contextlib.suppress(ValueError):
                engine.view.policy.apply(decoded(message.data, message.metadata.sequence.stream))

        subject = command_subject(order.session, order.agent)
        self._subscriptions.append(await self.worker.nc.subscribe(subject, cb=command))
        after = max([contents.last_seq, *(e.seq for e in contents.policy)])
        self._subscriptions.append(
            await self.js.subscribe(
                policy_subject(order.session),
                cb=policy,
                ordered_consumer=True,
                config=_from(after + 1),
            )
        )

    async def _carry_out(self, engine: Engine, message: Msg) -> None:
        """A command for the run's agents; an empty reply says this worker is letting the run go (the
        coordinator then treats the run as held by nobody)."""
        answer = b""
        try:
            command = command_adapter.validate_json(message.data)
            if not (self.letting_go or engine.closed):
                answer = (await engine.submit(command)).model_dump_json().encode()
        except ValidationError as exc:
            answer = Outcome.refused(f"not a command: {exc.errors()[0]['msg']}").model_dump_json().encode()
        except BundleError:  # the run's writer is closing or lost: it is no longer this worker's
            answer = b""
        with contextlib.suppress(Exception):
            await message.respond(answer)

    async def _until_ended(self, engine: Engine) -> None:
        ended = asyncio.ensure_future(engine.wait_all())
        lost = asyncio.ensure_future(self.lost.wait())
        await asyncio.wait([ended, lost], return_when=asyncio.FIRST_COMPLETED)
        ended.cancel()
        lost.cancel()
        if self.lost.is_set():
            raise RunLost(f"{self.name} was taken over by another worker")

    async def _give_up(self, writer: RunWriter, attempt: int) -> None:
        why = f"the run was lost on {attempt - 1} workers; it is not tried again"
        agent = self.order.agent
        await writer.append(Error(agent=agent, message=why, error_type="cluster", fatal=True))
        await writer.append(Status(agent=agent, state="failed", detail=why))
        await writer.append(AgentFinished(agent=agent, state="failed", result=f"[failed] {why}"))
        await writer.close()
        await self.message.ack()

    # ---------------------------------------------------------------- the workspace

    async def _restore_files(self, workspace: Workspace) -> None:
        """A run taken over starts from its last patch: the files as the last worker left them."""
        try:
            found = await self.worker.files.get(patch_object(self.order.session, self.order.agent))
        except NotFoundError:
            return
        if found.data:
            await self.worker.checkouts.apply(workspace, found.data)

    async def _checkpoint(self) -> None:
        await self._store_patch(final=False)

    async def _store_patch(self, *, final: bool) -> None:
        if self.workspace is None or not self.workspace.base:
            return
        try:
            diff, files = await self.worker.checkouts.patch(self.workspace)
        except CheckoutError as exc:
            log.warning("%s: no patch: %s", self.name, exc)
            return
        name = patch_object(self.order.session, self.order.agent)
        if diff:
            await self.worker.files.put(name, diff)
        if final and diff and self.engine is not None:
            await self.engine.session.append(
                PatchStored(
                    agent=self.order.agent,
                    object=name,
                    base=self.workspace.base,
                    files=files,
                    bytes=len(diff),
                    sha256=digest(diff),
                )
            )

    # ---------------------------------------------------------------- letting go

    async def _keep_alive(self) -> None:
        every = max(0.5, self.worker.config.cluster.ack_wait_s / 3)
        while True:
            await asyncio.sleep(every)
            with contextlib.suppress(Exception):  # the server is away: the next one goes through
                await self.message.in_progress()

    async def _stop_listening(self) -> None:
        """Drained, not dropped: a command the server sent before it heard of it still gets its answer."""
        subscriptions, self._subscriptions = self._subscriptions, []
        for subscription in subscriptions:
            with contextlib.suppress(Exception):
                await subscription.drain()

    async def _let_go(self) -> None:
        await self._stop_listening()
        if self.engine is not None and not self.engine.closed:
            if self.lost.is_set() and self.writer is not None:
                self.writer.abandon()
            await self.engine.close("stop")
        if self.workspace is not None:
            await self.worker.checkouts.remove(self.workspace.root)


def _placements_since_it_ended(contents: RunContents) -> int:
    """How many workers took the run up since its agent last ended (or ever): the run's attempts so far."""
    taken = 0
    for event in contents.events:
        if isinstance(event, AgentPlaced) and event.worker:
            taken += 1
        elif isinstance(event, AgentFinished) and event.agent == contents.events[0].agent:
            taken = 0
    return taken


def _owes_nothing(contents: RunContents, agent: str) -> bool:
    """The run's agent has ended and no prompt waits for it."""
    roster = Roster()
    for event in contents.events:
        roster.apply(event)
    row = roster.get(agent)
    return row is not None and row.ended and not row.queued


def _from(seq: int) -> api.ConsumerConfig:
    return api.ConsumerConfig(deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=seq)


class CheckpointingRegistry(ToolRegistry):
    """The run's tools; after each call that may have changed files, the workspace's patch is stored."""

    def __init__(self, registry: ToolRegistry, checkpoint: Callable[[], Awaitable[None]]) -> None:
        super().__init__(tool for tool in map(registry.get, registry.names) if tool is not None)
        self._checkpoint = checkpoint

    async def invoke(self, tool: Tool[Any], params: BaseModel, ctx: ToolContext) -> ToolOutput:
        output = await super().invoke(tool, params, ctx)
        if tool.kind in ("write", "exec"):
            await self._checkpoint()
        return output
