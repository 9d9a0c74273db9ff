"""An agent's time is the time it was busy: a resumed session does not count the hours the app was closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.engine import Engine, store_for
from workbench.engine.views.roster import Roster
from workbench.log.session import Session
from workbench.protocol.events import AgentFinished, AgentSpawned, Event, Status, UserMessage

T0 = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_time_counts_the_spells_of_work_not_the_rests_between() -> None:
    roster = Roster()
    for event in [
        AgentSpawned(agent="primary", ts=at(0)),
        Status(agent="primary", state="thinking", ts=at(0)),
        Status(agent="primary", state="tool", ts=at(4)),
        Status(agent="primary", state="idle", ts=at(10)),
        Status(agent="primary", state="thinking", ts=at(600)),  # ten minutes later, the next prompt
    ]:
        roster.apply(event)
    row = roster.rows["primary"]
    assert row.elapsed_s(at(605)) == 15
    roster.apply(AgentFinished(agent="primary", state="done", ts=at(620)))
    assert row.elapsed_s(at(9_999)) == 30  # a finished agent's time stands still


async def test_a_resumed_agent_does_not_count_the_hours_the_app_was_closed(tmp_path: Path) -> None:
    config = Config(bundles=tmp_path / "bundles", fsync="never")
    now = [at(0)]
    session = await Session.create(store_for(config), clock=lambda: now[0])
    # the app dies while a background agent works: its last event is a tool call ten seconds in
    log: list[tuple[int, Event]] = [
        (0, AgentSpawned(agent="primary", name="primary")),
        (0, AgentSpawned(agent="agent-1", name="count the files", parent="primary", mode="background", level=2)),
        (0, UserMessage(agent="agent-1", text="count the files")),
        (0, Status(agent="agent-1", state="thinking")),
        (10, Status(agent="agent-1", state="tool")),
    ]
    for seconds, event in log:
        now[0] = at(seconds)
        await session.append(event)
    await session.close()
    # five hours later it is resumed
    now[0] = at(5 * 3600)
    engine = await Engine.resume(config, tmp_path, ScriptedBrain(), session.id, clock=lambda: now[0])
    try:
        row = engine.view.roster.rows["agent-1"]
        assert row.elapsed_s(now[0]) == 10  # not five hours
        # it goes on from where it stopped, and its clock with it (from the resume, not from its last event)
        await engine.settled("agent-1")
        assert row.ended and row.elapsed_s(now[0] + timedelta(hours=1)) == 10
    finally:
        await engine.close()
