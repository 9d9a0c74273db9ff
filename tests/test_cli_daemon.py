"""The daemon's commands as a user types them: serve, run --detach, ps; a second serve refuses."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "WORKBENCH_"))}
    runtime = tempfile.mkdtemp(prefix="wbc-")  # the socket's folder: short, as Unix sockets want
    return base | {
        "WORKBENCH_BUNDLES": str(tmp_path / "store"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_RUNTIME_DIR": runtime,
    }


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "README.md").write_text("# Kite\n\nKite flies small models.\n")
    return ws


def workbench(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def served(env: dict[str, str], workspace: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", "--brain", "scripted", "serve"],
        env=env,
        cwd=workspace,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # says where it serves once it listens
    assert "serving" in first, first
    yield process
    process.terminate()
    process.wait(timeout=30)


def test_run_detach_returns_at_once_and_ps_shows_the_agent(
    served: subprocess.Popen[str], env: dict[str, str], workspace: Path
) -> None:
    started = workbench("run", "--detach", "read README.md", env=env, cwd=workspace)
    assert started.returncode == 0, started.stderr
    assert "runs in the background" in started.stdout and "workbench attach" in started.stdout
    session = started.stdout.split()[1].rstrip(":")
    listed = workbench("ps", env=env, cwd=workspace)
    assert listed.returncode == 0
    assert session in listed.stdout and "agent-1" in listed.stdout and "read README.md" in listed.stdout


def test_a_second_daemon_refuses_with_the_first_ones_pid(
    served: subprocess.Popen[str], env: dict[str, str], workspace: Path
) -> None:
    second = workbench("serve", env=env, cwd=workspace)
    assert second.returncode == 1
    assert f"pid {served.pid}" in second.stderr and "already serves" in second.stderr


def test_ps_without_a_daemon_says_how_to_start_one(env: dict[str, str], workspace: Path) -> None:
    listed = workbench("ps", env=env, cwd=workspace)
    assert listed.returncode == 1 and "workbench serve" in listed.stderr
