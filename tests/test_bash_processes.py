"""Bash: everything a command starts ends with its call, and with the app, however the app ends."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.processes import alive, pid_in, until, until_sync
from workbench.tools.base import ToolContext, ToolOutput
from workbench.tools.registry import ToolRegistry, builtin_tools
from workbench.tools.shell_guard import MARK, kill_orphans

SPAWNS_TWO = "setsid sleep 777 & echo $! > escaped.pid; sleep 778 & echo $! > child.pid; wait"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return workspace


async def bash(ws: Path, command: str, **raw: Any) -> ToolOutput:
    registry = ToolRegistry(builtin_tools())
    tool = registry.get("Bash")
    assert tool is not None
    ctx = ToolContext(workspace=ws, agent_id="a1", session_id="s1")
    return await registry.invoke(tool, registry.validate("Bash", {"command": command, **raw}), ctx)


async def test_a_process_that_leaves_the_session_ends_with_the_call(ws: Path) -> None:
    out = await bash(ws, "setsid sleep 777 & echo $!")
    escaped = int(out.content.splitlines()[0])
    await until(lambda: not alive(escaped), "the setsid child to end")


async def test_a_backgrounded_child_does_not_hold_the_call_open(ws: Path) -> None:
    # the call's own timeout is ten minutes: the safety net here is far shorter
    out = await asyncio.wait_for(bash(ws, "sleep 600 & echo $! > child.pid; echo started", timeout=600), 60)
    assert out.content == "started\n\n[exit code 0]" and not out.is_error
    child = pid_in(ws / "child.pid")
    assert child is not None
    await until(lambda: not alive(child), "the backgrounded sleep to end")


async def test_an_interrupt_ends_the_whole_tree(ws: Path) -> None:
    task = asyncio.create_task(bash(ws, SPAWNS_TWO))
    await until(lambda: pid_in(ws / "escaped.pid") and pid_in(ws / "child.pid"), "both children to start")
    pids = [pid_in(ws / "escaped.pid"), pid_in(ws / "child.pid")]
    assert all(alive(p) for p in pids)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await until(lambda: not any(alive(p) for p in pids), "both children to end")


async def test_a_timeout_ends_the_whole_tree(ws: Path) -> None:
    out = await asyncio.wait_for(bash(ws, SPAWNS_TWO, timeout=1), 60)
    assert out.is_error and "[timed out after 1 s; killed the command and everything it started]" in out.content
    pids = [pid_in(ws / "escaped.pid"), pid_in(ws / "child.pid")]
    await until(lambda: not any(alive(p) for p in pids if p), "both children to end")


async def test_what_a_run_no_longer_running_left_is_ended(tmp_path: Path) -> None:
    """The guard of a run died with it: the next run's first call ends what was left."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_owner = f"{int(gone.stdout)}-12345"
    env = {**os.environ, MARK: f"{dead_owner}-1"}
    leftover = subprocess.Popen(["sleep", "777"], env=env, start_new_session=True)
    unrelated = subprocess.Popen(["sleep", "779"], env={**os.environ, MARK: "not-a-call"}, start_new_session=True)
    try:
        assert kill_orphans() >= 1
        assert leftover.wait(timeout=60) == -signal.SIGKILL
        assert unrelated.poll() is None
    finally:
        unrelated.kill()
        unrelated.wait()


# ---------------------------------------------------------------- the app stopped from outside


def _start_run(ws: Path, tmp_path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_") and k != MARK}
    env |= {"WORKBENCH_BUNDLES": str(tmp_path / "bundles"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    prompt = f"run `{SPAWNS_TWO}`"
    return subprocess.Popen(
        [sys.executable, "-m", "workbench", "run", "--yes", "--brain", "scripted", prompt],
        cwd=ws,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=lambda s: s.name)
def test_stopping_a_run_ends_the_commands_it_was_running(ws: Path, tmp_path: Path, sig: signal.Signals) -> None:
    run = _start_run(ws, tmp_path)
    try:
        until_sync(lambda: pid_in(ws / "escaped.pid") and pid_in(ws / "child.pid"), "the command's children")
        pids = [pid_in(ws / "escaped.pid"), pid_in(ws / "child.pid")]
        run.send_signal(sig)
        _, err = run.communicate(timeout=60)
        until_sync(lambda: not any(alive(p) for p in pids if p), "the command's children to end")
    finally:
        run.kill()
        run.wait()
    if sig != signal.SIGKILL:
        assert run.returncode == 128 + sig, err
        assert "Traceback" not in err
