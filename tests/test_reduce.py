"""Reduction strategies: a log in, the expected reduction out, savings measured, fold still valid."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.messages_api import assert_valid_messages
from workbench.engine.context.fold import Context, facts_text, fold
from workbench.engine.context.reduce import (
    STALE,
    SUPERSEDED,
    context_tokens,
    elide_stale,
    reduce_context,
    supersede,
)
from workbench.engine.context.tokens import TokenLedger, default_counter
from workbench.engine.context.tool_facts import error_lines
from workbench.protocol.content import TextBlock, ToolUseBlock
from workbench.protocol.events import (
    AgentSpawned,
    AssistantMessage,
    Compaction,
    Event,
    Reduction,
    SessionStarted,
    Status,
    ToolResult,
    UserMessage,
)

COUNTER = default_counter()
FILE = "\n".join(f"{n:6}\tdef function_{n}(value):  # computes the {n}th thing" for n in range(1, 121))
PARTIAL = FILE + "\n\n[380 more lines; call Read with offset=121 to continue]"
FAILURE = (
    "E.\n"
    + 'Traceback (most recent call last):\n  File "billing.py", line 30, in total\n' * 30
    + "KeyError: 'currency'\n\nFAILED (errors=1)\n[exit code 1]"
)


class Log:
    """Builds one agent's log the way the engine writes it: seq in order, results after their calls."""

    def __init__(self, cwd: str = "/ws") -> None:
        self.events: list[Event] = []
        self.calls = 0
        self.add(SessionStarted(cwd=cwd))
        self.add(AgentSpawned(name="primary", system="You are a test agent."))

    def add(self, event: Event) -> Event:
        event = event.model_copy(update={"seq": len(self.events) + 1, "agent": "primary", "session": "s"})
        self.events.append(event)
        return event

    def user(self, text: str) -> None:
        self.add(UserMessage(text=text))

    def call(self, name: str, result: str, is_error: bool = False, **tool_input: Any) -> str:
        """One step: a reply with one tool call, then its result."""
        self.calls += 1
        tool_use_id = f"toolu_{self.calls:03d}"
        call = ToolUseBlock(id=tool_use_id, name=name, input=tool_input)
        self.add(AssistantMessage(content=[TextBlock(text=f"Step {self.calls}."), call]))
        self.add(Status(state="tool"))
        self.add(ToolResult(tool_use_id=tool_use_id, name=name, content=result, is_error=is_error))
        return tool_use_id

    def reply(self, text: str) -> None:
        self.add(AssistantMessage(content=[TextBlock(text=text)]))


def with_stubs(context: Context, stubs: dict[str, str]) -> Context:
    """The context with those tool results' contents swapped for their stubs, nothing else changed."""

    def swapped(block: dict[str, Any]) -> dict[str, Any]:
        return {**block, "content": stubs[block["tool_use_id"]]} if block.get("tool_use_id") in stubs else block

    messages = [{**m, "content": [swapped(b) for b in m["content"]]} for m in context.messages]
    return Context(system=context.system, messages=messages)


def assert_measured(reduction: Reduction, before: list[Event]) -> None:
    """Fold swaps exactly the stubs in and shows the ledger the reduction carries, and the figures the
    event carries are that context's, recounted."""
    after = fold([*before, reduction])
    stubs_only = fold([*before, reduction.model_copy(update={"facts": ""})])
    assert stubs_only == with_stubs(fold(before), reduction.replacements)
    shown = [b["text"] for m in after.messages for b in m["content"] if b.get("text", "").startswith("<facts>")]
    assert len(shown) <= 1  # only the latest ledger
    if reduction.facts:
        assert shown == [facts_text(reduction.facts)]
    assert_valid_messages(after.messages)
    assert reduction.tokens_before == context_tokens(fold(before), COUNTER)
    assert reduction.tokens_after == context_tokens(after, COUNTER)
    assert reduction.tokens_after < reduction.tokens_before


def test_a_file_read_again_supersedes_the_older_read() -> None:
    log = Log()
    log.user("what does a.py do?")
    first = log.call("Read", FILE, file_path="a.py")
    log.reply("It defines functions.")
    log.user("read it again")
    second = log.call("Read", FILE, file_path="./a.py")
    log.reply("Same as before.")

    reduction = supersede(log.events)

    assert reduction is not None and reduction.strategy == SUPERSEDED and reduction.agent == "primary"
    assert reduction.replacements == {first: "[superseded by a later read (Read a.py): Read a.py]"}
    assert second not in reduction.replacements
    assert_measured(reduction, log.events)


