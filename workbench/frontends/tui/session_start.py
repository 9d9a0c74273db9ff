"""How the app opens its session: a new one (maybe continuing another's context), one resumed, or one
a daemon runs (attached to). Each gives the app an ``EngineClient``.

Kept free of engine imports at module level: the first screen is drawn
before the engine (and what it imports) is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union

if TYPE_CHECKING:
    from workbench.engine.brain_factory import Brain
    from workbench.engine.client import EngineClient
    from workbench.engine.config import Config
    from workbench.engine.views.session_view import SessionView
    from workbench.protocol.commands import RestoreFiles
    from workbench.protocol.events import Remounted

# how the app leaves a session: a daemon's is detached from; its own is stopped (agents go on from
# there when it is resumed) or has its agents cancelled
Leaving = Literal["detach", "stop", "cancel"]


def working_agents(view: SessionView) -> list[str]:
    """The agents that quitting would stop: at work, waiting, queued or paused (an idle primary is not)."""
    return [row.id for row in view.roster.rows.values() if not row.ended and (row.active or row.state == "paused")]


@dataclass(frozen=True)
class NewSession:
    """A fresh session; with ``remount``, its primary starts from another session's context (and with
    ``restore``, from that session's files as they were then)."""

    session_id: str | None = None
    remount: Remounted | None = None
    title: str = ""
    restore: RestoreFiles | None = None
    needs_brain = True

    async def open(self, config: Config, cwd: Path, brain: Brain | None, **services: Any) -> EngineClient:
        from workbench.engine.client import LocalClient
        from workbench.engine.engine import Engine

        assert brain is not None
        engine = await Engine.open(
            config,
            cwd,
            brain,
            session_id=self.session_id,
            remount=self.remount,
            title=self.title,
            restore=self.restore,
            **services,
        )
        return LocalClient(engine)


@dataclass(frozen=True)
class ResumedSession:
    """A session reopened where its log left it (raises SessionLocked while another process has it)."""

    session_id: str
    needs_brain = True

    async def open(self, config: Config, cwd: Path, brain: Brain | None, **services: Any) -> EngineClient:
        from workbench.engine.client import LocalClient
        from workbench.engine.engine import Engine

        assert brain is not None
        return LocalClient(await Engine.resume(config, cwd, brain, self.session_id, **services))


@dataclass(frozen=True)
class DaemonSession:
    """A session the store's daemon runs: ``session`` attached to, or else a new one opened in the app's
    folder (the daemon is started when none runs). Quitting detaches; the agents go on."""

    store_root: Path
    session: str | None = None
    needs_brain = False  # the daemon has the brain

    async def open(self, config: Config, cwd: Path, brain: Brain | None, **services: Any) -> EngineClient:
        from workbench.engine.transports import wire
        from workbench.engine.transports.daemon_client import DaemonClient, connect

        connection, path = await connect(self.store_root, start=self.session is None)
        try:
            session = self.session
            if session is None:
                opened = await connection.request(wire.OpenSession(cwd=str(cwd)))
                session = str(opened["session_id"])
        finally:
            await connection.close()
        return await DaemonClient.attach(path, session, counter=services.get("counter"))


SessionStart = Union[NewSession, ResumedSession, DaemonSession]
