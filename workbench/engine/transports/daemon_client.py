"""A screen's hold on a session the daemon runs: the ``EngineClient`` interface over the socket.

The client keeps its own copy of the session's views, folded from the events
the daemon sends (the same projections the engine keeps), so reading them costs
no round trip; commands and the few read-only questions go to the daemon and
wait for its reply. Leaving detaches: the daemon's agents go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from workbench.engine.context.tokens import ContextCount, TokenCounter, default_counter
from workbench.engine.engine import SessionInfo
from workbench.engine.priming.primers import PrimerEntry, PrimerError, ResolvedPrimer
from workbench.engine.transports import wire
from workbench.engine.transports.locations import make_private_dir, runtime_dir, socket_path
from workbench.engine.views.session_view import SessionView
from workbench.engine.workspaces.diff import AgentDiff
from workbench.log.bus import EventBus, Listener
from workbench.protocol.commands import Close, Command, Outcome
from workbench.protocol.events import AssistantMessage, Event, known_event_adapter
from workbench.protocol.mcp import McpReport
from workbench.protocol.signals import TextStreamed

START_WAIT_S = 15.0


class DaemonUnavailable(Exception):
    """No daemon answers on the socket (and none could be started); the message says what to do."""


class DaemonRefused(Exception):
    """The daemon answered a request with an error."""


class Connection:
    """Requests and their replies over one socket; everything else the daemon sends goes to ``on_message``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._early: list[dict[str, Any]] = []  # what came before anyone listened (an attach's backlog)
        self.on_message: Callable[[dict[str, Any]], None] = self._early.append
        self._replies: dict[int, asyncio.Future[Any]] = {}
        self._ids = 0
        self._reading = asyncio.create_task(self._read())
        self.closed = asyncio.Event()

    @classmethod
    async def open(cls, path: Path) -> Connection:
        try:
            reader, writer = await asyncio.open_unix_connection(str(path), limit=wire.LINE_LIMIT)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            reason = exc.strerror or str(exc)
            raise DaemonUnavailable(f"no daemon listens on {path} ({reason}); start one: workbench serve") from None
        return cls(reader, writer)

    def deliver_to(self, handler: Callable[[dict[str, Any]], None]) -> None:
        """From now on messages go to ``handler``, those that came already first, in order."""
        early, self._early = self._early, []
        self.on_message = handler
        for message in early:
            handler(message)

    async def request(self, request: wire._Request) -> Any:
        self._ids += 1
        sent = request.model_copy(update={"id": self._ids})
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._replies[self._ids] = future
        self.writer.write(sent.model_dump_json().encode() + b"\n")
        await self.writer.drain()
        return await future

    async def _read(self) -> None:
        try:
            while raw := await self.reader.readline():
                message = json.loads(raw)
                if "reply" in message:
                    future = self._replies.pop(message["reply"], None)
                    if future is not None and not future.done():
                        if message.get("ok"):
                            future.set_result(message.get("data"))
                        else:
                            future.set_exception(DaemonRefused(message.get("error", "refused")))
                else:
                    self.on_message(message)
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            self.closed.set()
            gone = DaemonUnavailable("the daemon closed the connection")
            for future in self._replies.values():
                if not future.done():
                    future.set_exception(gone)

    async def close(self) -> None:
        self._reading.cancel()
        with contextlib.suppress(ConnectionError, OSError):
            self.writer.close()
            await self.writer.wait_closed()


