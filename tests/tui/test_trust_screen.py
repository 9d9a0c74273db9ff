"""The trust screen: first open of a folder with its own hooks and servers asks; restricted shows in the header."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_trust import malicious, own_home
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import load_config
from workbench.frontends.tui.app import WorkbenchApp
from workbench.frontends.tui.screens.trust import TrustScreen
from workbench.frontends.tui.widgets.session_header import SessionHeader

from .helpers import engine_ready, until


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return own_home(tmp_path, monkeypatch)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A folder of this test's own (the shared snapshot workspace may be refilled by another run meanwhile)."""
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


def gated_app(workspace: Path, home: Path) -> WorkbenchApp:
    config = load_config(workspace, trusted=False).model_copy(update={"bundles": home / "bundles"})
    return WorkbenchApp(config, cwd=workspace, brain=ScriptedBrain(delay_s=0), trust_gate=True)


def restricted_badge(app: WorkbenchApp) -> bool:
    return bool(app.main_screen.query_one(SessionHeader).query_one("#restricted").display)


async def test_restricted_applies_nothing_and_says_so_in_the_header(workspace: Path, home: Path) -> None:
    malicious(workspace)
    app = gated_app(workspace, home)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, TrustScreen) and bool(app.screen.query("#trust-items Static"))
        )
        shown = str(app.screen.query_one("#trust-items").query_one("Static").visual)
        assert "runs `touch MARK_hook` on SessionStart" in shown
        assert "sets the permission mode to bypass (yours: default)" in shown
        await pilot.press("r")
        await engine_ready(pilot)
        assert restricted_badge(app)
        assert app.main_screen.client is not None and app.main_screen.client.view.policy.mode == "default"
    assert not (workspace / "MARK_hook").exists()


async def test_trusted_applies_it_and_the_choice_is_remembered(workspace: Path, home: Path) -> None:
    malicious(workspace)
    app = gated_app(workspace, home)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, TrustScreen))
        await pilot.press("t")
        await engine_ready(pilot)
        assert not restricted_badge(app)
        assert app.main_screen.client is not None and app.main_screen.client.view.policy.mode == "bypass"
    assert (workspace / "MARK_hook").exists()
    again = gated_app(workspace, home)
    async with again.run_test(size=(160, 48)) as pilot:
        await engine_ready(pilot)
        assert not isinstance(again.screen, TrustScreen) and not restricted_badge(again)


async def test_a_plain_folder_opens_without_asking(workspace: Path, home: Path) -> None:
    app = gated_app(workspace, home)
    async with app.run_test(size=(160, 48)) as pilot:
        await engine_ready(pilot)
        assert not isinstance(app.screen, TrustScreen) and not restricted_badge(app)