def test_a_write_or_edit_after_a_read_supersedes_it_but_a_failed_edit_does_not() -> None:
    log = Log()
    log.user("fix a.py and b.py")
    read_a = log.call("Read", FILE, file_path="/ws/a.py")  # absolute inside the workspace: the same file
    read_b = log.call("Read", FILE, file_path="b.py")
    edit = log.call("Edit", "Replaced 1 occurrence in a.py", file_path="a.py", old_string="x", new_string="y")
    log.call("Edit", "old_string was not found", is_error=True, file_path="b.py", old_string="x", new_string="y")
    log.reply("Fixed a.py.")

    reduction = supersede(log.events)

    assert reduction is not None
    assert list(reduction.replacements) == [read_a]
    assert reduction.replacements[read_a] == "[superseded: a.py was changed later (Edit a.py): Read a.py]"
    assert edit not in reduction.replacements
    assert read_b not in reduction.replacements
    assert_measured(reduction, log.events)


def test_a_read_is_superseded_only_by_a_read_that_covers_its_lines() -> None:
    log = Log()
    log.user("look at big.py")
    whole = log.call("Read", PARTIAL, file_path="big.py")  # lines 1-2000 of a longer file
    part = log.call("Read", FILE, file_path="big.py", offset=50, limit=120)  # lines 50-169: covers neither
    log.call("Read", FILE, file_path="big.py", offset=1, limit=3000)  # covers both
    log.reply("done")

    reduction = supersede(log.events)

    assert reduction is not None and set(reduction.replacements) == {whole, part}

    log = Log()
    log.user("look at big.py")
    log.call("Read", PARTIAL, file_path="big.py")
    log.call("Read", FILE, file_path="big.py", offset=50, limit=120)
    log.reply("done")
    assert supersede(log.events) is None


def test_an_identical_grep_or_bash_call_supersedes_the_older_output() -> None:
    log = Log()
    log.user("run the tests")
    failing = log.call("Bash", FAILURE, is_error=True, command="python -m unittest")
    log.call("Bash", FAILURE, is_error=True, command="python -m unittest -v")  # another command
    grep = log.call("Grep", FILE, pattern="def ", path="src")
    log.call("Grep", FILE, pattern="def ", path="src")
    last_run = log.call("Bash", "OK\n[exit code 0]", command="python -m unittest")
    log.reply("All green.")

    reduction = supersede(log.events)

    assert reduction is not None and set(reduction.replacements) == {failing, grep}
    # that run passed when run again, but `-v` still shows the same errors: they stay in the stub
    assert reduction.replacements[failing] == (
        "[superseded by a later identical call: Bash `python -m unittest` → exit 1: KeyError: 'currency' | "
        "FAILED (errors=1)]"
    )
    assert last_run not in reduction.replacements
    assert "Resolved errors:\n- Bash `python -m unittest`: KeyError: 'currency' | FAILED (errors=1)" in reduction.facts
    assert_measured(reduction, log.events)


def test_nothing_superseded_means_no_reduction() -> None:
    log = Log()
    log.user("read a.py and b.py")
    log.call("Read", FILE, file_path="a.py")
    log.call("Read", FILE, file_path="b.py")
    log.reply("done")
    assert supersede(log.events) is None


def test_stale_large_results_become_stubs_that_say_what_was_there() -> None:
    log = Log()
    log.user("turn 1")
    big_read = log.call("Read", FILE, file_path="src/app.py")
    small = log.call("Glob", "a.py\nb.py", pattern="**/*.py")
    failed = log.call("Bash", FAILURE, is_error=True, command="python -m unittest")
    log.reply("ok")
    log.user("turn 2")
    recent = log.call("Read", FILE, file_path="src/other.py")
    log.reply("ok")
    log.user("turn 3")
    log.reply("ok")

    reduction = elide_stale(log.events, keep_turns=2, min_tokens=200)

    assert reduction is not None and reduction.strategy == STALE
    assert set(reduction.replacements) == {big_read, failed}  # small is too small, recent too recent
    assert small not in reduction.replacements and recent not in reduction.replacements
    assert reduction.replacements[big_read] == ("[elided to save context: Read src/app.py; repeat the call to see it]")
    assert reduction.replacements[failed] == (
        "[elided to save context: Bash `python -m unittest` → exit 1: KeyError: 'currency' | FAILED (errors=1); "
        "repeat the call to see it]"
    )
    assert_measured(reduction, log.events)


def test_stale_respects_the_turn_count_and_size_parameters() -> None:
    log = Log()
    for turn in range(4):
        log.user(f"turn {turn}")
        log.call("Read", FILE, file_path=f"f{turn}.py")
        log.reply("ok")
    # 4 turns: keeping 4 leaves nothing stale; keeping 1 elides the first three
    assert elide_stale(log.events, keep_turns=4) is None
    reduction = elide_stale(log.events, keep_turns=1, min_tokens=10)
    assert reduction is not None and len(reduction.replacements) == 3
    assert elide_stale(log.events, keep_turns=1, min_tokens=100_000) is None


