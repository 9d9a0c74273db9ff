"""The headless commands, run as a user would: a real process in a temporary workspace."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from workbench import __version__
from workbench.log.bundle import BundleStore
from workbench.protocol.events import ToolCall, ToolResult


def workbench(
    *args: str, cwd: Path, bundles: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    environ |= {"WORKBENCH_BUNDLES": str(bundles), "XDG_CONFIG_HOME": str(cwd / ".config"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args],
        cwd=cwd,
        env=environ,
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


# ---------------------------------------------------------------- exit codes and clear endings


def test_an_answer_given_despite_a_failed_mcp_server_exits_zero_with_a_warning(workspace: Path, tmp_path: Path) -> None:
    (workspace / ".mcp.json").write_text(json.dumps({"mcpServers": {"gone": {"command": "no-such-mcp-server-here"}}}))
    done = workbench("run", "--brain", "scripted", "read README.md", cwd=workspace, bundles=tmp_path / "b")
    assert done.returncode == 0, done.stderr
    assert "lights the way" in done.stdout
    assert "MCP server gone" in done.stderr


def test_an_unreachable_api_fails_the_run(workspace: Path, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once the socket is closed
    user_config = workspace / ".config" / "workbench" / "config.toml"  # the user's own names the server
    user_config.parent.mkdir(parents=True)
    user_config.write_text(f'base_url = "http://127.0.0.1:{port}"\n[api]\nmax_attempts = 1\n')
    done = workbench(
        "run", "--brain", "anthropic", "hello", cwd=workspace, bundles=tmp_path / "b", env={"ANTHROPIC_API_KEY": "k"}
    )
    assert done.returncode == 1
    assert f"Could not connect to the API at http://127.0.0.1:{port}" in done.stderr


def test_a_run_refused_for_want_of_a_key_leaves_no_session(workspace: Path, tmp_path: Path) -> None:
    bundles = tmp_path / "b"
    env = {"HOME": str(tmp_path)}  # no credentials profile either
    done = workbench("run", "--brain", "anthropic", "hello", cwd=workspace, bundles=bundles, env=env)
    assert done.returncode == 1
    assert "No API key: set ANTHROPIC_API_KEY" in done.stderr
    assert "session" not in done.stderr
    assert BundleStore(bundles).session_ids() == []


def test_run_piped_into_head_stops_quietly(workspace: Path, tmp_path: Path) -> None:
    (workspace / "big.txt").write_text("\n".join(f"line {n} of many" for n in range(3000)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env |= {"WORKBENCH_BUNDLES": str(tmp_path / "b"), "XDG_CONFIG_HOME": str(workspace / ".config")}
    run = subprocess.Popen(
        [sys.executable, "-m", "workbench", "run", "--brain", "scripted", "read big.txt"],
        cwd=workspace,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert run.stdout is not None and run.stdout.readline()
    run.stdout.close()  # what `| head -1` does after its line
    err = run.stderr.read()  # type: ignore[union-attr]
    assert run.wait(timeout=60) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_importing_a_missing_file_says_so(workspace: Path, tmp_path: Path) -> None:
    done = workbench("bundles", "import", str(tmp_path / "nowhere.jsonl"), cwd=workspace, bundles=tmp_path / "b")
    assert done.returncode == 1
    assert f"cannot import {tmp_path / 'nowhere.jsonl'}: no such file" in done.stderr


def test_version(workspace: Path, tmp_path: Path) -> None:
    done = workbench("--version", cwd=workspace, bundles=tmp_path / "b")
    assert done.returncode == 0 and done.stdout.strip() == f"workbench {__version__}"
