"""The main screen's actions on agents' work: the diff screen (``f7``, ``/diff``), ``/commit`` and the
permission rules (``/permissions``). Each ends in a command; the screens only show and ask."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from workbench.protocol.commands import Commit

if TYPE_CHECKING:
    from workbench.engine.client import EngineClient


class WorkspaceActions:
    """Mixed into the main screen (it has the client, the target agent, and the way to submit)."""

    client: EngineClient | None

    def action_show_diff(self, agent_id: str = "") -> None:
        self._about(agent_id, self._show_diff)

    def action_commit_agent(self, agent_id: str = "") -> None:
        self._about(agent_id, self._commit)

    def _about(self, agent_id: str, work: Callable[[str], Coroutine[Any, Any, None]]) -> None:
        """Run ``work`` on the named agent, else the one highlighted or shown."""
        target = agent_id or self._target()  # type: ignore[attr-defined]
        if self.client is not None and self._known(target):  # type: ignore[attr-defined]
            self.run_worker(work(target), group="diff", exclusive=True, exit_on_error=False)  # type: ignore[attr-defined]

    async def _show_diff(self, agent_id: str) -> None:
        from workbench.frontends.tui.screens.agent_diff import AgentDiffScreen

        assert self.client is not None
        diff = await self.client.agent_diff(agent_id)
        await self.app.push_screen(AgentDiffScreen(self.client, diff))  # type: ignore[attr-defined]

    async def _commit(self, agent_id: str) -> None:
        from workbench.frontends.tui.screens.commit_message import CommitMessageScreen

        assert self.client is not None
        diff = await self.client.agent_diff(agent_id)
        if not diff.open:
            self.notify(f"{agent_id} has no worktree of its own: there is no branch to commit on.", severity="warning")  # type: ignore[attr-defined]
            return
        message = await self.app.push_screen_wait(CommitMessageScreen(agent_id, diff.proposed_message))  # type: ignore[attr-defined]
        if message:
            self._submit(Commit(agent=agent_id, message=message), "{message}", f"Committed {agent_id}'s changes")  # type: ignore[attr-defined]

    def action_permissions(self) -> None:
        from workbench.frontends.tui.screens.permissions import PermissionsScreen

        if self.client is not None:
            self.app.push_screen(PermissionsScreen(self.client.view.policy.rules))  # type: ignore[attr-defined]
