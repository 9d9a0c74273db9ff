"""A run's log on the stream: written by one writer at a time, read back whole.

``RunWriter`` is a worker's bundle writer: it appends each event of the run to the run's
subject, and acknowledges the append once the server has stored it (then the event is
folded and heard, as a bundle writer does after its flush). Every append names the stream
sequence it expects last on the subject, so the server refuses a writer that has been
replaced: it learns it lost the run (:class:`RunLost`) and writes nothing more. While the
server cannot be reached, an append waits and tries again; the agent waits with it.

An event's ``seq`` on a worker is its stream sequence: one order for every run of the
cluster. The coordinator gives each event the session's own ``seq`` as it mirrors it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nats.errors import (
    ConnectionClosedError,
    ConnectionReconnectingError,
    NoRespondersError,
    OutboundBufferLimitError,
    StaleConnectionError,
)
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, NoStreamResponseError

from workbench.engine.transports.cluster.layout import EVENTS_STREAM, events_subject, policy_subject
from workbench.log.bundle import BundleError
from workbench.log.redact import Redactor
from workbench.protocol.events import Event, decode_event, encode_event
from workbench.protocol.json_line import UnreadableLine

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 2.0
RETRY_WAIT_S = (0.1, 0.25, 0.5, 1.0)
WRONG_LAST_SEQUENCE = 10071
MSG_ID = api.Header.MSG_ID.value
EXPECTED_LAST_SUBJECT_SEQUENCE = api.Header.EXPECTED_LAST_SUBJECT_SEQUENCE.value
_LAST_SEQUENCE = re.compile(r"wrong last sequence: (\d+)")
OUT_OF_REACH = (
    asyncio.TimeoutError,
    NatsTimeout,
    NoRespondersError,
    NoStreamResponseError,
    ConnectionClosedError,
    ConnectionReconnectingError,
    StaleConnectionError,
    OutboundBufferLimitError,
)


class RunLost(BundleError):
    """Another writer took the run over (this worker was given up for lost): nothing more is written."""


class _Close:
    pass


_CLOSE = _Close()


def encoded(event: Event, redact: Redactor) -> bytes:
    """An event as it travels: the bundle's line, secrets masked, its place given by the stream."""
    return redact(encode_event(event.model_copy(update={"seq": 0}))).encode()


def decoded(data: bytes, stream_seq: int) -> Event:
    return decode_event(data).model_copy(update={"seq": stream_seq})


