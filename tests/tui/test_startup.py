"""The first screen must not wait for heavy imports, and a session that cannot start is explained."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.brains.base import Brain
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.client import EngineClient
from workbench.engine.config import Config
from workbench.frontends.tui.app import WorkbenchApp
from workbench.frontends.tui.session_start import NewSession
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.prompt import PromptArea
from workbench.frontends.tui.widgets.transcript_blocks import ErrorNote
from workbench.protocol.events import AgentSpawned, UserMessage

from .conftest import OFFLINE, SESSION_ID
from .helpers import engine_of, notices, until

HEAVY = ("anthropic", "tiktoken", "aiofiles", "workbench.log.bundle", "workbench.engine.engine")


def test_importing_the_app_leaves_the_heavy_modules_for_later() -> None:
    code = f"import sys, workbench.frontends.tui.app; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


async def test_a_session_that_cannot_start_is_explained_not_raised(config, workspace: Path, tmp_path: Path) -> None:
    script = tmp_path / "broken.yaml"
    script.write_text("- {}\n")  # a turn with neither text nor tool_use
    app = WorkbenchApp(
        config.model_copy(update={"brain": "scripted"}),
        script=script,
        cwd=workspace,
        config_path=tmp_path / "config.toml",
        theme_dirs=[],
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.engine_failed)
        await until(pilot, lambda: any("could not start" in notice for notice in notices(app)))
        assert any("could not start" in notice and "broken.yaml" in notice for notice in notices(app))
        assert app.query_one(Conversation).query(ErrorNote)
        await pilot.press("ctrl+q")
    assert app.return_code == 1


@dataclass(frozen=True)
class _HeldOpen(NewSession):
    """A new session that opens only when the test lets it: the app is on screen, the engine not yet."""

    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def open(self, config: Config, cwd: Path, brain: Brain | None, **services: Any) -> EngineClient:
        await self.gate.wait()
        return await super().open(config, cwd, brain, **services)


async def test_what_is_sent_while_the_session_opens_goes_once_it_is_open(
    config: Config, workspace: Path, tmp_path: Path
) -> None:
    held = _HeldOpen(SESSION_ID)
    app = WorkbenchApp(
        config,
        cwd=workspace,
        brain=ScriptedBrain(delay_s=0),
        offline_reason=OFFLINE,
        session_id=SESSION_ID,
        config_path=tmp_path / "config.toml",
        theme_dirs=[],
        start=held,
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.query_one(PromptArea).has_focus)
        await pilot.press(*"read README.md", "enter", *"list the files", "ctrl+b")  # typed as the app opens
        assert app.client is None and app.query_one(PromptArea).text == ""
        assert any("goes as soon as it is open" in notice for notice in notices(app))
        held.gate.set()
        await until(pilot, lambda: app.client is not None and len(engine_of(app).events) > 0)
        engine = engine_of(app)
        await until(pilot, lambda: any(isinstance(e, AgentSpawned) and e.mode == "background" for e in engine.events))
        await engine.wait_all()
        sent = [e.text for e in engine.events if isinstance(e, UserMessage) and e.agent == "primary"]
        assert sent == ["read README.md"]
        (spawned,) = [e for e in engine.events if isinstance(e, AgentSpawned) and e.mode == "background"]
        assert spawned.task == "list the files"
        await pilot.press("ctrl+q")
