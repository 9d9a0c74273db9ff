"""The main screen's way to the background shells: ``f9`` and ``/shells [agent]`` list them (every agent's,
or one's), ``s`` in the agents pane lists the highlighted agent's."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.engine.client import EngineClient
    from workbench.frontends.tui.bridge import BusBridge


class ShellActions:
    """Mixed into the main screen (it has the client, the bridge, the clock and the target agent)."""

    client: EngineClient | None
    bridge: BusBridge | None

    def action_shells(self, agent_id: str = "") -> None:
        from workbench.frontends.tui.screens.shells import ShellsScreen

        if self.client is None or isinstance(self.app.screen, ShellsScreen):  # type: ignore[attr-defined]
            return
        if agent_id and not self._known(agent_id):  # type: ignore[attr-defined]
            return
        follow = self.bridge.follow if self.bridge is not None else None
        keys = self.app.config.keys  # type: ignore[attr-defined]
        screen = ShellsScreen(self.client, self.clock, follow, agent_id or None, keys)  # type: ignore[attr-defined]
        self.app.push_screen(screen)  # type: ignore[attr-defined]

    def action_agent_shells(self) -> None:
        self.action_shells(self._target())  # type: ignore[attr-defined]
