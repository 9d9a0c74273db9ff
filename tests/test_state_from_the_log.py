"""The bundle is the state: for any sequence of commands, what the log rebuilds equals the live engine.

Hypothesis drives the engine through ``submit`` with random commands (prompts
that read, run commands that ask, background agents, pauses, cancels, mode
changes, rules, reductions). After each, the engine settles (an agent waiting on
a person stays waiting). Then the live engine is compared with the state folded
from the bundle on disk, and with a session resumed from it: the roster and each
agent's state, the policy it decides with, the budgets, the todos and the
requests still waiting.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine_driver import next_event
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config, LimitsConfig
from workbench.engine.context.tokens import default_counter
from workbench.engine.engine import Engine
from workbench.engine.policy.permissions import PermissionPolicy
from workbench.engine.views.session_view import SessionView
from workbench.log.bundle import BundleStore
from workbench.protocol.commands import (
    AddRule,
    Cancel,
    Command,
    Interrupt,
    Pause,
    Reduce,
    Resume,
    Send,
    SetMode,
    Spawn,
)
from workbench.protocol.events import ApprovalDecided, ApprovalRequested

PROMPTS = ["read README.md", "read app.py", "run `ls`", "list python files", "search for kite", "what can you do?"]
AGENTS = ["primary", "agent-1", "agent-2"]

commands = st.one_of(
    st.builds(Send, agent=st.sampled_from(AGENTS), text=st.sampled_from(PROMPTS)),
    st.builds(Spawn, mode=st.just("background"), task=st.sampled_from(PROMPTS)),
    st.builds(SetMode, mode=st.sampled_from(["default", "acceptEdits", "plan", "bypass"])),
    st.builds(AddRule, rule_list=st.sampled_from(["allow", "deny"]), rule=st.sampled_from(["Bash(ls:*)", "Read"])),
    st.builds(Pause, agent=st.sampled_from(AGENTS)),
    st.builds(Resume, agent=st.sampled_from(AGENTS)),
    st.builds(Cancel, agent=st.sampled_from(AGENTS[1:])),
    st.builds(Interrupt, agent=st.sampled_from(AGENTS)),
    st.builds(Reduce, agent=st.sampled_from(AGENTS)),
)


def workspace() -> Path:
    root = Path(tempfile.mkdtemp(prefix="wb-state-"))
    ws = root / "ws"
    ws.mkdir()
    (ws / "README.md").write_text("# Kite\n\nKite flies small models. kite run starts it.\n")
    (ws / "app.py").write_text("print('kite')\n" * 20)
    return ws


def quiet(engine: Engine) -> bool:
    """Every agent rests (nothing to do, or waiting for a person, which no one here gives), and every
    event it logged is written and folded into the views."""
    if engine.view.last_seq != engine.session.writer.last_seq:
        return False
    for agent in engine.supervisor.agents.values():
        if agent.interrupting:
            return False
        waiting = agent.state in ("awaiting_approval", "queued") or agent.paused
        if not waiting and (agent.busy or agent.inbox or agent.owes_reply):
            return False
        if agent.state in ("thinking", "tool") and not agent.paused:
            return False
    return True


async def settle(engine: Engine) -> None:
    changed = asyncio.Event()
    stop = engine.subscribe(lambda item: changed.set())
    try:
        while not quiet(engine):
            changed.clear()
            try:
                await asyncio.wait_for(changed.wait(), 0.5)
            except TimeoutError:
                pass  # a state that is reached without an event (a task just finished): look again
    finally:
        stop()


def state(view: SessionView, policy: PermissionPolicy) -> dict[str, Any]:
    return {
        "agents": {
            row.id: (row.parent, row.mode, row.state, row.paused, sorted(row.queued.values()))
            for row in view.roster.rows.values()
        },
        "policy": (policy.mode, [r.text for r in policy.allow], [r.text for r in policy.deny]),
        "budgets": {a: (b.used, b.categories) for a, b in ((a, view.budget(a)) for a in view.roster.rows)},
        "todos": {a: view.todos.of(a) for a in view.roster.rows},
        "pending": (sorted(view.pending.approvals), sorted(view.pending.questions)),
    }


def live(engine: Engine) -> dict[str, Any]:
    """The runtime's own account: each agent as the supervisor holds it, the policy the agents decide with."""
    view = engine.view
    found = state(view, engine.services.policy)
    for agent_id, agent in engine.supervisor.agents.items():
        row = view.roster.rows[agent_id]
        assert agent.state == row.state, f"{agent_id}: runtime {agent.state}, log {row.state}"
        assert agent.paused == row.paused, f"{agent_id}: paused {agent.paused}, log {row.paused}"
    return found


async def drive(steps: list[Command]) -> None:
    ws = workspace()
    config = Config(bundles=ws.parent / "bundles", fsync="never", limits=LimitsConfig(concurrency=2))
    engine = await Engine.open(config, ws, ScriptedBrain())
    for command in steps:
        await engine.submit(command)
        await settle(engine)
    before = live(engine)
    await engine.close("stop")

    counter = default_counter()
    contents = await BundleStore(config.bundles or ws).read(engine.session.id)
    policy = config.policy(ws)
    rebuilt = SessionView(counter, window=config.window, delegate_at=0.3, compact_at=0.8, policy=policy)
    for event in contents.events:
        rebuilt.apply(event)
    assert state(rebuilt, policy) == before

    resumed = await Engine.resume(config, ws, ScriptedBrain(), engine.session.id)
    try:
        after = state(resumed.view, resumed.services.policy)
        assert after["policy"] == before["policy"] and after["pending"] == before["pending"]
        assert {a: s[:2] for a, s in after["agents"].items()} == {a: s[:2] for a, s in before["agents"].items()}
        assert {a: row.paused for a, row in resumed.view.roster.rows.items()} == {
            a: s[3] for a, s in before["agents"].items()
        }
    finally:
        await resumed.close("stop")


@settings(
    max_examples=int(os.environ.get("WORKBENCH_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(commands, min_size=1, max_size=8))
def test_the_state_rebuilt_from_the_bundle_equals_the_live_engine(steps: list[Command]) -> None:
    asyncio.run(drive(steps))


async def test_a_rule_that_now_decides_a_waiting_call_answers_it_as_a_resume_would() -> None:
    ws = workspace()
    config = Config(bundles=ws.parent / "bundles", fsync="never")
    engine = await Engine.open(config, ws, ScriptedBrain())
    asked = next_event(engine, lambda e: isinstance(e, ApprovalRequested))
    await engine.submit(Spawn(mode="background", task="run ls"))
    request = await asyncio.wait_for(asked, 60)
    await engine.submit(AddRule(rule_list="deny", rule="Bash(ls:*)"))
    assert engine.view.pending.approvals == {}
    (decided,) = [e for e in engine.events if isinstance(e, ApprovalDecided)]
    assert (decided.request_id, decided.choice) == (request.request_id, "deny")  # type: ignore[attr-defined]
    await engine.wait_all()
    await engine.close("stop")
    resumed = await Engine.resume(config, ws, ScriptedBrain(), engine.session.id)
    try:
        assert resumed.view.pending.approvals == {}
    finally:
        await resumed.close("stop")
