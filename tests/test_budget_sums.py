"""The context figures add up: the categories sum to the total, live and after a resume or a remount."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine_driver import ask, spawn
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.context.tokens import default_counter, scaled
from workbench.engine.engine import Engine
from workbench.engine.remount import remount
from workbench.engine.views.budgets import Budgets
from workbench.log.bundle import BundleStore
from workbench.protocol.commands import Compact, Reduce
from workbench.protocol.content import TextBlock, ThinkingBlock, ToolUseBlock
from workbench.protocol.events import (
    AgentSpawned,
    AssistantMessage,
    Compaction,
    Event,
    Primed,
    Reduction,
    ToolResult,
    Usage,
    UserMessage,
)

COUNTER = default_counter()
words = st.text(alphabet="abcdefgh ", min_size=1, max_size=80)


@given(st.dictionaries(st.sampled_from(["system", "tools", "history", "thinking"]), st.integers(-5, 5000)),
       st.integers(0, 100_000))  # fmt: skip
def test_scaling_keeps_the_proportions_in_whole_tokens_that_add_up(categories: dict[str, int], total: int) -> None:
    result = scaled(categories, total)
    assert sum(result.values()) == total if categories else result == {}
    assert all(value >= 0 for value in result.values())


@st.composite
def agent_logs(draw: st.DrawFn) -> list[Event]:
    """One agent's log: messages, primers, replies with calls, thinking, results, usage, reductions, compactions."""
    events: list[Event] = [AgentSpawned(agent="a", system=draw(words), tools_tokens=draw(st.integers(0, 3000)))]
    results: list[str] = []
    for step in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["user", "primed", "reply", "usage", "reduce", "compact"]))
        if kind == "user":
            events.append(UserMessage(agent="a", text=draw(words)))
        elif kind == "primed":
            events.append(Primed(agent="a", primer=draw(st.sampled_from(["memory", "feature"])), text=draw(words)))
        elif kind == "reply":
            call = f"toolu_{step}"
            blocks = [TextBlock(text=draw(words)), ThinkingBlock(thinking=draw(words), signature="s")]
            events.append(AssistantMessage(agent="a", content=[*blocks, ToolUseBlock(id=call, name="Read")]))
            events.append(ToolResult(agent="a", tool_use_id=call, content=draw(words) * draw(st.integers(1, 40))))
            results.append(call)
        elif kind == "usage":
            events.append(Usage(agent="a", input_tokens=draw(st.integers(0, 9000)), output_tokens=draw(st.integers(0, 900)),
                                cache_read_input_tokens=draw(st.integers(0, 9000))))  # fmt: skip
        elif kind == "reduce" and results:
            stubbed = draw(st.lists(st.sampled_from(results), max_size=3, unique=True))
            events.append(Reduction(agent="a", strategy="stale", tokens_before=500, tokens_after=100,
                                    replacements={call: "[elided]" for call in stubbed}))  # fmt: skip
        elif kind == "compact" and len(events) > 3:
            events.append(Compaction(agent="a", summary=draw(words), from_seq=2, to_seq=len(events) - 1))
    return [event.model_copy(update={"seq": i + 1}) for i, event in enumerate(events)]


@given(agent_logs())
@settings(max_examples=150, deadline=None)
def test_every_prefix_of_a_random_log_adds_up_and_a_resumed_ledger_agrees(log: list[Event]) -> None:
    live = Budgets(COUNTER, window=200_000, delegate_at=0.3, compact_at=0.8)
    for event in log:
        live.apply(event)
        snapshot = live.snapshot("a")
        assert sum(snapshot.categories.values()) == snapshot.used
    resumed = Budgets(COUNTER, window=200_000, delegate_at=0.3, compact_at=0.8)
    for event in log:
        resumed.apply(event)
    assert resumed.snapshot("a") == live.snapshot("a")


# -- whole sessions, resumed and remounted ------------------------------------------------------

ACTIONS = ["read README.md", "list the files", "search for greeting", "delegate: read README.md", "compact", "reduce"]


async def run_session(workspace: Path, store: BundleStore, actions: list[str]) -> str:
    config = Config(bundles=store.root, fsync="never")
    bench = await Engine.open(config, workspace, ScriptedBrain(), store=store)
    for action in actions:
        if action == "compact":
            await bench.submit(Compact())
        elif action == "reduce":
            await bench.submit(Reduce())
        elif action.startswith("delegate: "):
            await spawn(bench, "delegated", action.removeprefix("delegate: "))
            await bench.wait_all()
        else:
            await ask(bench, action)
        await bench.settled()  # a sub-agent's summary has come back and been answered
    live = {agent: bench.budget(agent) for agent in bench.supervisor.agents}
    await bench.close()
    resumed = await Engine.resume(config, workspace, ScriptedBrain(), bench.session.id, store=store)
    again = {agent: resumed.budget(agent) for agent in resumed.supervisor.agents}
    await resumed.close()
    assert again == live
    for budget in live.values():
        assert sum(budget.categories.values()) == budget.used
        assert budget.categories["system"] > 0 and budget.categories["tools"] > 0
    return bench.session.id


@given(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=6))
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_resumed_session_shows_the_figures_the_live_one_did(tmp_path: Path, actions: list[str]) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir(exist_ok=True)
    (workspace / "README.md").write_text("# Greeter\n\nPrints a greeting.\n" * 30)
    (workspace / "CLAUDE.md").write_text("Say which files you read.")
    store = BundleStore(tmp_path / "bundles")
    asyncio.run(run_session(workspace, store, actions))


async def test_a_remounted_session_adds_up_too(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "README.md").write_text("# Greeter\n")
    store = BundleStore(tmp_path / "bundles")
    source = await run_session(workspace, store, ["read README.md", "list the files"])
    plan = await remount(store, source, up_to_seq=(await store.read(source)).events[-1].seq)
    config = Config(bundles=store.root, fsync="never")
    bench = await Engine.open(config, workspace, ScriptedBrain(), store=store, remount=plan.event)
    await ask(bench, "read README.md")
    budget = bench.budget("primary")
    assert sum(budget.categories.values()) == budget.used and budget.categories["history"] > 0
    await bench.close()
