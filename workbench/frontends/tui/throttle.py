"""A redraw at a bounded rate: panes that show many agents change on every event, but nobody reads
a hundred rows changing thirty times a second, and each redraw can cost the screen a layout.

``Throttle(owner, redraw)``: ``due()`` says something changed; ``redraw`` runs once for everything
that changed since it last ran, right after the messages already queued when the last run is
older than the interval (a lone event shows at once), else when the interval is up. Nothing is
dropped: what changed meanwhile is drawn by the next run. The interval is the config's
``pane_redraw_s`` (0, or an app with no config: once per burst of messages).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message_pump import MessagePump

from workbench.engine.config import Config


class Throttle:
    def __init__(self, owner: MessagePump, redraw: Callable[[], object]) -> None:
        self.owner = owner
        self.redraw = redraw
        self._last = float("-inf")
        self._scheduled = False

    def due(self) -> None:
        if self._scheduled:
            return
        self._scheduled = True
        config = getattr(self.owner.app, "config", None)  # a pane in an app with no config: once per burst
        interval_s = config.pane_redraw_s if isinstance(config, Config) else 0.0
        wait = self._last + interval_s - time.monotonic()
        if wait <= 0:
            self.owner.call_later(self._run)
        else:
            self.owner.set_timer(wait, self._run)

    def _run(self) -> None:
        self._scheduled = False
        self._last = time.monotonic()
        self.redraw()
