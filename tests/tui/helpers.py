"""Driving the app in tests: wait for the engine, let streams settle, type a prompt."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from workbench.engine.client import LocalClient
from workbench.engine.engine import Engine
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


def engine_of(app: WorkbenchApp) -> Engine:
    """The engine behind the app's session (in this process), to look at what it logged."""
    client = app.main_screen.client
    assert isinstance(client, LocalClient), "the app has no session in this process"
    return client.engine


async def engine_ready(pilot: Pilot[Any]) -> WorkbenchApp:
    app = pilot.app
    assert isinstance(app, WorkbenchApp)
    await until(pilot, lambda: app.main_screen.client is not None)
    await until(pilot, lambda: engine_of(app).primary.state == "idle")
    pilot.app.query_one(PromptArea).cursor_blink = False
    await settle(pilot)
    return app


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until no agent is busy and every pane has handled what the engine posted."""
    app = pilot.app
    assert isinstance(app, WorkbenchApp)
    bench = engine_of(app) if app.main_screen.client is not None else None
    # commands go to the engine from workers: none may be on its way when the agents are looked at
    await until(pilot, lambda: not any(w.group == "commands" and not w.is_finished for w in app.workers))
    if bench is not None:
        agents = bench.supervisor.agents.values()
        await until(pilot, lambda: all((not a.busy and not a.inbox) or a.paused for a in agents))
    await pilot.pause(0.15)  # the bridge flushes streamed text every 40 ms
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def type_and_send(pilot: Pilot[Any], text: str) -> None:
    pilot.app.query_one(PromptArea).load_text(text)
    await pilot.press("enter")


def notices(app: WorkbenchApp) -> list[str]:
    """The title and text of every notification on screen."""
    return [f"{n.title}: {n.message}" for n in app._notifications]
