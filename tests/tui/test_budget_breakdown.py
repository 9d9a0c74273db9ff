"""The budget pane's breakdown: what each reduction strategy saved, what delegation kept out, the
delegation proposal past the threshold and what became of it, and the session strip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.helpers import engine_of
from workbench.frontends.tui.humanize import token_count
from workbench.frontends.tui.widgets.context_budget import ContextBudget
from workbench.frontends.tui.widgets.prompt import PromptArea
from workbench.frontends.tui.widgets.session_strip import SessionStrip
from workbench.protocol.events import ChildResult, Compaction, Reduction

from .helpers import engine_ready, notices, settle, type_and_send, until

WIDE = (160, 48)
SMALL_WINDOW = 18_000  # the system prompt and tools take 14 %: one read of big.py crosses 30 %
PROPOSED = "Delegate the next sub-task? (primary)"
# two reads of the same file (superseded), old results (stale), then turns enough to compact
SESSION = ("read big.py", "read big.py", "read README.md", "what can you do?", "list python files",
           "search for function_1")  # fmt: skip


@pytest.fixture(autouse=True)
def big_file(workspace: Path) -> Path:
    path = workspace / "big.py"
    path.write_text("".join(f"def function_{i}(value):\n    return value * {i}  # step {i}\n\n" for i in range(150)))
    return path


def budget_text(app: Any) -> str:
    return str(app.query_one(ContextBudget).render())


def proposals(app: Any) -> int:
    return sum(notice.startswith(PROPOSED) for notice in notices(app))


async def send_all(pilot: Pilot[Any], *texts: str) -> None:
    for text in texts:
        await type_and_send(pilot, text)
        await settle(pilot)


async def reduced_and_compacted(pilot: Pilot[Any]) -> None:
    app = await engine_ready(pilot)
    bench = engine_of(app)
    await send_all(pilot, *SESSION)
    await type_and_send(pilot, "/reduce")
    await until(pilot, lambda: any(isinstance(e, Reduction) for e in bench.events))
    await type_and_send(pilot, "/compact")
    await until(pilot, lambda: any(isinstance(e, Compaction) for e in bench.events))
    await settle(pilot)


# ---------------------------------------------------------------- savings


async def test_reduce_and_compact_show_what_each_strategy_saved(make_app) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        await reduced_and_compacted(pilot)
        app = pilot.app
        saved = engine_of(app).budget("primary").saved
        assert set(saved) == {"superseded", "stale", "compaction"} and all(saved.values())
        assert any(n.startswith("Reduced primary's context") for n in notices(app))
        unreduced = engine_of(app).budget("primary").used + sum(saved.values())
        lines = budget_text(app).splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("⇣ saved"))
        total = sum(saved.values())
        assert lines[start] == f"⇣ saved {total:,} tokens · {total / unreduced:.0%}"
        shown = {line.split()[0]: line for line in lines[start + 1 : start + 4]}
        for strategy, label in (("superseded", "superseded"), ("stale", "stale"), ("compaction", "compaction")):
            assert f"{saved[strategy]:,}" in shown[label] and f"{saved[strategy] / unreduced:.0%}" in shown[label]


async def test_nothing_to_reduce_is_said(make_app) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "/reduce")
        await until(pilot, lambda: any(n.startswith("Nothing to reduce") for n in notices(app)))
        assert "⇣ saved" not in budget_text(app)


# ---------------------------------------------------------------- delegation


async def test_a_proposal_fires_once_past_the_threshold_and_its_key_delegates(make_app) -> None:
    async with make_app(window=SMALL_WINDOW).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        assert "f5" not in {b.binding.key for b in app.active_bindings.values()}
        await send_all(pilot, "read big.py")
        assert proposals(app) == 1
        assert "⚑ delegate the next sub-task? f5 accepts" in budget_text(app)
        assert "f5" in {b.binding.key for b in app.active_bindings.values()}  # and in the footer

        app.query_one(PromptArea).load_text("read README.md")
        await pilot.press("f5")
        assert app.query_one(PromptArea).text == "/delegate read README.md"
        await pilot.press("enter")
        await until(pilot, lambda: any(isinstance(e, ChildResult) for e in bench.session.events_of("primary")))
        await settle(pilot)
        assert "⚑ delegation accepted → agent-1" in budget_text(app)
        assert proposals(app) == 1  # still past the threshold: no second proposal

        # the rollup: each delegation's tokens less its summary's, for the primary and for the session
        # (the child read two files, one sub-agent each, so the session kept out more)
        returned = [e for e in bench.events if isinstance(e, ChildResult)]
        kept_out = {e.seq: e.child_tokens - bench.counter.count(e.summary) for e in returned}
        here = sum(kept_out[e.seq] for e in returned if e.agent == "primary")
        lines = budget_text(app).splitlines()
        assert here > 0 and f"↳ delegation kept out {here:,}" in lines
        assert f"  in the whole session {sum(kept_out.values()):,}" in lines


async def test_going_on_in_the_same_context_declines_and_falling_back_rearms(make_app) -> None:
    async with make_app(window=SMALL_WINDOW).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        await send_all(pilot, "read big.py", "read big.py")
        assert "⚑ delegation declined: went on here" in budget_text(app)
        await pilot.press("f5")  # nothing is proposed any more
        assert app.query_one(PromptArea).text == ""
        await send_all(pilot, "read README.md", "what can you do?", "list python files")
        assert proposals(app) == 1  # past the threshold all along: proposed once
        # reduction (both reads of big.py are old now) brings the context back under the threshold,
        # and the next crossing proposes again
        await type_and_send(pilot, "/reduce")
        await until(pilot, lambda: bench.budget("primary").share < 0.3)
        await send_all(pilot, "read big.py")
        assert proposals(app) == 2


async def test_the_session_strip_counts_agents_and_tokens_at_the_injected_time(make_app) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        await send_all(pilot, "/background list python files", "read README.md")
        await until(pilot, lambda: bench.agent("agent-1").state == "done")
        await settle(pilot)
        stats = bench.view.stats.snapshot(app.main_screen.clock())
        assert stats.done == 1 and stats.tokens_out > 0
        lines = str(app.query_one(SessionStrip).visual).splitlines()
        assert lines[0] == "0 running · 0 queued"
        assert lines[1] == "1 done · 0 failed"
        # every event is stamped with the fixed clock, so all the output is within the last 10 s
        rate = f"{stats.tokens_out / 10:.1f}"
        assert lines[2] == f"in {token_count(stats.tokens_in)} · out {token_count(stats.tokens_out)} · {rate} tok/s"


# ---------------------------------------------------------------- snapshots


def test_snapshot_the_gauge_with_both_thresholds_and_the_savings(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await reduced_and_compacted(pilot)
        await send_all(pilot, "read big.py")  # fill the gauge up between the two thresholds
        pilot.app.clear_notifications()
        await pilot.pause(0.2)

    assert snap_compare(make_app(window=SMALL_WINDOW), terminal_size=WIDE, run_before=run_before)


@pytest.mark.flaky(
    reruns=2
)  # under load the log behind it is drawn a frame late now and then: same picture, other style classes
def test_snapshot_the_delegation_proposal(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await engine_ready(pilot)
        await send_all(pilot, "read big.py")
        await until(pilot, lambda: proposals(pilot.app) == 1)  # the proposal's notice, not a moment too soon
        pilot.app.query_one(PromptArea).load_text("write the changelog")
        await pilot.pause(0.2)

    assert snap_compare(make_app(window=SMALL_WINDOW), terminal_size=WIDE, run_before=run_before)
