"""Background agents, the hierarchy and its limits, orchestration, pause and resume."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from workbench.brains.scripted import ScriptedBrain
from workbench.core.config import Config, LimitsConfig
from workbench.core.events import AgentFinished, AgentSpawned, ChildResult, Status, ToolCall, ToolResult, UserMessage
from workbench.core.supervisor import SpawnRefused
from workbench.core.workbench import Workbench


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "docs").mkdir(parents=True)
    (ws / "README.md").write_text("# Kite\n\nKite flies small models in the terminal.\n")
    (ws / "docs" / "guide.md").write_text("# Guide\n\nStart Kite with kite run.\n")
    (ws / "app.py").write_text("print('kite')\n")
    return ws


async def open_bench(workspace: Path, brain=None, **limits) -> Workbench:
    config = Config(bundles=workspace.parent / "bundles", fsync="never", limits=LimitsConfig(**limits))
    return await Workbench.open(config, workspace, brain or ScriptedBrain())


async def test_background_agent_runs_while_the_primary_answers(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain(delay_s=0.005))
    child = await bench.background("read docs/guide.md")
    assert child.spec.mode == "background" and child.spec.level == 2
    answer = await bench.ask("read README.md")
    await bench.wait_all()
    await bench.close()
    assert "flies small models" in answer
    assert child.state == "done" and "kite run" in child.result


async def test_handing_a_background_result_to_the_primary(workspace: Path) -> None:
    bench = await open_bench(workspace)
    child = await bench.background("read docs/guide.md")
    await bench.wait_all()
    await bench.hand_result(child.id)
    await bench.primary.settled()
    await bench.close()
    handed = [e for e in bench.session.events_of("primary") if isinstance(e, UserMessage)][-1]
    assert handed.text.startswith(f"Result of the background agent {child.id}") and "kite run" in handed.text
    assert any(isinstance(e, ChildResult) and e.child == child.id for e in bench.session.events_of("primary"))


async def test_concurrency_limit_queues_visibly(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain(delay_s=0.01), concurrency=1, children_per_agent=5)
    first = await bench.background("read README.md")
    second = await bench.background("read docs/guide.md")
    await bench.wait_all()
    await bench.close()
    states = [e.state for e in bench.session.events_of(second.id) if isinstance(e, Status)]
    assert states[0] == "queued"
    assert first.state == second.state == "done"


async def test_children_and_depth_limits(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain(delay_s=0.02), children_per_agent=1)
    await bench.background("read README.md")
    with pytest.raises(SpawnRefused, match="limit 1"):
        await bench.background("read app.py")
    await bench.wait_all()
    await bench.close()


async def test_a_tertiary_has_no_task_tool_and_is_refused_if_it_tries(workspace: Path, tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"
    script.write_text(
        "- tool_use: {name: Task, input: {description: level two, prompt: go deeper}}\n"
        "- tool_use: {name: Task, input: {description: level three, prompt: go deeper}}\n"
        "- tool_use: {name: Task, input: {description: level four, prompt: too deep}}\n"
        "- text: tertiary gives up\n"
        "- text: secondary relays\n"
        "- text: primary relays\n"
    )
    bench = await open_bench(workspace, ScriptedBrain(script=script))
    await bench.ask("start")
    await bench.close()
    spawned = [e for e in bench.events if isinstance(e, AgentSpawned)]
    assert [e.level for e in spawned] == [1, 2, 3]
    assert "Task" not in spawned[2].tools
    refusal = [e for e in bench.session.events_of(spawned[2].agent) if isinstance(e, ToolResult)][0]
    assert refusal.is_error and "cannot spawn sub-agents" in refusal.content


async def test_orchestration_fans_out_and_aggregates(workspace: Path) -> None:
    bench = await open_bench(workspace)
    bench.orchestrate("summarise the docs README.md and docs/guide.md; list python files")
    await bench.primary.settled()
    await bench.close()
    spawned = [e for e in bench.events if isinstance(e, AgentSpawned)]
    levels = sorted(e.level for e in spawned)
    assert levels == [1, 2, 2, 3, 3]  # two components; the docs one fans out to two tertiaries
    answer = bench.primary.result
    assert "## Who did what" in answer
    assert "Kite flies small models" in answer and "kite run" in answer and "app.py" in answer
    for child in spawned[1:]:
        assert bench.supervisor.agents[child.agent].state == "done"


async def test_cancel_propagates_to_descendants(workspace: Path, tmp_path: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain(delay_s=0.2))
    child = await bench.background("delegate: read README.md")
    for _ in range(200):
        await asyncio.sleep(0.01)
        if bench.supervisor.children(child.id):
            break
    grandchild = bench.supervisor.children(child.id)[0]
    bench.cancel(child.id)
    await bench.wait_all()
    await bench.close()
    assert child.state == "cancelled" and grandchild.state == "cancelled"
    assert bench.primary.state == "idle"


async def test_pause_stops_at_a_safe_point_and_survives_a_restart(workspace: Path) -> None:
    config = Config(bundles=workspace.parent / "bundles", fsync="never")
    bench = await Workbench.open(config, workspace, ScriptedBrain(delay_s=0.05))
    child = await bench.background("read README.md")
    bench.pause(child.id)
    for _ in range(200):
        await asyncio.sleep(0.01)
        if child.state == "paused":
            break
    assert child.state == "paused"
    session_id = bench.session.id
    await bench.close()

    again = await Workbench.resume(config, workspace, ScriptedBrain(), session_id)
    revived = again.agent(child.id)
    assert revived.state == "paused"
    again.resume_agent(child.id)
    await again.wait_all()
    await again.close()
    assert revived.state == "done" and "Kite flies small models" in revived.result
    finished = [e for e in again.session.events_of(child.id) if isinstance(e, AgentFinished)]
    assert len(finished) == 1


async def test_typing_into_a_finished_background_agent_revives_it(workspace: Path) -> None:
    bench = await open_bench(workspace)
    child = await bench.background("read README.md")
    await bench.wait_all()
    bench.send("read docs/guide.md", child.id)
    await bench.wait_all()
    await bench.close()
    reads = [e.input["file_path"] for e in bench.session.events_of(child.id) if isinstance(e, ToolCall)]
    assert reads == ["README.md", "docs/guide.md"] and child.state == "done"
