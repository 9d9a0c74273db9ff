"""The command palette's entries: every action of the table that makes sense to run by name."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from workbench.frontends.tui.actions import ACTIONS, Action, key_of

if TYPE_CHECKING:
    from workbench.frontends.tui.app import WorkbenchApp


class ActionCommands(Provider):
    @property
    def _app(self) -> WorkbenchApp:
        return cast("WorkbenchApp", self.app)

    def _run(self, action: Action) -> None:
        # later, so the action runs once the palette has closed and the main screen is back
        self.app.call_later(self._app.main_screen.run_named, action)

    def _entry(self, action: Action) -> tuple[str, str]:
        title = action.label[:1].upper() + action.label[1:]
        key = key_of(action, self._app.config.keys)
        return title, f"{action.description}  ({key})" if key else action.description

    async def discover(self) -> Hits:
        for action in ACTIONS:
            if action.palette:
                title, help_text = self._entry(action)
                yield DiscoveryHit(title, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action in ACTIONS:
            if not action.palette:
                continue
            title, help_text = self._entry(action)
            score = matcher.match(f"{title} {action.description}")
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, action), help=help_text)
