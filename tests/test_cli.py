"""The headless commands, run as a user would: a real process in a temporary workspace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.log.bundle import BundleStore
from workbench.protocol.events import ToolCall, ToolResult


def workbench(*args: str, cwd: Path, bundles: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env |= {"WORKBENCH_BUNDLES": str(bundles), "XDG_CONFIG_HOME": str(cwd / ".config")}
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "README.md").write_text(
        "# Lanterns\n\nLanterns lights the way through dark logs.\n\n## Install\n\nRun make.\n"
    )
    return ws


async def test_run_reads_and_summarises_and_leaves_a_bundle(workspace: Path, tmp_path: Path) -> None:
    bundles = tmp_path / "bundles"
    done = workbench("run", "--brain", "scripted", "read README.md and summarise it", cwd=workspace, bundles=bundles)
    assert done.returncode == 0, done.stderr
    assert "lights the way" in done.stdout
    assert "offline · scripted brain" in done.stderr
    session_id = done.stderr.strip().splitlines()[-1].removeprefix("session ")
    store = BundleStore(bundles)
    events = (await store.read(store.resolve(session_id))).events
    call = next(e for e in events if isinstance(e, ToolCall))
    result = next(e for e in events if isinstance(e, ToolResult))
    assert call.name == "Read" and call.input == {"file_path": "README.md"}
    assert "Lanterns lights the way" in result.content and not result.is_error


def test_bundles_ls_and_show(workspace: Path, tmp_path: Path) -> None:
    bundles = tmp_path / "bundles"
    workbench("run", "--brain", "scripted", "read README.md", cwd=workspace, bundles=bundles)
    listed = workbench("bundles", "ls", cwd=workspace, bundles=bundles)
    assert listed.returncode == 0 and "read README.md" in listed.stdout
    session_id = listed.stdout.split()[0]
    shown = workbench("bundles", "show", session_id[:17], cwd=workspace, bundles=bundles)
    assert shown.returncode == 0, shown.stderr
    assert "user:" in shown.stdout and "→ Read" in shown.stdout and "← Read" in shown.stdout
    assert "usage: in" in shown.stdout


def test_bash_without_a_terminal_is_denied_and_yes_allows_it(workspace: Path, tmp_path: Path) -> None:
    bundles = tmp_path / "bundles"
    denied = workbench("run", "--brain", "scripted", "run `echo magic-word`", cwd=workspace, bundles=bundles)
    assert "magic-word\n" not in denied.stdout and "denied" in denied.stderr
    allowed = workbench("run", "--yes", "--brain", "scripted", "run `echo magic-word`", cwd=workspace, bundles=bundles)
    assert "magic-word" in allowed.stdout


def test_unknown_session_and_bad_config_are_clear_errors(workspace: Path, tmp_path: Path) -> None:
    missing = workbench("bundles", "show", "1999", cwd=workspace, bundles=tmp_path / "none")
    assert missing.returncode == 1 and "no session matches '1999'" in missing.stderr
    (workspace / ".workbench").mkdir()
    (workspace / ".workbench" / "config.toml").write_text('[permissions]\nmode = "yolo"\n')
    bad = workbench("bundles", "ls", cwd=workspace, bundles=tmp_path / "b")
    assert bad.returncode == 2
    assert "config.toml: permissions.mode" in bad.stderr and "'yolo'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_primers_ls_and_show(workspace: Path, tmp_path: Path) -> None:
    listed = workbench("primers", "ls", cwd=workspace, bundles=tmp_path / "b")
    assert listed.returncode == 0
    for name in ("feature", "bug-smash", "refactor", "docs", "test", "review"):
        assert name in listed.stdout
    shown = workbench("primers", "show", "--yes", "feature", "add", "README.md", cwd=workspace, bundles=tmp_path / "b")
    assert shown.returncode == 0, shown.stderr
    assert "Lanterns lights the way" in shown.stdout  # the named file was included
    assert "tokens" in shown.stdout.splitlines()[-1]
