"""Background agents, the hierarchy and its limits, orchestration, pause and resume."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest

from tests.engine_driver import Answers, ask, next_event, run, spawn
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config, LimitsConfig
from workbench.engine.engine import Engine
from workbench.protocol.commands import Cancel, Compact, HandResult, Orchestrate, Pause, Resume, Send, Spawn
from workbench.protocol.events import (
    AgentFinished,
    AgentSpawned,
    ChildResult,
    PermissionDecision,
    Status,
    ToolCall,
    ToolResult,
    UserMessage,
)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "docs").mkdir(parents=True)
    (ws / "README.md").write_text("# Kite\n\nKite flies small models in the terminal.\n")
    (ws / "docs" / "guide.md").write_text("# Guide\n\nStart Kite with kite run.\n")
    (ws / "app.py").write_text("print('kite')\n")
    return ws


async def open_bench(workspace: Path, brain=None, **limits) -> Engine:
    config = Config(bundles=workspace.parent / "bundles", fsync="never", limits=LimitsConfig(**limits))
    return await Engine.open(config, workspace, brain or ScriptedBrain())


async def test_background_agent_runs_while_the_primary_answers(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain(delay_s=0.005))
    child = await spawn(bench, "background", "read docs/guide.md")
    assert child.spec.mode == "background" and child.spec.level == 2
    answer = await ask(bench, "read README.md")
    await bench.wait_all()
    await bench.close()
    assert "flies small models" in answer
    assert child.state == "done" and "kite run" in child.result


async def test_handing_a_background_result_to_the_primary(workspace: Path) -> None:
    bench = await open_bench(workspace)
    child = await spawn(bench, "background", "read docs/guide.md")
    await bench.wait_all()
    await run(bench, HandResult(agent=child.id))
    await bench.primary.settled()
    await bench.close()
    handed = [e for e in bench.session.events_of("primary") if isinstance(e, UserMessage)][-1]
    assert handed.text.startswith(f"Result from the background agent {child.id}") and "kite run" in handed.text
    result = next(e for e in bench.session.events_of("primary") if isinstance(e, ChildResult) and e.child == child.id)
    assert result.child_tokens > 0 and not result.is_error


async def test_concurrency_limit_queues_visibly(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain(delay_s=0.01), concurrency=1, children_per_agent=5)
    first = await spawn(bench, "background", "read README.md")
    second = await spawn(bench, "background", "read docs/guide.md")
    await bench.wait_all()
    await bench.close()
    states = [e.state for e in bench.session.events_of(second.id) if isinstance(e, Status)]
    assert states[0] == "queued"
    assert first.state == second.state == "done"


async def test_children_and_depth_limits(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain(delay_s=0.02), children_per_agent=1)
    await spawn(bench, "delegated", "read README.md")
    refused = await bench.submit(Spawn(mode="delegated", task="read app.py"))
    assert not refused.ok and "limit 1" in refused.message
    await bench.wait_all()
    await bench.close()


async def test_the_users_background_agents_are_not_held_to_the_children_limit(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain(delay_s=0.01), children_per_agent=1, concurrency=2)
    started = [await spawn(bench, "background", f"read {name}") for name in ("README.md", "app.py", "docs/guide.md")]
    await spawn(bench, "background", "list python files")
    await bench.wait_all()
    await bench.close()
    assert all(agent.state == "done" for agent in started)


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
    await ask(bench, "start")
    await bench.close()
    spawned = [e for e in bench.events if isinstance(e, AgentSpawned)]
    assert [e.level for e in spawned] == [1, 2, 3]
    assert "Task" not in spawned[2].tools
    refusal = [e for e in bench.session.events_of(spawned[2].agent) if isinstance(e, ToolResult)][0]
    assert refusal.is_error and "cannot spawn sub-agents" in refusal.content


async def test_orchestration_fans_out_and_aggregates(workspace: Path) -> None:
    bench = await open_bench(workspace)
    await run(bench, Orchestrate(goal="summarise the docs README.md and docs/guide.md; list python files"))
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
    spawned = next_event(bench, lambda e: isinstance(e, AgentSpawned) and e.level == 3)
    child = await spawn(bench, "background", "delegate: read README.md")
    await spawned
    grandchild = bench.supervisor.children(child.id)[0]
    await run(bench, Cancel(agent=child.id))
    await bench.wait_all()
    await bench.close()
    assert child.state == "cancelled" and grandchild.state == "cancelled"
    assert bench.primary.state == "idle"


async def test_pause_stops_at_a_safe_point_and_survives_a_restart(workspace: Path) -> None:
    config = Config(bundles=workspace.parent / "bundles", fsync="never")
    bench = await Engine.open(config, workspace, ScriptedBrain(delay_s=0.05))
    child = await spawn(bench, "background", "read README.md")
    paused = next_event(bench, lambda e: isinstance(e, Status) and e.agent == child.id and e.state == "paused")
    await run(bench, Pause(agent=child.id))
    await paused
    assert child.state == "paused"
    session_id = bench.session.id
    await bench.close()

    again = await Engine.resume(config, workspace, ScriptedBrain(), session_id)
    revived = again.agent(child.id)
    assert revived.state == "paused"
    await run(again, Resume(agent=child.id))
    await again.wait_all()
    await again.close()
    assert revived.state == "done" and "Kite flies small models" in revived.result
    finished = [e for e in again.session.events_of(child.id) if isinstance(e, AgentFinished)]
    assert len(finished) == 1


async def test_typing_into_a_finished_background_agent_revives_it(workspace: Path) -> None:
    bench = await open_bench(workspace)
    child = await spawn(bench, "background", "read README.md")
    await bench.wait_all()
    await run(bench, Send(agent=child.id, text="read docs/guide.md"))
    await bench.wait_all()
    await bench.close()
    reads = [e.input["file_path"] for e in bench.session.events_of(child.id) if isinstance(e, ToolCall)]
    assert reads == ["README.md", "docs/guide.md"] and child.state == "done"


async def test_user_delegation_gets_a_brief_and_returns_only_the_summary(workspace: Path) -> None:
    bench = await open_bench(workspace)
    await ask(bench, "read app.py, and never touch the docs folder")
    child = await spawn(bench, "delegated", "read README.md")
    await bench.wait_all()
    await bench.primary.settled()
    await bench.close()
    task = [e.text for e in bench.session.events_of(child.id) if isinstance(e, UserMessage)][0]
    assert task.startswith("Your task: read README.md")
    assert "app.py" in task and "never touch the docs folder" in task
    result = [e for e in bench.session.events_of("primary") if isinstance(e, ChildResult)][-1]
    assert result.child == child.id and result.child_tokens > 0
    handed = [e.text for e in bench.session.events_of("primary") if isinstance(e, UserMessage)][-1]
    assert "Kite flies small models" in handed and "stayed out of this context" in handed
    # the primary never saw the child's tool calls, only the summary
    assert not any(
        isinstance(e, ToolCall) and e.input.get("file_path") == "README.md" for e in bench.session.events_of("primary")
    )


def test_session_stats_count_states_and_rate() -> None:
    from datetime import datetime, timedelta

    from workbench.engine.views.session_stats import SessionStats
    from workbench.protocol.events import Usage

    t0 = datetime(2026, 11, 21, tzinfo=UTC)
    stats = SessionStats()
    stats.apply(AgentSpawned(agent="primary", ts=t0))
    stats.apply(AgentSpawned(agent="agent-1", ts=t0))
    stats.apply(Status(agent="agent-1", state="thinking", ts=t0))
    stats.apply(Usage(agent="agent-1", input_tokens=100, output_tokens=50, ts=t0))
    stats.apply(Usage(agent="agent-1", input_tokens=10, output_tokens=30, ts=t0 + timedelta(seconds=15)))
    snap = stats.snapshot(t0 + timedelta(seconds=16))
    assert (snap.agents, snap.running, snap.idle) == (2, 1, 1)
    assert (snap.tokens_in, snap.tokens_out) == (110, 80)
    assert snap.tokens_per_s == 3.0  # only the last 10 s count


async def test_manual_compaction_through_the_facade_shrinks_the_context(workspace: Path) -> None:
    from workbench.engine.context.fold import fold
    from workbench.protocol.events import Compaction

    guide = "\n".join(f"Step {n}: start Kite with `kite run --model m{n}` and watch the gauge." for n in range(80))
    (workspace / "docs" / "guide.md").write_text(f"# Guide\n\n{guide}\n")
    bench = await open_bench(workspace)
    for prompt in ("read README.md", "read docs/guide.md", "read app.py", "list python files"):
        await ask(bench, prompt)
    before = bench.budget("primary").used
    await run(bench, Compact(instructions="keep the file names"))
    await bench.close()
    compaction = next(e for e in bench.events if isinstance(e, Compaction))
    assert compaction.instructions == "keep the file names"
    assert bench.budget("primary").used < before
    first = fold(bench.events).messages[0]["content"]
    assert [b["text"].split("\n")[0] for b in first[:2]] == ["<facts>", "<conversation-summary>"]


async def test_auto_compaction_fires_past_the_threshold_and_not_before(workspace: Path) -> None:
    from workbench.engine.config import ThresholdsConfig
    from workbench.protocol.events import Compaction

    (workspace / "app.py").write_text("print('kite')\n" * 400)
    config = Config(
        bundles=workspace.parent / "bundles", fsync="never", window=8000, thresholds=ThresholdsConfig(auto_compact=0.75)
    )
    bench = await Engine.open(config, workspace, ScriptedBrain())
    await ask(bench, "read README.md")
    assert bench.budget("primary").share < 0.75
    assert not any(isinstance(e, Compaction) for e in bench.events)
    for prompt in ("read app.py", "list python files", "read docs/guide.md"):
        await ask(bench, prompt)
    await bench.close()
    compactions = [e for e in bench.events if isinstance(e, Compaction)]
    assert compactions and compactions[0].automatic
    assert compactions[0].tokens_after < compactions[0].tokens_before


async def test_a_resumed_session_has_the_mode_and_rules_the_live_one_had(workspace: Path) -> None:
    from workbench.protocol.commands import AddRule, SetMode

    bench = await open_bench(workspace)
    await run(bench, SetMode(mode="acceptEdits"))
    await run(bench, AddRule(rule_list="deny", rule="Bash(rm:*)"))
    Answers(bench, "allow_always")
    await ask(bench, "run `ls`")  # asked once, answered "always": the rule joins the policy
    session_id = bench.session.id
    await bench.close()

    again = await Engine.resume(bench.config, workspace, ScriptedBrain(), session_id)
    policy = again.services.policy
    try:
        assert policy.mode == "acceptEdits"
        assert [r.text for r in policy.deny] == ["Bash(rm:*)"] and [r.text for r in policy.allow] == ["Bash(ls:*)"]
        await ask(again, "run `ls -a`")  # allowed by the remembered rule: nobody is asked
        decisions = [e for e in again.events if isinstance(e, PermissionDecision)]
        assert decisions[-1].source == "rule" and decisions[-1].decision == "allow"
    finally:
        await again.close()
