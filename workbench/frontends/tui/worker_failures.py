"""No worker fails silently: whatever started it, a failure is told to the user (and logged).

Textual tells only the node that started a worker about its state, so every
screen or widget that runs workers hands the news to ``report`` here.
"""

from __future__ import annotations

import logging

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

log = logging.getLogger(__name__)


def report(node: DOMNode, event: Worker.StateChanged) -> None:
    if event.state != WorkerState.ERROR or event.worker.error is None:
        return
    error = event.worker.error
    log.error("worker %s failed", event.worker.name, exc_info=error)
    node.app.notify(
        f"{type(error).__name__}: {error}",
        title=f"Something went wrong ({event.worker.group or event.worker.name})",
        severity="error",
        timeout=20,
        markup=False,
    )


class ReportsFailedWorkers:
    """Mixed into a screen or widget that runs workers."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report(self, event)  # type: ignore[arg-type]
