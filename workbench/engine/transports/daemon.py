"""The daemon: sessions that outlive the screens watching them.

``workbench serve`` runs one ``Daemon`` per store. It hosts engines (one per
session), listens on an owner-only Unix socket, and speaks the wire protocol of
``wire.py`` to any number of clients: each may open sessions, attach to them
(catching up from the log, then following live), submit commands, and detach;
the agents go on. Approvals and questions reach every attached client, and the
first answer wins (the engine decides). With no client attached, an agent that
needs a person waits in ``awaiting_approval``; the others go on.

The sessions it hosts are listed in the store (``.daemon/hosted.json``), so a
daemon started after a crash, a kill or a stop resumes each from its log.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.engine.brain_factory import choose_brain, make_brain
from workbench.engine.config import Config, ConfigError, load_config
from workbench.engine.context.tokens import TokenCounter, default_counter
from workbench.engine.engine import ClusterFor, Engine
from workbench.engine.priming.primers import PrimerError
from workbench.engine.transports import wire
from workbench.engine.transports.cluster.coordinator import Coordinator
from workbench.engine.transports.locations import daemon_dir, make_private_dir, socket_path
from workbench.engine.trust import TrustStore, survey, trust_store_path
from workbench.engine.views.spend import cost_text
from workbench.log.bundle import BundleError, BundleStore
from workbench.protocol.commands import Close
from workbench.protocol.events import Event, EventBase, SessionStarted, encode_event
from workbench.protocol.signals import Live, TextStreamed, ThinkingStreamed

log = logging.getLogger(__name__)

HOSTED_FILE = "hosted.json"
LOCK_FILE = "lock"


class DaemonRunning(Exception):
    """Another daemon already serves this store; the message says which."""


@dataclass
class Hosted:
    engine: Engine
    clients: set[Connection] = field(default_factory=set)


class Daemon:
    def __init__(
        self,
        config: Config,
        store_root: Path,
        *,
        socket: Path | None = None,
        counter: TokenCounter | None = None,
        configs: Callable[[Path], Config] | None = None,
        coordinator: Coordinator | None = None,
    ) -> None:
        """``configs(cwd)``: the config a session opened in ``cwd`` runs with (the user's, then that
        project's); by default ``config`` for every session. ``coordinator``: the cluster its sessions'
        background and delegated agents run on."""
        self.config = config
        self.store = BundleStore(store_root)
        self.socket = socket or socket_path(store_root)
        self.counter = counter or default_counter()
        self.configs = configs or (lambda cwd: config)
        self.coordinator = coordinator
        self.sessions: dict[str, Hosted] = {}
        self._server: asyncio.AbstractServer | None = None
        self._lock_fd: int | None = None
        self._stopped = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Take the store (one daemon each), resume what the last daemon hosted, then listen."""
        folder = daemon_dir(self.store.root)
        make_private_dir(folder)
        self._take_lock(folder / LOCK_FILE)
        if self.coordinator is not None:
            await self.coordinator.start()
        for session_id in self._hosted_ids():
            try:
                await self._resume(session_id)
            except (BundleError, OSError, ValueError) as exc:
                log.warning("session %s could not be resumed: %s", session_id, exc)
        self._remember()
        make_private_dir(self.socket.parent)
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()  # the lock is ours: a socket file left here is a dead daemon's
        self._server = await asyncio.start_unix_server(self._connected, path=str(self.socket), limit=wire.LINE_LIMIT)
        os.chmod(self.socket, 0o600)

    def _take_lock(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise DaemonRunning(
                f"a daemon (pid {holder}) already serves {self.store.root}; its socket is {self.socket}"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    async def serve_forever(self) -> None:
        """Serve until a shutdown request, SIGTERM or SIGINT; the sessions then stop where they are."""
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(number, self._stopped.set)
        await self._stopped.wait()
        await self.stop()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for hosted in list(self.sessions.values()):
            await hosted.engine.close("stop")  # still listed: the next daemon resumes it
        self.sessions.clear()
        if self.coordinator is not None:
            await self.coordinator.close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # ---------------------------------------------------------------- the sessions it hosts

    def _hosted_file(self) -> Path:
        return daemon_dir(self.store.root) / HOSTED_FILE

    def _hosted_ids(self) -> list[str]:
        try:
            ids = json.loads(self._hosted_file().read_text())
        except (OSError, ValueError):
            return []
        return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []

    def _remember(self) -> None:
        path = self._hosted_file()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(self.sessions)))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)

    def _brain(self, config: Config) -> tuple[Any, str | None]:
        choice = choose_brain(config)
        return make_brain(choice, config), choice.offline_reason

    async def open(self, cwd: Path, title: str = "") -> Engine:
        config = self.configs(cwd)
        brain, offline = self._brain(config)
        engine = await Engine.open(
            config,
            cwd,
            brain,
            store=self.store,
            counter=self.counter,
            offline_reason=offline,
            title=title,
            cluster=self._cluster(),
        )
        self._host(engine)
        await engine.start_mcp()
        return engine

    async def _resume(self, session_id: str) -> Engine:
        contents = await self.store.read(session_id)
        started = next((e for e in contents.events if isinstance(e, SessionStarted)), None)
        cwd = Path(started.cwd) if started is not None and started.cwd else Path.cwd()
        config = self.configs(cwd)
        brain, offline = self._brain(config)
        engine = await Engine.resume(
            config,
            cwd,
            brain,
            session_id,
            store=self.store,
            counter=self.counter,
            offline_reason=offline,
            cluster=self._cluster(),
        )
        self._host(engine)
        await engine.start_mcp()
        return engine

    def _cluster(self) -> ClusterFor | None:
        return self.coordinator.for_session if self.coordinator is not None else None

    async def workers(self) -> dict[str, Any] | None:
        """What ``workbench ps`` shows of the cluster: its URL, whether it answers, its workers."""
        if self.coordinator is None:
            return None
        beats = await self.coordinator.workers()
        return {
            "url": self.coordinator.url,
            "connected": self.coordinator.connected,
            "workers": [beat.model_dump(mode="json") for beat in beats],
        }

    def _host(self, engine: Engine) -> None:
        self.sessions[engine.session.id] = Hosted(engine)
        self._remember()

    def _closed(self, session_id: str) -> None:
        hosted = self.sessions.pop(session_id, None)
        if hosted is not None:
            for client in list(hosted.clients):
                client.detach(session_id)
        self._remember()

    def summary(self) -> list[dict[str, Any]]:
        """What ``workbench ps`` shows: every live session and its agents."""
        listed = []
        for session_id, hosted in sorted(self.sessions.items()):
            view = hosted.engine.view
            agents = [
                {
                    "id": row.id,
                    "name": row.name,
                    "mode": row.mode,
                    "state": row.state,
                    "level": row.level,
                    "cost": cost_text(view.spend.own(row.id)),
                    "cost_with_descendants": cost_text(view.spend.subtree(row.id)),
                    "worker": view.placements.worker(row.id),
                }
                for row in view.roster.rows.values()
            ]
            listed.append(
                {
                    "session": session_id,
                    "title": view.title,
                    "cwd": str(hosted.engine.cwd),
                    "clients": len(hosted.clients),
                    "agents": agents,
                    "cost": cost_text(view.spend.fleet()),
                }
            )
        return listed

    # ---------------------------------------------------------------- connections

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(self, reader, writer)
        with contextlib.suppress(asyncio.CancelledError):  # the daemon is stopping
            await connection.serve()

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class Connection:
    """One client: its requests in, replies, events and signals out, in order, through one writer."""

    def __init__(self, daemon: Daemon, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.daemon = daemon
        self.reader = reader
        self.writer = writer
        self.outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.following: dict[str, Callable[[], None]] = {}
        self.watching: dict[str, str] = {}

    async def serve(self) -> None:
        sender = asyncio.create_task(self._send())
        try:
            while True:
                try:
                    raw = await self.reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    self.outbox.put_nowait(wire.line({"error": "line too long; it was skipped"}))
                    continue
                except (ConnectionError, OSError):
                    break
                if not raw:
                    break
                if not raw.strip():
                    continue
                try:
                    request = wire.read_request(raw)
                except wire.WireError as exc:
                    self.outbox.put_nowait(wire.line({"error": str(exc)}))
                    continue
                self.daemon.spawn(self._answer(request))
        finally:
            for session_id in list(self.following):
                self.detach(session_id)
            self.outbox.put_nowait(None)
            await sender
            with contextlib.suppress(ConnectionError, OSError):
                self.writer.close()
                await self.writer.wait_closed()

    async def _send(self) -> None:
        while True:
            item = await self.outbox.get()
            if item is None:
                return
            chunks = [item]
            while not self.outbox.empty():
                more = self.outbox.get_nowait()
                if more is None:
                    self.outbox.put_nowait(None)
                    break
                chunks.append(more)
            try:
                self.writer.write(b"".join(chunks))
                await self.writer.drain()
            except (ConnectionError, OSError):
                return

    async def _answer(self, request: wire.Request) -> None:
        try:
            data = await self._carry_out(request)
        except (KeyError, LookupError) as exc:
            self.outbox.put_nowait(wire.refusal(request.id, str(exc).strip("'\"")))
        except (BundleError, PrimerError, ConfigError, OSError, ValueError) as exc:
            self.outbox.put_nowait(wire.refusal(request.id, str(exc)))
        except Exception as exc:  # a bug answering one request never ends the daemon
            log.exception("request %s failed", request.req)
            self.outbox.put_nowait(wire.refusal(request.id, f"{type(exc).__name__}: {exc}"))
        else:
            self.outbox.put_nowait(wire.reply(request.id, data))

    def _hosted(self, session_id: str) -> Hosted:
        """The live session with this id, or the one whose id it begins."""
        sessions = self.daemon.sessions
        found = (
            [sessions[session_id]]
            if session_id in sessions
            else [h for i, h in sessions.items() if i.startswith(session_id)]
        )
        if len(found) != 1:
            problem = "no live session" if not found else f"{len(found)} live sessions match"
            raise LookupError(f"{problem} {session_id!r} in this daemon (workbench ps lists them)")
        return found[0]

    async def _carry_out(self, request: wire.Request) -> Any:
        match request:
            case wire.Hello():
                return {"pid": os.getpid(), "store": str(self.daemon.store.root)}
            case wire.ListSessions():
                return self.daemon.summary()
            case wire.OpenSession():
                if request.resume is not None:
                    session_id = self.daemon.store.resolve(request.resume)
                    if session_id not in self.daemon.sessions:
                        await self.daemon._resume(session_id)
                    return self._hosted(session_id).engine.info.model_dump()
                engine = await self.daemon.open(Path(request.cwd), request.title)
                return engine.info.model_dump()
            case wire.Attach():
                return self._attach(self._hosted(request.session).engine.session.id, request.from_seq)
            case wire.Detach():
                self.detach(request.session)
                return None
            case wire.Submit():
                hosted = self._hosted(request.session)
                outcome = await hosted.engine.submit(request.command)
                if isinstance(request.command, Close) or hosted.engine.closed:
                    self.daemon._closed(request.session)
                return outcome.model_dump()
            case wire.Watch():
                hosted = self._hosted(request.session)
                self.watching[request.session] = request.agent
                return {"agent": request.agent, "partial": hosted.engine.partial(request.agent)}
            case wire.Query():
                return await self._query(self._hosted(request.session).engine, request)
            case wire.ListWorkers():
                return await self.daemon.workers()
            case wire.Shutdown():
                self.daemon._stopped.set()
                return None

    def _attach(self, session_id: str, from_seq: int) -> dict[str, Any]:
        """The backlog is queued and the live listener subscribed with no await between: nothing is missed
        and nothing comes twice."""
        hosted = self._hosted(session_id)
        engine = hosted.engine
        if session_id in self.following:
            self.following.pop(session_id)()
        for event in engine.events:
            if event.seq > from_seq:
                self.outbox.put_nowait(wire.event_line(session_id, encode_event(event)))
        self.following[session_id] = engine.subscribe(lambda item: self._hear(session_id, item))
        hosted.clients.add(self)
        return engine.info.model_dump()

    def _hear(self, session_id: str, item: Event | Live) -> None:
        if isinstance(item, EventBase):
            self.outbox.put_nowait(wire.event_line(session_id, encode_event(item)))
        elif not isinstance(item, (TextStreamed, ThinkingStreamed)) or self.watching.get(session_id) == item.agent:
            self.outbox.put_nowait(wire.signal_line(session_id, item))

    def detach(self, session_id: str) -> None:
        stop = self.following.pop(session_id, None)
        if stop is not None:
            stop()
        hosted = self.daemon.sessions.get(session_id)
        if hosted is not None:
            hosted.clients.discard(self)

    async def _query(self, engine: Engine, request: wire.Query) -> Any:
        if request.query == "preview_primer":
            resolved = await engine.preview_primer(**request.args)
            return resolved.model_dump(mode="json")
        if request.query == "primer_catalog":
            return [entry.model_dump(mode="json") for entry in engine.primer_catalog()]
        if request.query == "count_context":
            return (await engine.count_context(**request.args)).model_dump(mode="json")
        if request.query == "agent_diff":
            return (await engine.workspaces.diff(**request.args)).model_dump(mode="json")
        return engine.mcp_report().model_dump(mode="json")


def config_for(cwd: Path) -> Config:
    """The config of a session opened in ``cwd``: the user's file, then that project's, which applies only
    when the user trusted that folder as it is now (the daemon cannot ask: it goes by what was decided)."""
    trusted = TrustStore(trust_store_path()).decision(survey(cwd)) == "trusted"
    return load_config(cwd, trusted=trusted)
