"""An opt-in event-loop lag probe, for the benchmarks.

With ``WORKBENCH_LAG_PROBE=path`` set, a task on the app's loop sleeps
``INTERVAL_S`` again and again and records how late it wakes; the samples are
written to ``path`` as JSON when the process exits::

    {"interval_s": 0.01, "clock": "monotonic", "samples": [[t, lag_ms], ...]}

``t`` is ``time.monotonic()`` when the sleep began (system-wide on Linux, so a
benchmark driver can pick the samples of a time window). Unset, nothing runs.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import time
from pathlib import Path

ENV = "WORKBENCH_LAG_PROBE"
INTERVAL_S = 0.01


class LagProbe:
    def __init__(self, path: Path, interval_s: float = INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self.samples: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="lag-probe")
        atexit.register(self.write)

    async def _run(self) -> None:
        clock, interval, samples = time.monotonic, self.interval_s, self.samples
        while True:
            began = clock()
            await asyncio.sleep(interval)
            samples.append((began, (clock() - began - interval) * 1000))

    def write(self) -> None:
        data = {
            "interval_s": self.interval_s,
            "clock": "monotonic",
            "samples": [[round(t, 6), round(lag, 3)] for t, lag in self.samples],
        }
        self.path.write_text(json.dumps(data))


def start_from_env() -> LagProbe | None:
    """Start a probe on the running loop if the environment asks for one."""
    path = os.environ.get(ENV)
    if not path:
        return None
    probe = LagProbe(Path(path))
    probe.start()
    return probe
