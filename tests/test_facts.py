"""The facts ledger: folded from a log, carried through reduction, compaction, remount and fork."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings

from tests.bundle_fixtures import make_session, open_bench, store_of
from tests.engine_driver import ask, spawn
from tests.test_reduce import FILE, STEPS, Log, random_log
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.context.brief import brief
from workbench.engine.context.compaction import compact
from workbench.engine.context.fold import facts_text, fold
from workbench.engine.context.reduce import context_tokens, elide_stale, reduce_context
from workbench.engine.context.tokens import default_counter
from workbench.engine.remount import plan_remount, remount
from workbench.engine.views.budgets import Budgets
from workbench.engine.views.facts import FOLDED_KINDS, Facts, ledger_of, ledger_text
from workbench.protocol.content import TextBlock
from workbench.protocol.events import (
    KNOWN_EVENT_TYPES,
    AssistantMessage,
    Event,
    Remounted,
    ToolCall,
    ToolResult,
    UserMessage,
)
from workbench.protocol.facts import CommandFact, ErrorFact, FactLedger, FileFact

COUNTER = default_counter()
PYTEST_FAILURES = "\n".join(
    [
        "============================= test session starts ==============================",
        *[f"tests/test_m{n}.py F" for n in range(12)],
        "=================================== FAILURES ===================================",
        *[line for n in range(12) for line in (f"____ test_{n} ____", "    def test():", f"E       KeyError: 'k{n}'")],
        "=========================== short test summary info ============================",
        *[f"FAILED tests/test_m{n}.py::test_{n} - KeyError: 'k{n}'" for n in range(12)],
        "========================= 12 failed, 40 passed in 2.31s =========================",
    ]
)


def shown(events: list[Event]) -> list[str]:
    """The facts blocks the agent's context holds."""
    return [
        b["text"]
        for m in fold(events, agent="primary").messages
        for b in m["content"]
        if b.get("type") == "text" and b["text"].startswith("<facts>")
    ]


def context_text(events: list[Event]) -> str:
    return str(fold(events, agent="primary").messages)


# --- each kind of fact ------------------------------------------------------------------------


def test_the_ledger_holds_each_kind_of_fact_from_a_log() -> None:
    log = Log(cwd="/ws")
    log.user(
        "Fix the totals in billing.py. <system-reminder>The date is Monday.</system-reminder> Never touch vendor/."
    )
    log.user(
        "<command-message>fix is running…</command-message>\n<command-name>/fix</command-name>\n<command-args>issue 7</command-args>"
    )
    log.user("<local-command-stdout>Compacted</local-command-stdout>")
    log.call("Read", FILE, file_path="/ws/billing.py")
    log.call("Read", FILE, file_path="tests/test_billing.py", offset=10, limit=30)
    log.call("Read", "File not found: gone.py", is_error=True, file_path="gone.py")
    log.call(
        "Edit",
        "old_string was not found in billing.py",
        is_error=True,
        file_path="billing.py",
        old_string="a",
        new_string="b",
    )
    log.call("Edit", "Replaced 1 occurrence", file_path="billing.py", old_string="x", new_string="y")
    log.call("Write", "Wrote notes.md", file_path="notes.md", content="hi")
    log.call("Bash", "E   KeyError: 'currency'\nFAILED (errors=1)\n[exit code 1]", is_error=True, command="make test")
    log.call("Bash", "ok\n[exit code 0]", command="make test")
    log.call(
        "Bash",
        "billing.py:3:8: F401 [*] `os` imported but unused\n[exit code 1]",
        is_error=True,
        command="ruff check .",
    )
    log.call("Grep", "billing.py:1:x", pattern="total")
    log.reply("We'll keep amounts in integer cents instead of floats. Done for now.")
    log.user("Result from the delegated agent agent-1 ('x'), which ended done:\n\nits summary")

    ledger = ledger_of(log.events, "primary")

    assert ledger.instructions == [
        "Fix the totals in billing.py. Never touch vendor/.",  # Claude Code's reminder is not the user's
        "/fix issue 7",
    ]  # local command output and a child's returned result are not the user's words either
    assert ledger.files == [
        FileFact(path="tests/test_billing.py", state="read lines 10–39"),
        FileFact(path="gone.py", state="not found"),
        FileFact(path="billing.py", state="changed (Edit)", changed=True),
        FileFact(path="notes.md", state="changed (Write)", changed=True),
    ]
    assert ledger.commands == [
        CommandFact(command="make test", runs=2, outcome="ok"),
        CommandFact(command="ruff check .", runs=1, outcome="exit 1"),
    ]
    errors = {e.key: e for e in ledger.errors}
    assert errors["read:gone.py"].open == ["File not found: gone.py"]
    assert errors["change:billing.py"] == ErrorFact(
        key="change:billing.py", source="Edit billing.py", resolved=["old_string was not found in billing.py"]
    )
    assert errors["run:make test"].open == [] and errors["run:make test"].resolved == [
        "KeyError: 'currency'",
        "FAILED (errors=1)",
    ]
    assert errors["run:ruff check ."].open == ["billing.py:3:8: F401 [*] `os` imported but unused"]
    assert errors["run:ruff check ."].source == "Bash `ruff check .` (exit 1)"
    assert ledger.decisions == ["We'll keep amounts in integer cents instead of floats."]

    text = ledger_text(ledger)
    assert "- billing.py: changed (Edit)\n" in text and "- `make test` ×2: ok\n" in text
    assert "Open errors:\n- Read gone.py: File not found: gone.py\n" in text


