"""Replay: events re-published in order, paced like the original at a speed factor, read-only, cancellable."""

from __future__ import annotations

import argparse
import asyncio
import io
from datetime import timedelta
from pathlib import Path

import pytest

from tests.bundle_fixtures import START, make_session, store_of, ticking_clock
from tests.processes import SAFETY_NET_S
from workbench.engine.config import Config
from workbench.engine.replay import gaps, replay, replay_session
from workbench.frontends.cli.bundles import add_commands, replay_command, run_command
from workbench.log.bus import EventBus
from workbench.protocol.events import Status, UserMessage


def spaced(*offsets_s: float) -> list[UserMessage]:
    return [UserMessage(text=f"m{i}", seq=i + 1, ts=START + timedelta(seconds=s)) for i, s in enumerate(offsets_s)]


class Sleeps:
    """An instant sleep that records what it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def collect(bus: EventBus) -> list:
    seen: list = []
    bus.subscribe(seen.append)
    return seen


@pytest.mark.parametrize(("speed", "expected"), [(1.0, [2.0, 0.5, 10.0]), (10.0, [0.2, 0.05, 1.0])])
async def test_events_come_in_order_with_their_gaps_divided_by_the_speed(speed, expected) -> None:
    events = spaced(0, 2, 2.5, 12.5)
    bus, sleeps = EventBus(), Sleeps()
    seen = collect(bus)
    assert await replay(events, bus, speed=speed, sleep=sleeps) == 4
    assert seen == events
    assert [w for w in sleeps.waits if w > 0] == pytest.approx(expected)


async def test_max_speed_never_waits_and_long_gaps_can_be_capped() -> None:
    events = spaced(0, 3600, 3601)
    sleeps = Sleeps()
    await replay(events, EventBus(), speed=None, sleep=sleeps)
    assert all(w == 0 for w in sleeps.waits)
    assert gaps(events, 1.0, max_gap_s=2.0) == [0.0, 2.0, 1.0]


async def test_time_running_backwards_is_no_wait_and_bad_speed_is_refused() -> None:
    assert gaps(spaced(5, 1, 2), 1.0) == [0.0, 0.0, 1.0]
    with pytest.raises(ValueError):
        gaps(spaced(0, 1), 0)


async def test_replay_can_be_cancelled_mid_way() -> None:
    events = spaced(0, 1, 2, 3)
    bus = EventBus()
    seen = collect(bus)
    waiting = asyncio.Event()
    never = asyncio.Event()

    async def sleep(seconds: float) -> None:  # the wait before the third event lasts until the cancel
        if len(seen) == 2:
            waiting.set()
            await never.wait()

    task = asyncio.create_task(replay(events, bus, speed=1.0, sleep=sleep))
    await asyncio.wait_for(waiting.wait(), SAFETY_NET_S)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(seen) == 2


async def test_a_recorded_session_replays_whole_in_seq_order_and_stays_untouched(tmp_path: Path) -> None:
    session = await make_session(tmp_path, ["read README.md", "read NOTES.md"], clock=ticking_clock(step_s=0.5))
    store = store_of(tmp_path)
    folder = store.folder(session)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    bus, sleeps = EventBus(), Sleeps()
    seen = collect(bus)
    count = await replay_session(store, session, bus, speed=10.0, sleep=sleeps)
    original = (await store.read(session)).events
    assert count == len(original) and seen == original
    assert [e.seq for e in seen] == sorted(e.seq for e in seen)
    # the ticking clock stamped every event 0.5 s after the one before: at 10x that is 0.05 s
    assert [w for w in sleeps.waits if w] == pytest.approx([0.05] * (len(original) - 1))
    assert any(isinstance(e, Status) for e in seen)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


# ---------------------------------------------------------------- the command


def cli_parser() -> argparse.ArgumentParser:
    """The parsers as cli.py declares them, with the bundle commands added."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--bundles", type=Path)
    parser = argparse.ArgumentParser(prog="workbench", parents=[common])
    sub = parser.add_subparsers(dest="command")
    bundles = sub.add_parser("bundles").add_subparsers(dest="bundles_command", required=True)
    add_commands(bundles, sub, common)
    return parser


def test_replay_speeds_parse() -> None:
    parser = cli_parser()
    assert parser.parse_args(["replay", "x"]).speed == 1.0
    assert parser.parse_args(["replay", "x", "--speed", "10x"]).speed == 10.0
    assert parser.parse_args(["replay", "x", "--speed", "max"]).speed is None
    with pytest.raises(SystemExit):
        parser.parse_args(["replay", "x", "--speed", "fast"])


async def test_the_replay_command_prints_each_event_as_it_replays(tmp_path: Path) -> None:
    session = await make_session(tmp_path, ["read README.md"], clock=ticking_clock())
    out, err, sleeps = io.StringIO(), io.StringIO(), Sleeps()
    config = Config(bundles=tmp_path / "bundles")
    assert await replay_command(config, session[:10], speed=None, out=out, err=err, sleep=sleeps) == 0
    lines = out.getvalue().splitlines()
    events = (await store_of(tmp_path).read(session)).events
    assert len(lines) == len(events)
    assert lines[2] == "[05:06:09]     3 primary · user_message: read README.md"
    assert f"replayed {len(events)} events" in err.getvalue()
    assert await replay_command(config, "nope", out=out, err=err) == 1
    assert "no session matches 'nope'" in err.getvalue()


def test_run_command_runs_only_its_own_commands(tmp_path: Path) -> None:
    parser = cli_parser()
    config = Config(bundles=tmp_path / "bundles")
    assert run_command(parser.parse_args(["bundles", "rm", "nope"]), config) == 1
    assert run_command(parser.parse_args([]), config) is None


class ClosedPipe(io.StringIO):
    """Standard output whose reader went away after ``lines`` lines (``| head``)."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.left = lines

    def write(self, text: str) -> int:
        if self.left <= 0:
            raise BrokenPipeError
        self.left -= text.count("\n")
        return super().write(text)


async def test_the_replay_stops_when_its_reader_goes_away(tmp_path: Path) -> None:
    session = await make_session(tmp_path, ["read README.md"], clock=ticking_clock())
    out = ClosedPipe(3)
    with pytest.raises(BrokenPipeError):  # real sleeps: the stop lands at the replay's next wait
        await replay_command(Config(bundles=tmp_path / "bundles"), session, speed=1000.0, out=out, err=io.StringIO())
    assert out.getvalue().count("\n") == 3
