"""Compaction by the brain, its boundary, and the budget policies that trigger it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.engine_driver import ask
from tests.messages_api import assert_valid_messages
from tests.test_reduce import FILE, Log
from workbench.brains.scripted import COMPACTION_MARKER as SCRIPTED_MARKER
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.context.compaction import (
    PINNED_HEADING,
    CompactionFailed,
    NothingToCompact,
    compact,
    compaction_range,
    missing_facts,
)
from workbench.engine.context.fold import fold, summary_text
from workbench.engine.context.reduce import context_tokens
from workbench.engine.context.tokens import BudgetSnapshot, TokenLedger, default_counter
from workbench.engine.engine import Engine
from workbench.engine.policy.budget import DelegationWatch, should_compact, should_propose_delegation
from workbench.protocol.brain_io import BrainEvent, BrainRequest, MessageDone, TextDelta, ToolSpec
from workbench.protocol.content import TextBlock, ToolUseBlock
from workbench.protocol.events import (
    AgentSpawned,
    AssistantMessage,
    Event,
    Remounted,
    ToolResult,
    UserMessage,
)
from workbench.protocol.markers import COMPACTION_MARKER, SUMMARY_REQUEST


class RecordingBrain:
    """Answers every request with a fixed summary and keeps the requests."""

    name = "recording"
    model = "recorder"
    label = "recording"

    def __init__(self, summary: str = "The user wants a.py fixed; KeyError: 'currency' is still open.") -> None:
        self.summary = summary
        self.requests: list[BrainRequest] = []

    async def aclose(self) -> None:
        pass

    async def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        self.requests.append(request)
        yield TextDelta(text=self.summary)
        yield MessageDone(content=[TextBlock(text=self.summary)] if self.summary else [], stop_reason="end_turn")


def four_turns() -> Log:
    log = Log()
    log.user("Fix the billing bug in a.py. Never touch vendor/.")
    log.call("Read", FILE, file_path="a.py")
    log.call("Bash", "KeyError: 'currency'\n[exit code 1]", is_error=True, command="python -m unittest")
    log.reply("We'll store amounts as integer cents instead of floats.")
    for turn in range(2, 5):
        log.user(f"turn {turn}: carry on")
        log.call("Read", FILE, file_path=f"b{turn}.py")
        log.reply(f"done with turn {turn}")
    return log


def user_seqs(events: list[Event]) -> list[int]:
    return [e.seq for e in events if isinstance(e, UserMessage)]


def test_the_marker_is_the_one_the_scripted_brain_answers() -> None:
    assert COMPACTION_MARKER == SCRIPTED_MARKER


async def test_compaction_summarises_all_but_the_last_turns() -> None:
    log = four_turns()
    brain = RecordingBrain()

    compaction = await compact(log.events, "primary", brain, keep_turns=2)

    turns = user_seqs(log.events)
    assert (compaction.from_seq, compaction.to_seq) == (turns[0], turns[-2] - 1)
    assert compaction.agent == "primary" and compaction.summary.startswith(brain.summary) and not compaction.automatic
    after = [*log.events, compaction]
    assert compaction.tokens_before == context_tokens(fold(log.events), default_counter())
    assert compaction.tokens_after == context_tokens(fold(after), default_counter())
    assert compaction.tokens_after < compaction.tokens_before
    assert_valid_messages(fold(after).messages)

    request = brain.requests[0]
    assert request.system.startswith(COMPACTION_MARKER)
    assert request.messages[-1] == {"role": "user", "content": [{"type": "text", "text": SUMMARY_REQUEST}]}
    assert_valid_messages(request.messages)
    # the brain sees exactly the turns it summarises
    seen = {b.get("tool_use_id") for m in request.messages for b in m["content"]} - {None}
    assert seen == {e.tool_use_id for e in log.events if isinstance(e, ToolResult) and e.seq <= compaction.to_seq}


async def test_fold_after_compaction_equals_a_remount_of_the_summary_and_the_kept_turns() -> None:
    log = four_turns()
    compaction = await compact(log.events, "primary", RecordingBrain(), keep_turns=2)

    kept = [e for e in log.events if e.seq > compaction.to_seq]
    remounted = [
        AgentSpawned(agent="primary", seq=1, system="You are a test agent."),
        Remounted(
            agent="primary",
            seq=2,
            source_session="s",
            up_to_seq=compaction.to_seq,
            messages=[{"role": "user", "content": [{"type": "text", "text": summary_text(compaction.summary)}]}],
        ),
        *kept,
    ]
    assert fold([*log.events, compaction]) == fold(remounted)


async def test_manual_instructions_reach_the_brain_and_the_event() -> None:
    brain = RecordingBrain()
    compaction = await compact(four_turns().events, "primary", brain, instructions="Keep every error message verbatim.")

    assert "Keep every error message verbatim." in brain.requests[0].system
    assert compaction.instructions == "Keep every error message verbatim."


async def test_tools_and_the_automatic_flag_pass_through() -> None:
    brain = RecordingBrain()
    spec = ToolSpec(name="Read", description="read", input_schema={"type": "object"})
    compaction = await compact(four_turns().events, "primary", brain, automatic=True, tools=[spec])
    assert compaction.automatic and brain.requests[0].tools == [spec]


async def test_the_boundary_never_splits_a_tool_call_from_its_result() -> None:
    log = Log()
    for turn in range(2):
        log.user(f"turn {turn}")
        log.call("Read", FILE, file_path=f"f{turn}.py")
        log.reply("ok")
    log.user("turn 2")
    # a message typed while the tool ran lands between the call and its result
    log.add(AssistantMessage(content=[ToolUseBlock(id="toolu_slow", name="Bash", input={"command": "sleep 1"})]))
    log.user("queued while the tool ran")
    log.add(ToolResult(tool_use_id="toolu_slow", name="Bash", content="done"))
    log.reply("ok")
    log.user("turn 3")
    log.reply("ok")

    turns = user_seqs(log.events)
    # keeping 2 turns would cut at the queued message; the boundary moves back to "turn 2"
    assert compaction_range(log.events, "primary", keep_turns=2) == (turns[0], turns[2] - 1)
    compaction = await compact(log.events, "primary", RecordingBrain(), keep_turns=2)
    results = [b for m in fold([*log.events, compaction]).messages for b in m["content"] if b["type"] == "tool_result"]
    assert [b["tool_use_id"] for b in results] == ["toolu_slow"] and results[0]["content"] == "done"


async def test_a_single_long_turn_is_compacted_at_step_boundaries() -> None:
    log = Log()
    log.user("Delegated task: audit the package.")
    ids = [log.call("Read", FILE, file_path=f"f{n}.py") for n in range(6)]
    log.reply("Audit done.")

    compaction = await compact(log.events, "primary", RecordingBrain(), keep_turns=2)

    steps = [e.seq for e in log.events if isinstance(e, AssistantMessage)]
    assert compaction.to_seq == steps[-2] - 1  # the last two steps stay verbatim
    context = fold([*log.events, compaction])
    assert_valid_messages(context.messages)
    assert [b["tool_use_id"] for m in context.messages for b in m["content"] if b["type"] == "tool_result"] == ids[-1:]


async def test_a_second_compaction_swallows_the_first() -> None:
    log = four_turns()
    first = await compact(log.events, "primary", RecordingBrain("first summary"), keep_turns=2)
    log.add(first)
    for turn in range(5, 8):
        log.user(f"turn {turn}")
        log.call("Read", FILE, file_path=f"c{turn}.py")
        log.reply("ok")
    brain = RecordingBrain("second summary")

    second = await compact(log.events, "primary", brain, keep_turns=2)

    assert second.from_seq == first.from_seq and second.to_seq > first.seq
    # the brain summarises the first summary, not the turns it replaced
    sent = "".join(b.get("text", "") for m in brain.requests[0].messages for b in m["content"])
    assert "first summary" in sent and "toolu_001" not in str(brain.requests[0].messages)
    context = fold(log.events + [second])
    texts = [b["text"] for m in context.messages for b in m["content"] if b["type"] == "text"]
    summaries = [text for text in texts if "<conversation-summary>" in text]
    assert len(summaries) == 1 and summaries[0].startswith("<conversation-summary>\nsecond summary")
    assert_valid_messages(context.messages)


async def test_what_the_summary_leaves_out_the_engine_appends() -> None:
    log = four_turns()
    log.user("Also never push to main.")
    log.call("Read", "File not found: gone.py", is_error=True, file_path="gone.py")
    log.call("Bash", "AssertionError: 8 != 7\n[exit code 1]", is_error=True, command="make test")
    log.call("Bash", "OK\n[exit code 0]", command="make test")  # fixed later: not open
    log.reply("ok")
    for turn in range(2):
        log.user(f"later {turn}")
        log.reply("ok")

    terse = await compact(log.events, "primary", RecordingBrain("Fixing billing."), keep_turns=2)

    pinned = terse.summary.removeprefix("Fixing billing.")
    assert pinned.startswith(f"\n\n{PINNED_HEADING}\n")
    assert "- Fix the billing bug in a.py. Never touch vendor/.\n" in pinned
    assert "- Also never push to main.\n" in pinned and "- turn 4: carry on\n" in pinned
    assert "Files touched:\n- a.py\n- b2.py\n- b3.py\n- b4.py\n- gone.py\n" in pinned
    assert "- Bash `python -m unittest`: KeyError: 'currency' | [exit code 1]" in pinned
    assert "- Read of gone.py: File not found: gone.py" in pinned
    assert "AssertionError: 8 != 7" not in pinned

    complete = terse.summary.replace(PINNED_HEADING, "Everything:")
    assert missing_facts(log.events, terse.from_seq, terse.to_seq, complete) == ""


async def test_too_few_turns_or_no_summary_raise() -> None:
    log = Log()
    log.user("only turn")
    log.reply("ok")
    with pytest.raises(NothingToCompact):
        await compact(log.events, "primary", RecordingBrain(), keep_turns=2)
    with pytest.raises(CompactionFailed):
        await compact(four_turns().events, "primary", RecordingBrain(summary=""))


async def test_the_scripted_brain_summarises_extractively() -> None:
    log = four_turns()
    compaction = await compact(log.events, "primary", ScriptedBrain(), keep_turns=2)

    assert "Fix the billing bug in a.py. Never touch vendor/." in compaction.summary
    assert "`a.py` (Read)" in compaction.summary
    assert "KeyError: 'currency'" in compaction.summary
    assert "integer cents instead of floats" in compaction.summary
    assert compaction.tokens_after < compaction.tokens_before


async def test_compaction_in_a_live_session_with_the_real_engine(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    for name in ("a.md", "b.md", "c.md"):
        (workspace / name).write_text(f"# {name}\n\n" + "This sentence explains the project in some detail. " * 200)
    brain = ScriptedBrain()
    bench = await Engine.open(Config(bundles=tmp_path / "bundles", fsync="never"), workspace, brain)
    try:
        for name in ("a.md", "b.md", "c.md"):
            await ask(bench, f"read {name}")
        agent = bench.primary
        tools = [t.spec() for t in agent.tools()]
        before = bench.budget("primary").categories["tool_results"]

        compaction = await compact(bench.events, "primary", brain, instructions="keep file names", tools=tools)
        await agent.append(compaction)
        budget = bench.budget("primary")
        answer = await ask(bench, "read a.md")
    finally:
        await bench.close()

    assert budget.saved["compaction"] > 0 and budget.categories["tool_results"] < before
    assert budget.categories["summaries"] > 0
    assert "a.md" in answer
    request = agent.request()
    assert_valid_messages(request.messages)
    assert request.messages[0]["content"][0]["text"].startswith("<conversation-summary>")


# --- budget policy ---------------------------------------------------------------------------


def snapshot(used: int, window: int = 1000) -> BudgetSnapshot:
    return BudgetSnapshot(agent="primary", window=window, used=used, exact=True)


def test_auto_compaction_fires_at_the_threshold_and_not_before() -> None:
    assert not should_compact(snapshot(799))
    assert should_compact(snapshot(800))
    assert should_compact(snapshot(950))

    # a growing session: the policy fires on the first event that takes the context past half the window
    ledger = TokenLedger("primary", default_counter(), window=2000, compact_at=0.5)
    shares, fired = [], []
    for event in four_turns().events:
        ledger.observe(event)
        shares.append(ledger.snapshot().share)
        fired.append(should_compact(ledger.snapshot()))
    first = fired.index(True)
    assert shares[first] >= 0.5 > shares[first - 1]
    assert not any(fired[:first]) and all(fired[first:])


def test_delegation_is_proposed_once_per_crossing() -> None:
    assert should_propose_delegation(snapshot(300), None)
    assert not should_propose_delegation(snapshot(299), None)
    assert not should_propose_delegation(snapshot(400), snapshot(350))

    watch = DelegationWatch()
    shares = [100, 310, 350, 600, 200, 400, 450]
    assert [watch.check(snapshot(used)) for used in shares] == [False, True, False, False, False, True, False]
    other = BudgetSnapshot(agent="agent-1", window=1000, used=500, exact=True)
    assert watch.check(other)  # each agent crosses on its own