def test_codex_shell_reads_patches_and_runs_are_read_as_such() -> None:
    facts = Facts()
    log = Log(cwd="/ws")
    calls = [
        ("shell", {"command": ["bash", "-lc", "nl -ba src/a.py | sed -n '1,80p'"], "workdir": "/ws"}, "1 x", False),
        (
            "exec_command",
            {"cmd": "sed -n '1,200p' legacy.py"},
            "sed: can't read legacy.py: No such file or directory",
            True,
        ),
        (
            "apply_patch",
            {
                "input": "*** Begin Patch\n*** Update File: src/a.py\n@@\n-x\n+y\n*** Add File: src/b.py\n+z\n*** End Patch"
            },
            "Success.",
            False,
        ),
        (
            "exec_command",
            {"cmd": "cd pkg && pytest -q"},
            "Process exited with code 1\nOutput:\nFAILED t.py::x - KeyError: 'k'",
            True,
        ),
        ("exec_command", {"cmd": "rg -n total src"}, "src/a.py:1:total", False),
    ]
    for index, (name, tool_input, output, failed) in enumerate(calls):
        log.add(ToolCall(tool_use_id=f"c{index}", name=name, input=tool_input))
        log.add(ToolResult(tool_use_id=f"c{index}", name=name, content=output, is_error=failed))
    for event in log.events:
        facts.apply(event)

    ledger = facts.of("primary")
    assert [(f.path, f.state) for f in ledger.files] == [
        ("legacy.py", "not found"),
        ("src/a.py", "changed (apply_patch)"),
        ("src/b.py", "created (apply_patch)"),
    ]
    assert ledger.commands == [
        CommandFact(command="cd pkg && pytest -q", outcome="exit 1")
    ]  # reads and searches are no commands
    assert [e.open for e in ledger.errors] == [
        ["sed: can't read legacy.py: No such file or directory"],
        ["FAILED t.py::x - KeyError: 'k'"],
    ]


# --- carried through reduction and compaction --------------------------------------------------


def long_session() -> Log:
    log = Log()
    log.user("Get the suite green. Don't add dependencies.")
    log.call("Read", FILE, file_path="src/app.py")
    log.call("Bash", PYTEST_FAILURES + "\n[exit code 1]", is_error=True, command="pytest -q")
    log.reply("We'll fix the key errors one module at a time.")
    for turn in range(4):
        log.user(f"Next module, please: m{turn}.")
        log.call("Read", FILE, file_path=f"src/m{turn}.py")
        log.reply("ok")
    return log


def test_every_reduction_carries_the_ledger_and_the_context_shows_only_the_latest() -> None:
    log = long_session()
    reductions = reduce_context(log.events, keep_turns=2, keep_calls=2, min_tokens=100)

    assert reductions and reductions[0].facts == ledger_text(ledger_of(log.events, "primary"))
    assert all(r.facts == "" for r in reductions[1:])  # the same ledger is not shown twice
    assert shown([*log.events, *reductions]) == [facts_text(reductions[0].facts)]

    log.user("And the last one: m9.")
    log.call("Read", FILE, file_path="src/m9.py")
    log.call("Read", FILE, file_path="src/m10.py")
    log.call("Read", FILE, file_path="src/m11.py")
    again = elide_stale([*log.events, *reductions], keep_turns=2, keep_calls=2, min_tokens=100)
    assert again is not None and "src/m9.py: read" in again.facts
    assert shown([*log.events, *reductions, again]) == [facts_text(again.facts)]


