"""How the app opens its engine: a new session (maybe continuing another's context), or a session resumed.

Kept free of engine imports at module level: the first screen is drawn
before the engine (and what it imports) is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from workbench.brains.base import Brain
    from workbench.engine.config import Config
    from workbench.engine.engine import Workbench
    from workbench.protocol.events import Remounted


@dataclass(frozen=True)
class NewSession:
    """A fresh session; with ``remount``, its primary starts from another session's context."""

    session_id: str | None = None
    remount: Remounted | None = None
    title: str = ""

    async def open(self, config: Config, cwd: Path, brain: Brain, **services: Any) -> Workbench:
        from workbench.engine.engine import Workbench

        return await Workbench.open(
            config, cwd, brain, session_id=self.session_id, remount=self.remount, title=self.title, **services
        )


@dataclass(frozen=True)
class ResumedSession:
    """A session reopened where its log left it (raises SessionLocked while another process has it)."""

    session_id: str

    async def open(self, config: Config, cwd: Path, brain: Brain, **services: Any) -> Workbench:
        from workbench.engine.engine import Workbench

        return await Workbench.resume(config, cwd, brain, self.session_id, **services)


SessionStart = Union[NewSession, ResumedSession]