def test_reduced_or_summarised_results_are_left_alone() -> None:
    log = Log()
    for turn in range(5):
        log.user(f"turn {turn}")
        log.call("Read", FILE, file_path=f"f{turn}.py")
        log.reply("ok")
    first = elide_stale(log.events, keep_turns=2, min_tokens=10)
    assert first is not None and len(first.replacements) == 3
    assert elide_stale([*log.events, first], keep_turns=2, min_tokens=10) is None  # idempotent

    # turns 0 and 1 (seqs 3-12) are summarised: only turn 2's result is both stale and still there
    compacted = [*log.events, Compaction(agent="primary", seq=99, summary="s", from_seq=3, to_seq=12)]
    again = elide_stale(compacted, keep_turns=2, min_tokens=10)
    assert again is not None
    assert set(again.replacements) == {"toolu_003"}
    assert_measured(again, compacted)


def test_the_combined_pass_supersedes_then_elides_and_the_ledger_records_both() -> None:
    log = Log()
    log.user("read a.py")
    old = log.call("Read", FILE, file_path="a.py")
    log.reply("ok")
    log.user("run the tests")
    run = log.call("Bash", FAILURE, is_error=True, command="make test")
    log.reply("it fails")
    for turn in range(3):
        log.user(f"turn {turn}")
        log.call("Read", FILE, file_path="a.py")
        log.reply("ok")

    reductions = reduce_context(log.events, keep_turns=3, min_tokens=200)

    assert [r.strategy for r in reductions] == [SUPERSEDED, STALE]
    assert old in reductions[0].replacements and run in reductions[1].replacements
    assert reductions[1].tokens_before == reductions[0].tokens_after  # each measures the log it was given
    assert_valid_messages(fold([*log.events, *reductions]).messages)

    ledger = TokenLedger("primary", COUNTER)
    for event in [*log.events, *reductions]:
        ledger.observe(event)
    assert ledger.saved == {r.strategy: r.tokens_before - r.tokens_after for r in reductions}


def test_other_agents_are_untouched() -> None:
    log = Log()
    log.user("read a.py twice")
    log.call("Read", FILE, file_path="a.py")
    log.call("Read", FILE, file_path="a.py")
    child = [e.model_copy(update={"agent": "agent-1"}) for e in log.events[1:]]
    assert supersede(child, agent="primary") is None
    assert supersede([*log.events, *child], agent="agent-1") is not None


def test_error_lines_pick_the_exception_and_the_verdict() -> None:
    assert error_lines(FAILURE) == ["KeyError: 'currency'", "FAILED (errors=1)"]
    assert error_lines("File not found: a.py") == ["File not found: a.py"]
    assert error_lines("E       AssertionError: 3 != 4\n") == ["AssertionError: 3 != 4"]


# --- any log: reduction keeps fold valid and its figures true ---------------------------------

STEPS = st.lists(
    st.tuples(
        st.sampled_from(["user", "read", "read_part", "edit", "bash", "grep", "reply"]),
        st.integers(min_value=0, max_value=2),  # which file / command
        st.integers(min_value=1, max_value=60),  # size
        st.booleans(),  # failed
    ),
    max_size=40,
)


def random_log(steps: list[tuple[str, int, int, bool]]) -> list[Event]:
    log = Log()
    log.user("start")
    for action, which, size, failed in steps:
        body = "\n".join(f"line {n} of output number {which}" for n in range(size))
        if action == "user":
            log.user(f"next {which}")
        elif action == "read":
            log.call("Read", body, file_path=f"f{which}.py")
        elif action == "read_part":
            partial = body + "\n\n[9 more lines; call Read with offset=3 to continue]"
            log.call("Read", partial, file_path=f"f{which}.py", offset=1, limit=2)
        elif action == "edit":
            edit = {"file_path": f"f{which}.py", "old_string": "a", "new_string": "b"}
            log.call("Edit", "Replaced 1 occurrence", is_error=failed, **edit)
        elif action == "bash":
            log.call("Bash", body + "\nValueError: bad\n[exit code 1]", is_error=failed, command=f"cmd {which}")
        elif action == "grep":
            log.call("Grep", body, pattern=f"p{which}")
        else:
            log.reply("ok")
    return log.events


@settings(max_examples=60, deadline=None)
@given(STEPS, st.integers(min_value=0, max_value=3), st.integers(min_value=1, max_value=300))
def test_any_log_reduces_to_valid_messages_with_true_figures(steps, keep_turns: int, min_tokens: int) -> None:
    events = random_log(steps)
    log = list(events)
    for reduction in reduce_context(events, keep_turns=keep_turns, min_tokens=min_tokens):
        assert_measured(reduction, log)
        log.append(reduction)
    assert_valid_messages(fold(log).messages)