async def test_a_compaction_carries_the_ledger_and_replaces_the_one_a_reduction_showed() -> None:
    log = long_session()
    reductions = reduce_context(log.events, keep_turns=2, keep_calls=2, min_tokens=100)
    events = [*log.events, *reductions]

    compaction = await compact(events, "primary", ScriptedBrain(), keep_turns=2)

    ledger = ledger_of(events, "primary")
    assert compaction.facts == ledger_text(ledger)
    after = [*events, compaction]
    assert shown(after) == [facts_text(compaction.facts)]
    text = context_text(after)
    for said in ledger.instructions:
        assert said in text
    for n in range(12):  # every open error line, though the run that printed them is summarised away
        assert f"FAILED tests/test_m{n}.py::test_{n} - KeyError: 'k{n}'" in text
    assert "src/app.py: read" in text and "We'll fix the key errors one module at a time." in text


# --- a stub never drops an unresolved error ---------------------------------------------------


def test_a_stale_stub_keeps_every_open_error_line_and_only_those() -> None:
    log = long_session()
    run = next(e.tool_use_id for e in log.events if isinstance(e, ToolResult) and e.is_error)
    reduction = elide_stale(log.events, keep_turns=2, min_tokens=100)
    assert reduction is not None
    stub = reduction.replacements[run]
    assert stub.startswith("[elided to save context: Bash `pytest -q` → exit 1: FAILED tests/test_m0.py::test_0")
    assert stub.endswith("KeyError: 'k11'; repeat the call to see it]")  # the lines it needs, nothing else
    for n in range(12):
        assert f"FAILED tests/test_m{n}.py::test_{n} - KeyError: 'k{n}'" in stub
    assert stub.count("KeyError: 'k0'") == 1  # the E line is inside its FAILED line: kept once

    log.call("Bash", "52 passed\n[exit code 0]", command="pytest -q")  # fixed: the lines are resolved now
    log.user("thanks")
    log.reply("ok")
    superseded = reduce_context(log.events, keep_turns=2, min_tokens=100)[0]
    assert superseded.replacements[run] == (
        "[superseded by a later identical call: Bash `pytest -q` → exit 1 (12 error lines resolved since)]"
    )
    assert "Resolved errors:\n- Bash `pytest -q`: " in superseded.facts


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_after_any_reduction_every_open_error_is_still_in_the_context(steps) -> None:
    events = random_log(steps)
    reduced = [*events, *reduce_context(events, keep_turns=1, keep_calls=1, min_tokens=1)]
    text = context_text(reduced)
    for error in ledger_of(events, "primary").errors:
        for line in error.open:
            assert line in text


# --- carried through remount and fork ---------------------------------------------------------


async def test_a_remount_carries_the_ledger_and_the_new_agent_goes_on_from_it(tmp_path: Path) -> None:
    source = await make_session(tmp_path, ["read README.md", "read NOTES.md"])
    store = store_of(tmp_path)
    events = (await store.read(source)).events
    plan = await remount(store, source)
    assert plan.facts == ledger_of(events, "primary") and plan.event.facts == plan.facts

    bench = await open_bench(tmp_path, remount=plan.event)
    try:
        assert bench.view.facts.of("primary") == plan.facts
        await ask(bench, "read README.md again, please")
        ledger = bench.view.facts.of("primary")
    finally:
        await bench.close()
    assert ledger.instructions == ["read README.md", "read NOTES.md", "read README.md again, please"]
    assert [f.path for f in ledger.files] == ["NOTES.md", "README.md"]  # README.md read last
    mounted = next(e for e in (await store.read(bench.session.id)).events if isinstance(e, Remounted))
    assert mounted.facts == plan.facts  # written to the new bundle: it stands on its own


async def test_a_fork_carries_the_ledger_as_it_was_at_that_event(tmp_path: Path) -> None:
    source = await make_session(tmp_path, ["read README.md", "read NOTES.md"])
    events = (await store_of(tmp_path).read(source)).events
    second = next(e.seq for e in events if isinstance(e, UserMessage) and e.text == "read NOTES.md")
    plan = plan_remount(source, events, up_to_seq=second - 1)
    assert plan.facts.instructions == ["read README.md"]
    assert [f.path for f in plan.facts.files] == ["README.md"]


def test_a_remount_logged_without_a_ledger_gets_one_from_its_messages() -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "fix a.py"}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "a.py"}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "x = 1"}]},
        {"role": "user", "content": [{"type": "text", "text": "<facts>\nold ledger\n</facts>"}]},
    ]
    facts = Facts()
    facts.apply(Remounted(agent="primary", seq=2, source_session="s", up_to_seq=9, messages=messages))
    assert facts.of("primary") == FactLedger(files=[FileFact(path="a.py", state="read")], instructions=["fix a.py"])


