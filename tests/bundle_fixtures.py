"""Real sessions for the bundle tests: the engine on the offline scripted brain, a fixed clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.engine_driver import ask
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.engine import Engine
from workbench.log.bundle import BundleStore
from workbench.protocol.brain_io import BrainRequest

START = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def ticking_clock(start: datetime = START, step_s: float = 1.0) -> Callable[[], datetime]:
    """A clock that advances ``step_s`` at every reading."""
    now = [start - timedelta(seconds=step_s)]

    def clock() -> datetime:
        now[0] += timedelta(seconds=step_s)
        return now[0]

    return clock


class RecordingBrain(ScriptedBrain):
    """The scripted brain, keeping every request it was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[BrainRequest] = []

    def stream(self, request: BrainRequest):  # type: ignore[override]
        self.requests.append(request)
        return super().stream(request)


def make_workspace(root: Path) -> Path:
    ws = root / "ws"
    ws.mkdir(parents=True, exist_ok=True)
    (ws / "README.md").write_text("# Demo\n\nThe demo project prints greetings.\n")
    (ws / "NOTES.md").write_text("Remember the zebra migration.\n")
    return ws


async def open_bench(root: Path, brain: ScriptedBrain | None = None, **kwargs) -> Engine:
    config = Config(bundles=root / "bundles", fsync="never")
    return await Engine.open(config, make_workspace(root), brain or ScriptedBrain(), **kwargs)


async def make_session(root: Path, prompts: list[str], **kwargs) -> str:
    """A closed session in ``root/bundles`` where the primary answered each prompt in turn."""
    bench = await open_bench(root, **kwargs)
    for prompt in prompts:
        await ask(bench, prompt)
    await bench.wait_all()
    await bench.close()
    return bench.session.id


def store_of(root: Path) -> BundleStore:
    return BundleStore(root / "bundles")