class DaemonClient:
    """One session of the daemon, as a screen holds it."""

    detaches = True

    def __init__(self, connection: Connection, info: SessionInfo, counter: TokenCounter) -> None:
        self.connection = connection
        self.info = info
        self.session_id = info.session_id
        self.view = SessionView(counter, window=info.window, delegate_at=info.delegate_at, compact_at=info.compact_at)
        self.bus = EventBus()
        self._events: list[Event] = []
        self._by_agent: dict[str, list[Event]] = defaultdict(list)
        self._partial: dict[str, list[str]] = {}
        connection.deliver_to(self._received)

    @classmethod
    async def attach(
        cls, path: Path, session: str, *, counter: TokenCounter | None = None, from_seq: int = 0
    ) -> DaemonClient:
        connection = await Connection.open(path)
        info = SessionInfo.model_validate(await connection.request(wire.Attach(session=session, from_seq=from_seq)))
        return cls(connection, info, counter if counter is not None else await asyncio.to_thread(default_counter))

    # ---------------------------------------------------------------- what the daemon sends

    def _received(self, message: dict[str, Any]) -> None:
        if message.get("session") != self.session_id:
            return
        if "event" in message:
            event: Event = known_event_adapter.validate_python(message["event"])
            if event.seq <= self.view.last_seq:
                return
            self.view.apply(event)
            self._events.append(event)
            self._by_agent[event.agent].append(event)
            if isinstance(event, AssistantMessage):
                self._partial.pop(event.agent, None)
            self.bus.publish(event)
        elif "signal" in message:
            signal = wire.live_adapter.validate_python(message["signal"])
            if isinstance(signal, TextStreamed):
                self._partial.setdefault(signal.agent, []).append(signal.text)
            self.bus.publish(signal)

    # ---------------------------------------------------------------- EngineClient

    async def start(self) -> None:
        """The daemon runs the session's MCP servers itself."""

    async def submit(self, command: Command) -> Outcome:
        try:
            data = await self.connection.request(wire.Submit(session=self.session_id, command=command))
        except (DaemonRefused, DaemonUnavailable) as exc:
            return Outcome.refused(str(exc))
        return Outcome.model_validate(data)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self.bus.subscribe(listener)

    @property
    def events(self) -> list[Event]:
        return self._events

    def events_of(self, agent: str) -> list[Event]:
        return self._by_agent.get(agent, [])

    def partial(self, agent: str) -> str:
        return "".join(self._partial.get(agent, ()))

    def watch(self, agent: str) -> None:
        asyncio.ensure_future(self._watch(agent))

    async def _watch(self, agent: str) -> None:
        with contextlib.suppress(DaemonRefused, DaemonUnavailable):
            data = await self.connection.request(wire.Watch(session=self.session_id, agent=agent))
            self._partial[agent] = [data["partial"]] if data["partial"] else []

    async def _query(self, query: str, **args: Any) -> Any:
        try:
            return await self.connection.request(wire.Query(session=self.session_id, query=query, args=args))
        except DaemonRefused as exc:
            if query == "preview_primer":
                raise PrimerError(str(exc)) from None
            raise

    async def preview_primer(
        self, name: str, arguments: str = "", agent: str = "primary", *, fresh: bool = False
    ) -> ResolvedPrimer:
        data = await self._query("preview_primer", name=name, arguments=arguments, agent=agent, fresh=fresh)
        return ResolvedPrimer.model_validate(data)

    async def primer_catalog(self) -> list[PrimerEntry]:
        return [PrimerEntry.model_validate(entry) for entry in await self._query("primer_catalog")]

    async def mcp_report(self) -> McpReport:
        return McpReport.model_validate(await self._query("mcp_report"))

    async def count_context(self, agent: str) -> ContextCount:
        return ContextCount.model_validate(await self._query("count_context", agent=agent))

    async def agent_diff(self, agent: str) -> AgentDiff:
        return AgentDiff.model_validate(await self._query("agent_diff", agent_id=agent))

    async def leave(self, how: Literal["detach", "stop", "cancel"]) -> None:
        with contextlib.suppress(DaemonRefused, DaemonUnavailable, ConnectionError, OSError):
            if how == "detach":
                await self.connection.request(wire.Detach(session=self.session_id))
            else:
                await self.connection.request(wire.Submit(session=self.session_id, command=Close(how=how)))
        await self.connection.close()


# ---------------------------------------------------------------- finding (or starting) the daemon


async def connect(store_root: Path, *, start: bool = False) -> tuple[Connection, Path]:
    """A connection to the store's daemon; with ``start``, one is started in the background when none runs."""
    path = socket_path(store_root)
    try:
        return await Connection.open(path), path
    except DaemonUnavailable:
        if not start:
            raise
    start_daemon(store_root)
    deadline = asyncio.get_running_loop().time() + START_WAIT_S
    while True:
        try:
            return await Connection.open(path), path
        except DaemonUnavailable:
            if asyncio.get_running_loop().time() > deadline:
                raise DaemonUnavailable(
                    f"the daemon did not start within {START_WAIT_S:g} s; see {daemon_log(store_root)}"
                ) from None
            await asyncio.sleep(0.05)


def daemon_log(store_root: Path) -> Path:
    return socket_path(store_root).with_suffix(".log")


def start_daemon(store_root: Path) -> None:
    """``workbench serve`` in a session of its own (it outlives this process), its output in a log file."""
    make_private_dir(runtime_dir())
    log_path = daemon_log(store_root)
    with open(log_path, "ab") as log_file:
        os.chmod(log_path, 0o600)
        subprocess.Popen(
            [sys.executable, "-m", "workbench", "--bundles", str(store_root), "serve"],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
            cwd=str(Path.home()),
        )
