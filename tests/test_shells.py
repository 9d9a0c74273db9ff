"""Background shells: started by Bash with run_in_background, read in slices, stopped with every child."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engine_driver import ask, next_event, run
from tests.processes import alive, group_members, shells_owned_by
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.client import LocalClient
from workbench.engine.config import Config
from workbench.engine.engine import Engine
from workbench.engine.shell_output import shell_output
from workbench.engine.views.shells import Shells
from workbench.protocol.commands import Cancel, Close, SetMode, Spawn, StopShell
from workbench.protocol.events import Event, ShellEnded, ShellStarted, ToolCall, ToolResult
from workbench.tools.base import ToolContext, ToolOutput
from workbench.tools.registry import ToolRegistry, builtin_tools
from workbench.tools.shells import SHELLS, Shell, ShellManager

# prints for five seconds, then idles: a stop always finds it running
TICKER = "for i in $(seq 1 50); do echo tick $i; sleep 0.1; done; sleep 60"
# a shell whose children are a tree of their own
TREE = "sleep 300 & sh -c 'sleep 301 & sleep 302 & echo started; wait' & wait"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return workspace


@pytest.fixture
async def tools(ws: Path) -> Any:
    made = Tools(ws)
    yield made
    await made.manager.close()  # a failed test leaves nothing running


class Tools:
    """The tools as an agent calls them, with a manager whose log is a list."""

    def __init__(self, ws: Path) -> None:
        self.logged: list[Event] = []
        self.manager = ShellManager(ws.parent / "shells", self._record)
        self.registry = ToolRegistry(builtin_tools())
        self.ctx = ToolContext(workspace=ws, agent_id="primary", extras={SHELLS: self.manager})

    async def _record(self, event: Event) -> None:
        self.logged.append(event)

    async def call(self, name: str, **raw: Any) -> ToolOutput:
        tool = self.registry.get(name)
        assert tool is not None
        return await self.registry.invoke(tool, self.registry.validate(name, raw), self.ctx)

    async def started(self, command: str) -> Shell:
        out = await self.call("Bash", command=command, run_in_background=True)
        assert out.content.startswith("Command running in background with ID: bash_")
        return self.manager.get(out.content.split("ID: ")[1].split(".")[0])


async def grown_past(shell: Shell, size: int) -> None:
    """Wait until the shell has written more than ``size`` bytes (the manager says when it grows)."""
    while shell.kept <= size:
        shell.grew.clear()
        if shell.kept > size:
            return
        await asyncio.wait_for(shell.grew.wait(), 30)


def ticks(text: str) -> list[int]:
    return [int(line.split()[1]) for line in text.splitlines() if line.startswith("tick ")]


async def test_a_shell_printing_for_five_seconds_is_read_in_three_slices_then_stopped(tools: Tools) -> None:
    shell = await tools.started(TICKER)
    slices = []
    for _ in range(3):
        await grown_past(shell, shell.read_at)
        out = await tools.call("TaskOutput", task_id=shell.id, block=False)
        assert out.content.startswith(f"[{shell.id} · running for ")
        slices.append(ticks(out.content))
    assert all(slices), slices
    seen = [n for part in slices for n in part]
    assert seen == list(range(1, len(seen) + 1)), "each read returns what is new, in order, nothing twice"
    stopped = await tools.call("TaskStop", task_id=shell.id)
    assert stopped.content == f"Stopped {shell.id} ({TICKER}) and every process it started."
    ended = [e for e in tools.logged if isinstance(e, ShellEnded)]
    assert [(e.shell_id, e.how, e.by) for e in ended] == [(shell.id, "stopped", "primary")]
    assert not group_members(shell.process.pid)
    after = await tools.call("TaskOutput", task_id=shell.id)
    assert "stopped" in after.content.splitlines()[0]
    await tools.manager.close()


async def test_a_stopped_shell_leaves_no_process_of_its_tree_behind(tools: Tools) -> None:
    shell = await tools.started(TREE)
    await grown_past(shell, 0)  # "started": every child is running
    tree = group_members(shell.process.pid)
    assert len(tree) >= 4, tree  # bash, its sleep, the inner shell and its two sleeps
    await tools.call("TaskStop", shell_id=shell.id)  # Claude Code's older field name works too
    assert not [pid for pid in tree if alive(pid)]
    await tools.manager.close()


async def test_a_shell_that_exits_says_how_and_its_left_over_children_go_with_it(tools: Tools) -> None:
    shell = await tools.started("sleep 300 & echo done; exit 3")
    out = await tools.call("TaskOutput", task_id=shell.id, block=True, timeout=30_000)
    assert out.content.splitlines()[0].startswith(f"[{shell.id} · exited with code 3 · 5 bytes of output")
    assert "done" in out.content
    assert not group_members(shell.process.pid)
    assert [(e.how, e.exit_code) for e in tools.logged if isinstance(e, ShellEnded)] == [("exited", 3)]


async def test_filter_keeps_matching_lines_and_a_bad_one_is_explained(tools: Tools) -> None:
    shell = await tools.started("printf 'ok 1\\nwarn 2\\nok 3\\n'")
    out = await tools.call("TaskOutput", task_id=shell.id, filter="^ok")
    assert out.content.splitlines()[1:] == ["ok 1", "ok 3"]
    bad = await tools.call("TaskOutput", task_id=shell.id, filter="(")
    assert bad.is_error and "filter '(' is not a valid regular expression" in bad.content
    unknown = await tools.call("TaskOutput", task_id="bash_99")
    assert unknown.is_error and unknown.content == "No background shell 'bash_99' (shells: bash_1)"


async def test_output_past_the_cap_is_counted_not_kept(tools: Tools) -> None:
    tools.manager.cap_bytes = 1000
    shell = await tools.started("head -c 5000 /dev/zero | tr '\\0' x")
    out = await tools.call("TaskOutput", task_id=shell.id, timeout=30_000)
    assert "5,000 bytes of output, 4,000 past the 1,000-byte cap not kept]" in out.content.splitlines()[0]
    assert shell.path.stat().st_size == 1000
    ended = next(e for e in tools.logged if isinstance(e, ShellEnded))
    assert (ended.output_bytes, ended.dropped_bytes) == (5000, 4000)


# --- through the engine ---------------------------------------------------------------------


async def open_engine(ws: Path, turns: list[Any]) -> Engine:
    script = ws.parent / "script.yaml"
    script.write_text(yaml.safe_dump(turns))
    config = Config(bundles=ws.parent / "bundles", fsync="never")
    engine = await Engine.open(config, ws, ScriptedBrain(script))
    await run(engine, SetMode(mode="bypass"))
    return engine


def background(command: str) -> dict[str, Any]:
    return {"tool_use": {"name": "Bash", "input": {"command": command, "run_in_background": True}}}


async def test_shells_go_with_a_cancelled_agent_and_the_log_says_so(ws: Path) -> None:
    busy = {"tool_use": {"name": "Bash", "input": {"command": "sleep 300"}}}
    engine = await open_engine(ws, [background(TREE), busy, "never reached"])
    started = next_event(engine, lambda e: isinstance(e, ShellStarted))
    working = next_event(engine, lambda e: isinstance(e, ToolCall) and e.input.get("command") == "sleep 300")
    child = await run(engine, Spawn(mode="background", task="watch"))
    shell = await asyncio.wait_for(started, 30)
    assert isinstance(shell, ShellStarted) and shell.agent == child
    await asyncio.wait_for(working, 30)
    tree = group_members(engine.toolbox.shells.get(shell.shell_id).process.pid)
    ended = next_event(engine, lambda e: isinstance(e, ShellEnded))
    await run(engine, Cancel(agent=child))
    event = await asyncio.wait_for(ended, 30)
    assert isinstance(event, ShellEnded) and (event.agent, event.how) == (child, "agent_ended")
    assert not [pid for pid in tree if alive(pid)]
    assert not engine.view.shells.running()
    await engine.close()


async def test_an_agent_that_finishes_takes_its_shells_with_it(ws: Path) -> None:
    engine = await open_engine(ws, [background("sleep 300"), "started it"])
    ended = next_event(engine, lambda e: isinstance(e, ShellEnded))
    await run(engine, Spawn(mode="background", task="watch"))
    event = await asyncio.wait_for(ended, 30)
    assert isinstance(event, ShellEnded) and event.how == "agent_ended"
    await engine.close()


async def test_closing_the_engine_stops_every_shell_and_the_view_shows_them(ws: Path) -> None:
    engine = await open_engine(ws, [background(TREE), background("sleep 200"), "both run"])
    await ask(engine, "start them")
    rows = engine.view.shells.of("primary")
    assert [(r.shell_id, r.running) for r in rows] == [("bash_1", True), ("bash_2", True)]
    assert rows[0].output_path.endswith(f"{engine.session.id}/shells/bash_1.log")
    results = [e.content for e in engine.events if isinstance(e, ToolResult)]
    assert results[0].startswith("Command running in background with ID: bash_1.")
    trees = [group_members(engine.toolbox.shells.get(r.shell_id).process.pid) for r in rows]
    await run(engine, Close())
    assert not [pid for tree in trees for pid in tree if alive(pid)]
    assert not shells_owned_by(os.getpid())
    assert [(e.shell_id, e.how) for e in engine.events if isinstance(e, ShellEnded)] == [
        ("bash_1", "session_closed"),
        ("bash_2", "session_closed"),
    ]


async def test_the_person_stops_a_shell_with_a_command(ws: Path) -> None:
    engine = await open_engine(ws, [background("sleep 200"), "running"])
    await ask(engine, "start it")
    outcome = await engine.submit(StopShell(shell_id="bash_1"))
    assert outcome.ok and outcome.message == "Stopped bash_1: sleep 200"
    row = engine.view.shells.rows["bash_1"]
    assert (row.running, row.how, row.outcome) == (False, "stopped", "stopped")
    again = await engine.submit(StopShell(shell_id="bash_1"))
    assert not again.ok and again.message == "bash_1 has already ended (stopped)."
    missing = await engine.submit(StopShell(shell_id="bash_9"))
    assert not missing.ok and missing.message == "There is no background shell 'bash_9'."
    await engine.close()


async def test_a_resumed_session_marks_shells_of_the_stopped_process_ended(ws: Path) -> None:
    engine = await open_engine(ws, [background("sleep 200"), "running"])
    await ask(engine, "start it")
    # the process dies without closing: its shells die too (here: stopped by hand, unlogged)
    shell = engine.toolbox.shells.get("bash_1")
    shell.how = "session_closed"
    shell.process.kill()
    await shell.process.wait()
    await engine.session.close()
    config = Config(bundles=ws.parent / "bundles", fsync="never")
    resumed = await Engine.resume(config, ws, ScriptedBrain(), engine.session.id)
    assert not resumed.view.shells.running()
    assert resumed.view.shells.rows["bash_1"].how == "session_closed"
    await resumed.close()


async def test_a_screen_reads_a_shells_output_through_the_client(ws: Path) -> None:
    engine = await open_engine(ws, [background("seq 1 3000; sleep 300"), "it runs"])
    await ask(engine, "start it")
    client = LocalClient(engine)
    path = Path(engine.view.shells.rows["bash_1"].output_path)
    deadline = asyncio.get_running_loop().time() + 30
    while b"3000\n" not in path.read_bytes():  # the file fills as the command writes
        assert asyncio.get_running_loop().time() < deadline, "the shell wrote nothing"
        await asyncio.sleep(0.05)
    size = len("".join(f"{i}\n" for i in range(1, 3001)))
    whole = await client.shell_output("bash_1")
    assert (whole.size, whole.cut, whole.tail.startswith("1\n2\n")) == (size, False, True)
    tail = await client.shell_output("bash_1", tail_bytes=100)
    assert tail.cut and tail.tail.endswith("2999\n3000\n") and tail.tail.split("\n")[0].isdigit()
    assert len(tail.tail) < 100 and not tail.tail.startswith("\n")  # whole lines only
    assert (await client.shell_output("bash_1", tail_bytes=0)).size == size
    unknown = await client.shell_output("bash_9")
    assert unknown.note == "no background shell 'bash_9' in this session"
    await engine.close()


def test_a_log_cannot_make_a_screen_read_a_file_outside_its_shells_folder(tmp_path: Path) -> None:
    shells = Shells()
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not for screens")
    shells.apply(ShellStarted(agent="primary", shell_id="bash_1", command="cat", output_path=str(secret)))
    output = shell_output(shells, tmp_path / "session" / "shells", "bash_1")
    assert output.tail == "" and output.note.startswith("its output is not in this session's folder")
    gone = shell_output(shells, secret.parent, "bash_1")
    secret.unlink()
    assert shell_output(shells, secret.parent, "bash_1").note.startswith("its output cannot be read")
    assert gone.tail == "not for screens"
