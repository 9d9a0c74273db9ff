"""Fixtures for the TUI tests: a fixed clock, time zone and workspace, the offline brain, no delays.

Snapshots must match on a fresh machine tomorrow, so everything shown is
pinned: the session id, the time every event is stamped with (so elapsed times
read 0:00), the local time zone, and the workspace path (it is in the system
prompt, hence in the token counts, and in the log's first line).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from workbench.brains.base import Brain
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.frontends.tui.app import WorkbenchApp
from workbench.frontends.tui.locations import BUILTIN_THEMES

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SESSION_ID = "20260102T030405Z-test"
OFFLINE = "offline · scripted brain — set ANTHROPIC_API_KEY to use Claude"
WORKSPACE = Path("/tmp/workbench-tui-tests/ws")
README = "# Demo project\n\nA small project for the workbench tests.\n\n## Usage\n\nRun `make test`.\n"


@pytest.fixture(autouse=True)
def utc_local_time() -> Any:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


@pytest.fixture(scope="session")
def workspace_held() -> Iterator[None]:
    """The workspace path is one for every run on this machine (it is in the snapshots): a second
    suite running beside this one waits for it rather than emptying it under this one's feet."""
    WORKSPACE.parent.mkdir(parents=True, exist_ok=True)
    with open(WORKSPACE.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture
def workspace(workspace_held: None) -> Path:
    """Always the same path, freshly filled."""
    shutil.rmtree(WORKSPACE, ignore_errors=True)
    WORKSPACE.mkdir(parents=True)
    (WORKSPACE / "README.md").write_text(README)
    (WORKSPACE / "app.py").write_text("def main():\n    print('hello')\n")
    return WORKSPACE


@pytest.fixture
def config(workspace: Path) -> Config:
    # the workspace is no git repository: agents share it, as they are told to here (a worktree agent would
    # share it too, with a warning on screen); test_worktrees.py makes it one and works with worktrees
    # the store at a fixed path too: worktrees live in it, and their path is in the agents' system prompt
    bundles = workspace.parent / "bundles"
    shutil.rmtree(bundles, ignore_errors=True)
    return Config(bundles=bundles, scripted_delay_s=0, isolation="shared", pane_redraw_s=0)


AppFactory = Callable[..., WorkbenchApp]


@pytest.fixture
def make_app(tmp_path: Path, workspace: Path, config: Config) -> AppFactory:
    def make(brain: Brain | None = None, theme_dirs: list[Path] | None = None, **config_changes: Any) -> WorkbenchApp:
        return WorkbenchApp(
            config.model_copy(update=config_changes),
            cwd=workspace,
            brain=brain or ScriptedBrain(delay_s=0),
            offline_reason=OFFLINE,
            clock=lambda: NOW,
            session_id=SESSION_ID,
            config_path=tmp_path / "user-config" / "config.toml",
            theme_dirs=theme_dirs if theme_dirs is not None else [BUILTIN_THEMES],
        )

    return make