async def test_the_budget_counts_the_one_ledger_the_context_shows() -> None:
    budgets = Budgets(COUNTER, window=200_000, delegate_at=0.3, compact_at=0.8)
    log = long_session()
    events = list(log.events)
    events += reduce_context(events, keep_turns=2, keep_calls=2, min_tokens=100)
    events.append(await compact(events, "primary", ScriptedBrain(), keep_turns=2))
    log.events = events
    log.user("one more")
    for name in ("x.py", "y.py", "z.py"):
        log.call("Read", FILE, file_path=name)
    later = elide_stale(log.events, keep_turns=2, keep_calls=1, min_tokens=100)
    assert later is not None and later.facts  # a new ledger: the compaction's is no longer shown
    for event in [*log.events, later]:
        budgets.apply(event)
    after = fold([*log.events, later], agent="primary")
    assert budgets.snapshot("primary").used == context_tokens(after, COUNTER) == later.tokens_after


# --- the budget pane and delegation briefs ----------------------------------------------------


async def test_the_budget_shows_the_size_of_the_ledger(tmp_path: Path) -> None:
    bench = await open_bench(tmp_path)
    try:
        assert bench.budget("primary").facts == 0
        await ask(bench, "read README.md")
        budget = bench.budget("primary")
    finally:
        await bench.close()
    assert budget.facts == COUNTER.count(bench.view.facts.text("primary")) > 0


def test_a_brief_names_the_files_the_task_is_about_and_the_latest_request() -> None:
    ledger = FactLedger(
        files=[
            FileFact(path="README.md", state="read"),
            FileFact(path="Makefile", state="read"),
            FileFact(path="src/build/rules.py", state="changed (Edit)", changed=True),
        ],
        errors=[
            ErrorFact(
                key="run:make", source="Bash `make` (exit 2)", open=["Makefile:12: *** missing separator.  Stop."]
            )
        ],
        instructions=["Summarise the README for me.", "The CI build fails on make; find out why. Never push to main."],
    )

    text = brief(ledger, "read Makefile")

    assert text.startswith("Your task: read Makefile\n\n")
    assert "Files of this task it has worked with: Makefile (read)" in text
    assert "README.md" not in text and "rules.py" not in text
    assert "What the user last asked the agent that delegated this: The CI build fails on make" in text
    assert "Summarise the README" not in text
    assert "Makefile:12: *** missing separator." in text  # an open error about the task's file
    assert "- The CI build fails on make; find out why. Never push to main." in text
    assert "src/build/rules.py (changed (Edit))" in brief(ledger, "review the changes under src/build/")


async def test_a_delegated_child_gets_a_brief_from_its_parents_ledger(tmp_path: Path) -> None:
    bench = await open_bench(tmp_path)
    try:
        await ask(bench, "read README.md")
        await ask(bench, "read NOTES.md")
        child = await spawn(bench, "delegated", "check NOTES.md for typos")
        task = child.spec.task
        await bench.wait_all()
    finally:
        await bench.close()
    assert task.startswith("Your task: check NOTES.md for typos")
    assert "Files of this task it has worked with: NOTES.md (read)" in task
    assert "README.md" not in task
    assert "What the user last asked the agent that delegated this: read NOTES.md" not in task  # under 4 words


def test_decisions_come_from_the_agents_words() -> None:
    facts = Facts()
    reply = AssistantMessage(
        agent="primary", content=[TextBlock(text="I read it. Instead of floats we decided to use cents.")]
    )
    assert facts.apply(reply) and facts.of("primary").decisions == ["Instead of floats we decided to use cents."]


def test_only_the_folded_kinds_change_a_ledger() -> None:
    facts = Facts()
    for kind in KNOWN_EVENT_TYPES:
        if not issubclass(kind, FOLDED_KINDS):
            assert facts.apply(kind.model_construct(agent="primary")) is False, kind
    assert facts.of("primary") == FactLedger()


def test_a_long_message_keeps_the_users_words_and_drops_what_they_pasted() -> None:
    log_lines = "\n".join(f"E   KeyError: 'k{n}'" for n in range(80))
    code = "```\n" + "\n".join(f"def f{n}(): pass" for n in range(80)) + "\n```"
    text = f"CI fails with this:\n{log_lines}\n{code}\nFix it without touching the tests. Then tell me what broke."
    assert len(text) > 1200
    facts = Facts()
    facts.apply(UserMessage(agent="primary", text=text))
    assert facts.of("primary").instructions == [
        "CI fails with this: Fix it without touching the tests. Then tell me what broke."
    ]
