"""Background agents and the hierarchy, monitored live: orchestration, completion notices, the hand-over
key, the task list and its filters, the agents tree with a hundred agents, the session strip."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable

from tests.engine_driver import run, spawn
from tests.tui.helpers import engine_of
from workbench.engine.config import LimitsConfig
from workbench.frontends.tui.screens.tasks import TasksScreen
from workbench.frontends.tui.widgets.agents_pane import AgentsPane, AgentTree
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.session_strip import SessionStrip
from workbench.frontends.tui.widgets.transcript_blocks import Marker
from workbench.protocol.commands import Cancel, Pause
from workbench.protocol.events import AgentFinished, ChildResult, UserMessage

from .brains import MoodyBrain
from .helpers import engine_ready, notices, settle, type_and_send, until

WIDE = (160, 48)
MANY = LimitsConfig(children_per_agent=120, concurrency=20)
MIXED = LimitsConfig(children_per_agent=9, concurrency=3)


def markers(app: Any) -> list[str]:
    return [str(marker.visual) for marker in app.query_one(Conversation).query(Marker)]


def strip_text(app: Any) -> str:
    return str(app.query_one(SessionStrip).visual)


def task_rows(screen: TasksScreen) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(key.value) for key in table.rows]


async def all_finished(pilot: Pilot[Any], count: int) -> None:
    bench = engine_of(pilot.app)  # type: ignore[arg-type]
    await until(pilot, lambda: sum(isinstance(e, AgentFinished) for e in bench.events) >= count)
    await settle(pilot)


async def mixed_states(pilot: Pilot[Any], brain: MoodyBrain) -> None:
    """Background agents in every state but awaiting approval, with three slots (``MIXED``):
    1 done, 2 failed, 3 done, 4 paused, 5 and 6 running (held), 7 queued, 8 cancelled while queued."""
    app = await engine_ready(pilot)
    bench = engine_of(app)
    for task in ("list python files", "explode on purpose", "summarise README.md please"):
        await spawn(bench, "background", task)
    await until(pilot, lambda: sum(isinstance(e, AgentFinished) for e in bench.events) == 3)
    await spawn(bench, "background", "pause before starting")
    await run(bench, Pause(agent="agent-4"))
    for task in ("wait for the release", "wait a little longer", "wait in the queue", "wait to be cancelled"):
        await spawn(bench, "background", task)
    await until(pilot, lambda: brain.waiting == 2 and bench.agent("agent-4").state == "paused")
    await until(pilot, lambda: bench.agent("agent-8").state == "queued")
    await run(bench, Cancel(agent="agent-8"))
    await until(pilot, lambda: bench.agent("agent-8").state == "cancelled")
    # the ending is announced a moment later (endings close together share a notice): wait for it, then clear it
    await until(pilot, lambda: any("agent-8's result" in n for n in notices(app)))
    app.clear_notifications()
    await pilot.pause()


# ---------------------------------------------------------------- orchestration and slash commands


async def test_orchestrate_builds_the_tree_and_the_primary_aggregates(make_app) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        await type_and_send(pilot, "/orchestrate compare README.md and app.py; list python files")
        await until(pilot, lambda: len(bench.supervisor.agents) == 5)
        await until(pilot, lambda: "Aggregated result" in bench.primary.result)
        await settle(pilot)
        spec = {a.id: (a.spec.parent, a.spec.level, a.spec.mode) for a in bench.supervisor.agents.values()}
        secondaries = sorted(a for a, (parent, level, _) in spec.items() if parent == "primary")
        assert [spec[a][1:] for a in secondaries] == [(2, "delegated")] * 2
        tertiaries = [a for a, (parent, _, _) in spec.items() if parent in secondaries]
        assert len(tertiaries) == 2 and {spec[a][1] for a in tertiaries} == {3}
        # the tree mirrors the hierarchy
        pane = app.query_one(AgentsPane)
        for agent, (parent, _, _) in spec.items():
            if parent:
                assert pane.nodes[agent].parent is pane.nodes[parent]
        assert all(pane.rows[a].state == "done" for a in spec if a != "primary")


async def test_the_slash_commands_drive_background_agents_from_the_prompt(make_app) -> None:
    brain = MoodyBrain(delay_s=0)
    async with make_app(brain=brain).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        await type_and_send(pilot, "/background wait for me")
        await until(pilot, lambda: brain.waiting == 1)
        await type_and_send(pilot, "/pause agent-1")
        await until(pilot, lambda: bench.agent("agent-1").paused)
        await type_and_send(pilot, "/pause agent-1")
        await until(pilot, lambda: not bench.agent("agent-1").paused)
        await type_and_send(pilot, "/cancel agent-1")
        await until(pilot, lambda: bench.agent("agent-1").state == "cancelled")
        await type_and_send(pilot, "/hand agent-1")
        await until(pilot, lambda: any(isinstance(e, ChildResult) for e in bench.session.events_of("primary")))
        await type_and_send(pilot, "/delegate list python files")
        await until(pilot, lambda: "agent-2" in bench.supervisor.agents)
        assert bench.agent("agent-2").spec.mode == "delegated"
        await settle(pilot)
        await type_and_send(pilot, "/tasks")
        await until(pilot, lambda: isinstance(app.screen, TasksScreen))
        assert task_rows(app.screen) == ["agent-1", "agent-2"]
        await pilot.press("escape")
        await type_and_send(pilot, "/tasks cancelled")
        await until(pilot, lambda: isinstance(app.screen, TasksScreen))
        await pilot.pause()
        assert task_rows(app.screen) == ["agent-1"]


# ---------------------------------------------------------------- completion


async def test_a_finished_background_agent_rings_notifies_and_f3_hands_its_result(make_app) -> None:
    async with make_app(bell=True).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        rings: list[bool] = []
        app.bell = lambda: rings.append(True)  # type: ignore[method-assign]
        await type_and_send(pilot, "/background list python files")
        await until(pilot, lambda: any(n.startswith("agent-1 done") for n in notices(app)))
        (notice,) = [n for n in notices(app) if n.startswith("agent-1 done")]
        assert "Found 1 file" in notice and "f3 hands agent-1's result to the primary" in notice
        assert rings == [True]
        # the result is in its conversation
        app.main_screen.show_agent("agent-1")
        await settle(pilot)
        assert markers(app)[-1] == "■ finished · done · /hand agent-1 gives the result to the primary"
        # f3 from the prompt, back on the primary, hands it over
        await pilot.press("ctrl+g")
        await pilot.press("f3")
        await until(pilot, lambda: any(isinstance(e, ChildResult) for e in bench.session.events_of("primary")))
        await settle(pilot)
        told = [e.text for e in bench.session.events_of("primary") if isinstance(e, UserMessage)]
        assert "agent-1" in told[-1]
        # nothing else is waiting
        await pilot.press("f3")
        await pilot.pause()
        assert any("No finished background agent is waiting" in n for n in notices(app))


async def test_without_the_bell_setting_a_completion_is_silent(make_app) -> None:
    async with make_app(bell=False).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        rings: list[bool] = []
        app.bell = lambda: rings.append(True)  # type: ignore[method-assign]
        await type_and_send(pilot, "/background list python files")
        await until(pilot, lambda: any(n.startswith("agent-1 done") for n in notices(app)))
        assert rings == []


async def test_agents_that_finish_together_share_one_notice(make_app) -> None:
    brain = MoodyBrain(delay_s=0)
    async with make_app(brain=brain, limits=MANY).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        for i in range(5):
            await spawn(bench, "background", f"wait, then count to {i}")
        await until(pilot, lambda: brain.waiting == 5)
        brain.release.set()
        await all_finished(pilot, 5)
        await until(pilot, lambda: any("5 background agents finished" in n for n in notices(app)))
        (notice,) = [n for n in notices(app) if "background agents finished" in n]
        assert "5 done" in notice and "f2 lists them" in notice
        assert not any(n.startswith("agent-") for n in notices(app))


# ---------------------------------------------------------------- the task list


async def test_the_task_list_filters_by_state_and_enter_opens_an_agent(make_app) -> None:
    brain = MoodyBrain(delay_s=0)
    async with make_app(brain=brain, limits=MIXED).run_test(size=WIDE) as pilot:
        await mixed_states(pilot, brain)
        app = pilot.app
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, TasksScreen))
        screen = app.screen
        await pilot.pause()
        assert task_rows(screen) == [f"agent-{i}" for i in range(1, 9)]
        expected = {"r": ["agent-5", "agent-6"], "q": ["agent-7"], "p": ["agent-4"], "f": ["agent-2"],
                    "c": ["agent-8"], "d": ["agent-1", "agent-3"]}  # fmt: skip
        for key, agents in expected.items():
            await pilot.press(key)
            await pilot.pause()
            assert task_rows(screen) == agents, key
        filters = str(screen.query_one("#task-filters").visual)
        assert "d done 2" in filters and "f failed 1" in filters and "q queued 1" in filters
        # live: the held agents finish, the queued one gets a slot and finishes too
        brain.release.set()
        await until(pilot, lambda: engine_of(app).agent("agent-7").state == "done")
        await until(pilot, lambda: task_rows(screen) == ["agent-1", "agent-3", "agent-5", "agent-6", "agent-7"])
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, TasksScreen))
        assert app.main_screen.agent_id == "agent-1"
        assert app.query_one(Conversation).agent_id == "agent-1"


# ---------------------------------------------------------------- a hundred agents


async def test_a_hundred_agents_stay_readable_folded_and_filtered(make_app) -> None:
    async with make_app(brain=MoodyBrain(delay_s=0), limits=MANY).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        for i in range(100):
            await spawn(bench, "background", f"count to {i}" if i % 10 else f"explode number {i}")
        await all_finished(pilot, 100)
        pane = app.query_one(AgentsPane)
        tree = app.query_one(AgentTree)
        assert len(pane.nodes) == 101 and tree.virtual_size.height == 101
        assert "0 running · 0 queued\n90 done · 10 failed\n" in strip_text(app)
        # only the failed ones, under the primary that places them
        tree.focus()
        await pilot.press("f")
        await pilot.pause()
        assert sorted(pane.nodes) == sorted(["primary", *(f"agent-{i}" for i in range(1, 101, 10))])
        assert pane.border_subtitle == "failed: 10 of 101 · a all"
        await pilot.press("a")
        await pilot.pause()
        assert len(pane.nodes) == 101
        # folding the primary leaves one line, which says how many it hides
        tree.move_cursor(pane.nodes["primary"])
        await pilot.press("space")
        await pilot.pause()
        assert tree.virtual_size.height == 1
        assert "primary +100" in tree.render_label(pane.nodes["primary"], *([tree.rich_style] * 2)).plain
        await pilot.press("space")
        await pilot.pause()
        assert tree.virtual_size.height == 101


# ---------------------------------------------------------------- snapshots


def test_snapshot_the_agents_tree_in_mixed_states(snap_compare, make_app) -> None:
    brain = MoodyBrain(delay_s=0)

    async def run_before(pilot: Pilot[Any]) -> None:
        await mixed_states(pilot, brain)
        pilot.app.main_screen.show_agent("agent-3")
        await pilot.pause(0.2)

    assert snap_compare(make_app(brain=brain, limits=MIXED), terminal_size=WIDE, run_before=run_before)


def test_snapshot_a_completion_notification(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "/background summarise README.md please")
        await until(pilot, lambda: any(n.startswith("agent-1 done") for n in notices(app)))
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)


def test_snapshot_the_task_list(snap_compare, make_app) -> None:
    brain = MoodyBrain(delay_s=0)

    async def run_before(pilot: Pilot[Any]) -> None:
        await mixed_states(pilot, brain)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(pilot.app.screen, TasksScreen))
        await pilot.press("down", "down")
        await pilot.pause(0.2)

    assert snap_compare(make_app(brain=brain, limits=MIXED), terminal_size=WIDE, run_before=run_before)
