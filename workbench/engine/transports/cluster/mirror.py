"""The coordinator's copy of a session's runs: from the stream into the session's bundle, each event once.

The mirror follows every run subject of the session in stream order (an ordered consumer: a gap
or a lost server makes it start again after the last message it had) and submits each event to
the session's own writer, which gives it the session's next ``seq`` and writes, folds and
publishes it like any other. A compaction's range, given in stream sequences, is translated to
the session's.

Every event of a run in the bundle came through its subject, so after a restart the mirror
knows how far it got without any bookkeeping of its own: the n-th message of a run's subject is
the run's n-th event in the bundle. It reads the stream again from the start and skips what the
bundle holds already.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections import defaultdict
from collections.abc import Callable

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from workbench.engine.transports.cluster.layout import session_events
from workbench.engine.transports.cluster.run_log import decoded
from workbench.log.bundle import BundleError
from workbench.log.session import Session
from workbench.protocol.events import Compaction, Error, Event
from workbench.protocol.json_line import UnreadableLine

log = logging.getLogger(__name__)

COORDINATOR_MSG_ID = "coordinator."


def untoken(subject_token: str) -> str:
    """The id a subject token was made from (see ``layout.token``)."""
    out, i = [], 0
    while i < len(subject_token):
        if subject_token[i] == "_" and i + 2 < len(subject_token):
            out.append(chr(int(subject_token[i + 1 : i + 3], 16)))
            i += 3
        else:
            out.append(subject_token[i])
            i += 1
    return "".join(out)


class Mirror:
    def __init__(self, js: JetStreamContext, session: Session, root_of: Callable[[str], str | None]) -> None:
        """``root_of(agent)``: the run an agent of the bundle belongs to (None: it runs here)."""
        self.js = js
        self.session = session
        self.root_of = root_of
        self.last_seq: dict[str, int] = {}  # per run: the stream sequence of its last message seen
        self._received: dict[str, int] = defaultdict(int)  # per run: messages of its subject seen
        self._mirrored: dict[str, list[Event]] = {}  # per run: its events the bundle held at start
        self._places: dict[str, tuple[list[int], list[int]]] = {}  # per agent: stream seqs, session seqs
        self._own: dict[int, asyncio.Future[Event]] = {}  # the coordinator's writes, by stream sequence
        self._waiting: dict[int, asyncio.Future[asyncio.Future[Event]]] = {}
        self._subscription: JetStreamContext.PushSubscription | None = None

    async def start(self) -> None:
        for event in self.session.events:
            root = self.root_of(event.agent)
            if root is not None:
                self._mirrored.setdefault(root, []).append(event)
        self._subscription = await self.js.subscribe(
            session_events(self.session.id), ordered_consumer=True, cb=self._heard, idle_heartbeat=1.0
        )

    async def stop(self) -> None:
        if self._subscription is not None:
            subscription, self._subscription = self._subscription, None
            try:
                await subscription.unsubscribe()
            except Exception as exc:  # the connection may be gone already; nothing is left to stop then
                log.debug("mirror of %s: %s", self.session.id, exc)

    async def written(self, stream_seq: int) -> Event:
        """The session's copy of a message the coordinator published, once written to the bundle."""
        future = self._own.pop(stream_seq, None)
        if future is None:
            handed: asyncio.Future[asyncio.Future[Event]] = asyncio.get_running_loop().create_future()
            self._waiting[stream_seq] = handed
            future = await handed
        return await future

    async def _heard(self, message: Msg) -> None:
        stream_seq = message.metadata.sequence.stream
        root = untoken(message.subject.rsplit(".", 1)[-1])
        self._received[root] += 1
        self.last_seq[root] = max(self.last_seq.get(root, 0), stream_seq)
        done = self._mirrored.get(root, [])
        if self._received[root] <= len(done):  # in the bundle already (mirrored before a restart)
            self._place(done[self._received[root] - 1].agent, stream_seq, done[self._received[root] - 1].seq)
            return
        try:
            event = decoded(message.data, stream_seq)
        except UnreadableLine as exc:  # kept as an error in its place, so the run's count stays true
            event = Error(
                agent=root, message=f"an event from the cluster could not be read: {exc}", error_type="cluster"
            )
        if isinstance(event, Compaction):
            event = event.model_copy(update=self._translated(event))
        try:
            future = self.session.submit(event)
        except BundleError as exc:  # the session is closing: the rest comes again when it is resumed
            log.info("mirror of %s stops: %s", self.session.id, exc)
            return
        self._place(event.agent, stream_seq, self.session.writer.last_seq)
        if (message.headers or {}).get("Nats-Msg-Id", "").startswith(COORDINATOR_MSG_ID):
            waiting = self._waiting.pop(stream_seq, None)
            if waiting is not None:
                waiting.set_result(future)
            else:
                self._own[stream_seq] = future

    def _place(self, agent: str, stream_seq: int, session_seq: int) -> None:
        streams, sessions = self._places.setdefault(agent, ([], []))
        streams.append(stream_seq)
        sessions.append(session_seq)

    def _translated(self, compaction: Compaction) -> dict[str, int]:
        """The compacted range in the session's seqs: the agent's events inside it are the same ones."""
        streams, sessions = self._places.get(compaction.agent, ([], []))
        first = bisect.bisect_left(streams, compaction.from_seq)
        last = bisect.bisect_right(streams, compaction.to_seq) - 1
        if first >= len(sessions) or last < 0:
            return {}
        return {"from_seq": sessions[first], "to_seq": sessions[last]}
