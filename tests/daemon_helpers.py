"""Waiting on a daemon and its clients: for the events a test needs, never for time."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from pathlib import Path

from workbench.engine.transports.daemon_client import Connection, DaemonClient


async def until(client: DaemonClient, condition: Callable[[], bool]) -> None:
    """Wait for the events the client receives until ``condition`` holds (checked after each one)."""
    changed = asyncio.Event()
    stop = client.subscribe(lambda item: changed.set())
    try:
        while not condition():
            changed.clear()
            await changed.wait()
    finally:
        stop()


async def connected(path: Path, process: subprocess.Popen[bytes]) -> Connection:
    """The daemon's socket, once it listens (or the reason it died)."""
    while True:
        try:
            return await Connection.open(path)
        except Exception:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode() if process.stderr else "died") from None
            await asyncio.sleep(0.05)