class RunWriter:
    def __init__(
        self,
        js: JetStreamContext,
        session_id: str,
        root: str,
        *,
        last_seq: int,
        folder: Path,
        redactor: Redactor | None = None,
        on_lost: Callable[[RunLost], None] | None = None,
    ) -> None:
        self.js = js
        self.session_id = session_id
        self.root = root
        self.subject = events_subject(session_id, root)
        self.last_seq = last_seq  # the stream sequence of the run's last event
        self.folder = folder
        self.redact = redactor or Redactor()
        self.on_lost = on_lost
        self.on_written: Callable[[Event], None] | None = None
        self._queue: asyncio.Queue[tuple[Event, asyncio.Future[Event]] | _Close] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._nonce = secrets.token_hex(4)
        self._count = 0
        self._closing = False
        self.lost: RunLost | None = None

    @property
    def path(self) -> Path:
        """Where the run's hooks are told the transcript is (the log itself is on the stream)."""
        return self.folder / "events.jsonl"

    @property
    def failure(self) -> str | None:
        return str(self.lost) if self.lost is not None else None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._serve(), name=f"run-writer-{self.root}")

    def submit(self, event: Event) -> asyncio.Future[Event]:
        if self.lost is not None:
            raise self.lost
        if self._task is None or self._task.done() or self._closing:
            raise BundleError("the run's writer is not running")
        # a session-wide event made here (a rule an answer added) belongs to the run that made it
        owned = event if event.agent else event.model_copy(update={"agent": self.root})
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((owned.model_copy(update={"session": self.session_id}), future))
        return future

    async def append(self, event: Event) -> Event:
        return await self.submit(event)

    async def close(self) -> None:
        """Store what was submitted so far, then stop."""
        if self._task is None:
            return
        self._closing = True
        self._queue.put_nowait(_CLOSE)
        try:
            await self._task
        finally:
            self._task = None
            self._fail_waiting(BundleError("the run's writer was closed"))

    def abandon(self) -> None:
        """Stop at once: what was not stored yet never will be (the run went to another worker)."""
        if self._task is not None:
            self._task.cancel()
        self._fail_waiting(self.lost or RunLost("the run's writer was stopped"))

    async def _serve(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _Close):
                    return
                event, future = item
                if self.lost is not None:
                    future.set_exception(self.lost)
                    continue
                try:
                    stored = await self._publish(event)
                except RunLost as exc:
                    self.lost = exc
                    future.set_exception(exc)
                    self._fail_waiting(exc)
                    if self.on_lost is not None:
                        self.on_lost(exc)
                    continue
                if not future.done():
                    future.set_result(stored)
                if self.on_written is not None:
                    self.on_written(stored)
        except asyncio.CancelledError:
            self._fail_waiting(RunLost("the run's writer was stopped"))
            raise

    def _fail_waiting(self, exc: BaseException) -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if not isinstance(item, _Close) and not item[1].done():
                item[1].set_exception(exc)

    async def _publish(self, event: Event) -> Event:
        self._count += 1
        msg_id = f"{self.session_id}.{self.root}.{self._nonce}.{self._count}"
        data = encoded(event, self.redact)
        for attempt in range(1_000_000):
            headers = {MSG_ID: msg_id, EXPECTED_LAST_SUBJECT_SEQUENCE: str(self.last_seq)}
            try:
                ack = await self.js.publish(self.subject, data, timeout=PUBLISH_TIMEOUT_S, headers=headers)
            except APIError as exc:
                if exc.err_code != WRONG_LAST_SEQUENCE:
                    raise
                seq = await self._stored_already(exc, msg_id)  # the server kept an earlier try whose ack was lost
                if seq is None:
                    raise RunLost(f"{self.root}'s run was taken over by another worker") from None
                self.last_seq = seq
                return event.model_copy(update={"seq": seq})
            except OUT_OF_REACH:
                await asyncio.sleep(RETRY_WAIT_S[min(attempt, len(RETRY_WAIT_S) - 1)])
                continue
            self.last_seq = ack.seq
            return event.model_copy(update={"seq": ack.seq})
        raise AssertionError("unreachable")

    async def _stored_already(self, exc: APIError, msg_id: str) -> int | None:
        found = _LAST_SEQUENCE.search(exc.description or "")
        if found is None:
            return None
        seq = int(found.group(1))
        message = await self.js.get_msg(EVENTS_STREAM, seq)
        return seq if (message.headers or {}).get(MSG_ID) == msg_id else None


# ---------------------------------------------------------------- reading a run back


@dataclass
class RunContents:
    policy: list[Event] = field(default_factory=list)  # the session's mode changes and rules
    events: list[Event] = field(default_factory=list)  # the run's own log
    last_seq: int = 0  # the stream sequence of the run's last event (0: none yet)
    unreadable: list[str] = field(default_factory=list)


async def read_run(js: JetStreamContext, session_id: str, root: str) -> RunContents:
    """The session's policy and the run's log as the stream holds them now, in stream order."""
    run_subject = events_subject(session_id, root)
    contents = RunContents()
    for subject, seq, data in await read_subjects(js, [policy_subject(session_id), run_subject]):
        if subject == run_subject:
            contents.last_seq = seq
        try:
            event = decoded(data, seq)
        except UnreadableLine as exc:
            contents.unreadable.append(f"stream sequence {seq}: {exc}")
            continue
        (contents.events if subject == run_subject else contents.policy).append(event)
    return contents


async def read_subjects(
    js: JetStreamContext, subjects: list[str], stream: str = EVENTS_STREAM
) -> list[tuple[str, int, bytes]]:
    """Every message now on these subjects: (subject, stream sequence, data), in stream order."""
    config = api.ConsumerConfig(
        filter_subjects=subjects,
        ack_policy=api.AckPolicy.NONE,
        deliver_policy=api.DeliverPolicy.ALL,
        inactive_threshold=30.0,
        mem_storage=True,
    )
    subscription = await js.pull_subscribe("", stream=stream, config=config)
    found: list[tuple[str, int, bytes]] = []
    consumer = ""
    try:
        info = await subscription.consumer_info()
        consumer, pending = info.name, info.num_pending or 0
        while pending > 0:
            for message in await subscription.fetch(batch=min(pending, 1024), timeout=5):
                meta = message.metadata
                found.append((message.subject, meta.sequence.stream, message.data))
                pending = meta.num_pending
    finally:
        await subscription.unsubscribe()
        if consumer:  # gone now, not after its inactive threshold: a burst of reads would reach the server's limit
            with contextlib.suppress(Exception):
                await js.delete_consumer(stream, consumer)
    return found
