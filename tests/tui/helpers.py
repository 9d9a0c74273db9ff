"""Driving the app in tests: wait for the engine, let streams settle, type a prompt."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from workbench.frontends.tui.app import WorkbenchApp
from workbench.frontends.tui.widgets.prompt import PromptArea


async def until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Let the app run until ``condition`` holds (the engine runs on the app's loop). The timeout is a
    safety net against a hang, generous enough for a busy machine: never what a test waits for."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.02)


async def engine_ready(pilot: Pilot[Any]) -> WorkbenchApp:
    app = pilot.app
    assert isinstance(app, WorkbenchApp)
    await until(pilot, lambda: app.main_screen.bench is not None)
    await until(pilot, lambda: app.main_screen.bench.primary.state == "idle")  # type: ignore[union-attr]
    pilot.app.query_one(PromptArea).cursor_blink = False
    await settle(pilot)
    return app


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until no agent is busy and every pane has handled what the engine posted."""
    app = pilot.app
    assert isinstance(app, WorkbenchApp)
    bench = app.main_screen.bench
    if bench is not None:
        # a message just sent waits in the agent's inbox until its turn starts: that is not settled
        await until(
            pilot, lambda: not any(a.busy or (a.inbox and not a.paused) for a in bench.supervisor.agents.values())
        )
    await pilot.pause(0.15)  # the bridge flushes streamed text every 40 ms
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def type_and_send(pilot: Pilot[Any], text: str) -> None:
    pilot.app.query_one(PromptArea).load_text(text)
    await pilot.press("enter")


def notices(app: WorkbenchApp) -> list[str]:
    """The title and text of every notification on screen."""
    return [f"{n.title}: {n.message}" for n in app._notifications]
