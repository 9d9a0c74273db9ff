"""The first screen must not wait for heavy imports, and a session that cannot start is explained."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from workbench.frontends.tui.app import WorkbenchApp
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.transcript_blocks import ErrorNote

from .helpers import notices, until

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
