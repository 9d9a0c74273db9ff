"""A live session: its bundle writer, its bus, and the events written so far."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from workbench.log.bundle import BundleStore, BundleWriter, FsyncPolicy, ReadProblem
from workbench.log.bus import EventBus
from workbench.log.meta import SessionMeta
from workbench.protocol.events import Event


class EventWriter(Protocol):
    """Where a session's appends go first: its bundle (``BundleWriter``), or a stream that replicates
    it. ``submit`` fixes an event's place at once; ``on_written`` hears each event once it is stored."""

    on_written: Callable[[Event], None] | None
    last_seq: int

    @property
    def path(self) -> Path: ...

    @property
    def failure(self) -> str | None:
        """Why events can no longer be stored (None while they can)."""
        ...

    def submit(self, event: Event) -> asyncio.Future[Event]: ...

    async def append(self, event: Event) -> Event: ...

    async def close(self) -> None: ...


class Session:
    """Appends go to the log first, then to the bus; views read ``events``."""

    def __init__(self, store: BundleStore, session_id: str, writer: EventWriter, bus: EventBus) -> None:
        self.store = store
        self.id = session_id
        self.writer = writer
        self.bus = bus
        self.events: list[Event] = []
        self.problems: list[ReadProblem] = []
        self._by_agent: dict[str, list[Event]] = defaultdict(list)
        # runs on each event as it is written, before the bus hears of it: where the views are kept
        self.fold_in: Callable[[Event], None] | None = None
        writer.on_written = self._written

    @property
    def folder(self) -> Path:
        return self.store.folder(self.id)

    @property
    def path(self) -> Path:
        return self.writer.path

    @classmethod
    async def create(
        cls,
        store: BundleStore,
        *,
        fsync: FsyncPolicy = "interval",
        bus: EventBus | None = None,
        clock: Callable[[], datetime] | None = None,
        session_id: str | None = None,
    ) -> Session:
        await asyncio.to_thread(store.remove_leftovers)  # a crash of an earlier run may have left some
        session_id = await store.create(session_id)
        writer = BundleWriter(store.folder(session_id), session_id, fsync=fsync, clock=clock)
        session = cls(store, session_id, writer, bus or EventBus())
        await writer.start()
        return session

    @classmethod
    async def resume(
        cls,
        store: BundleStore,
        session_id: str,
        *,
        fsync: FsyncPolicy = "interval",
        bus: EventBus | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Session:
        """Reopen a session to continue it: its events are loaded, appends go on after them."""
        contents = await store.read(session_id)
        meta = SessionMeta.rebuild(session_id, contents.events, size=contents.size)
        writer = BundleWriter(store.folder(session_id), session_id, fsync=fsync, clock=clock, meta=meta)
        session = cls(store, session_id, writer, bus or EventBus())
        session.problems = contents.problems
        session.take_in(contents.events)
        await writer.start()
        return session

    def take_in(self, events: list[Event]) -> None:
        """Events written before this session was opened (its log so far), in order."""
        for event in events:
            self._index(event)

    def _index(self, event: Event) -> None:
        self.events.append(event)
        self._by_agent[event.agent].append(event)

    def _written(self, event: Event) -> None:
        self._index(event)
        if self.fold_in is not None:
            self.fold_in(event)
        self.bus.publish(event)

    def submit(self, event: Event) -> asyncio.Future[Event]:
        """Queue an append: its place in the log is fixed now; the future resolves once it is written."""
        return self.writer.submit(event)

    async def append(self, event: Event) -> Event:
        return await self.writer.append(event)

    def events_of(self, agent: str) -> list[Event]:
        return self._by_agent.get(agent, [])

    async def close(self) -> None:
        await self.writer.close()
