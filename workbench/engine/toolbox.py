"""The engine's side of the tools: which tools a session offers, and what they reach through it.

Tools never import the engine: what they need of it — the background shells, a
person to approve a plan, the model for a side question, the skills — comes to
them in ``ToolContext.extras``, made here per call. The background shells end
with their agent and with the session.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from workbench.protocol.events import AgentFinished, Event, ShellEnded
from workbench.tools.shells import SHELLS, ShellManager

if TYPE_CHECKING:
    from workbench.engine.engine import Engine
    from workbench.engine.runtime.agent import Agent

SHELLS_FOLDER = "shells"  # beside the session's events.jsonl


class Toolbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.shells = ShellManager(engine.session.folder / SHELLS_FOLDER, engine.session.submit, engine.bus.publish)

    def extras(self) -> dict[str, Any]:
        """``AgentServices.tool_extras``: for each key, how to make its value for one call of one agent."""

        def shells(agent: Agent, tool_use_id: str) -> ShellManager:
            return self.shells

        return {SHELLS: shells}

    def hear(self, event: Event) -> None:
        """An event was written: an agent that ended takes its shells with it."""
        if isinstance(event, AgentFinished) and self.shells.running(event.agent):
            self.engine.follow(asyncio.ensure_future(self.shells.stop_agent(event.agent)))

    async def resumed(self) -> None:
        """A resumed session: shells the log shows running died with the process that ran them."""
        view = self.engine.view.shells
        self.shells.resume_numbering(len(view.rows))
        for row in view.running():
            await self.engine.session.append(ShellEnded(agent=row.agent, shell_id=row.shell_id, how="session_closed"))

    async def close(self) -> None:
        await self.shells.close()
