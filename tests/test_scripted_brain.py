"""ScriptedBrain: rules, tool-result answers, script replay, streaming shape, determinism."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from workbench.brains.base import Brain
from workbench.brains.extractive import compaction_summary, paths_in, summarise_conversation, summarise_text
from workbench.brains.scripted import COMPACTION_MARKER, ScriptedBrain
from workbench.protocol.brain_io import (
    BrainError,
    BrainEvent,
    BrainRequest,
    MessageDone,
    TextDelta,
    ToolSpec,
    ToolUseStarted,
    UsageReport,
)
from workbench.protocol.content import TextBlock, ToolUseBlock, text_of, tool_uses

ALL_TOOLS = ("Read", "Glob", "Grep", "Bash", "Task")

README = """# Widget

Widget turns spreadsheets into dashboards without any code. It reads CSV files and renders charts.

## Install

Install widget with pip, then run the widget command in a folder of CSV files.

```
pip install widget and then widget serve --port 8080
```

## Configuration

Dashboards are configured in widget.toml, one section per chart.
The colour theme of every chart can be changed in widget.toml as well.
"""


def spec(name: str) -> ToolSpec:
    return ToolSpec(name=name, description=f"the {name} tool", input_schema={"type": "object", "properties": {}})


def request(
    messages: list[dict[str, Any]], tools: tuple[str, ...] = ALL_TOOLS, system: str = "", level: int = 1
) -> BrainRequest:
    specs = [spec(t) for t in tools]
    return BrainRequest(model="scripted", system=system, messages=messages, tools=specs, agent_level=level)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


async def collect(brain: ScriptedBrain, req: BrainRequest) -> list[BrainEvent]:
    return [event async for event in brain.stream(req)]


def done(events: list[BrainEvent]) -> MessageDone:
    finals = [e for e in events if isinstance(e, MessageDone)]
    assert len(finals) == 1 and events[-1] is finals[0]
    return finals[0]


async def first_call(text: str, tools: tuple[str, ...] = ALL_TOOLS) -> ToolUseBlock:
    reply = done(await collect(ScriptedBrain(), request([user(text)], tools)))
    assert reply.stop_reason == "tool_use"
    (call,) = tool_uses(reply.content)
    return call


async def answer(text: str, result: str, *, is_error: bool = False) -> tuple[ToolUseBlock, MessageDone]:
    """Ask, then hand back ``result`` as the tool's output; return the call and the final answer."""
    brain = ScriptedBrain()
    messages = [user(text)]
    first = done(await collect(brain, request(messages)))
    (call,) = tool_uses(first.content)
    messages += [
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": result, "is_error": is_error}],
        },
    ]
    final = done(await collect(brain, request(messages)))
    assert final.stop_reason == "end_turn"
    assert tool_uses(final.content) == []
    return call, final


def squash(text: str) -> str:
    return " ".join(text.split())


# --- rules: which tool call each request makes ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool", "tool_input"),
    [
        ("read README.md", "Read", {"file_path": "README.md"}),
        ("what's in src/app.py?", "Read", {"file_path": "src/app.py"}),
        ("summarise README.md", "Read", {"file_path": "README.md"}),
        ("explain x.py", "Read", {"file_path": "x.py"}),
        ("list python files", "Glob", {"pattern": "**/*.py"}),
        ("list python files in src", "Glob", {"pattern": "src/**/*.py"}),
        ("find *.md", "Glob", {"pattern": "**/*.md"}),
        ("search for TODO", "Grep", {"pattern": "TODO"}),
        ("grep 'def main' in workbench", "Grep", {"pattern": "def main", "path": "workbench"}),
        ("run `ls -la`", "Bash", {"command": "ls -la"}),
        ("run the tests", "Bash", {"command": "python -m pytest -q"}),
        (
            "delegate: write the changelog",
            "Task",
            {"description": "write the changelog", "prompt": "write the changelog"},
        ),
        (
            "delegate updating the changelog for 0.2 to a sub-agent",
            "Task",
            {"description": "updating the changelog for 0.2", "prompt": "updating the changelog for 0.2"},
        ),
    ],
)
async def test_rule_makes_the_expected_tool_call(text: str, tool: str, tool_input: dict[str, Any]) -> None:
    call = await first_call(text)
    assert (call.name, call.input) == (tool, tool_input)


async def test_delegation_wins_over_the_rule_inside_the_task() -> None:
    call = await first_call("delegate: read README.md and list its sections")
    assert call.name == "Task"
    assert call.input["prompt"] == "read README.md and list its sections"
    assert len(call.input["description"]) <= 48


async def test_several_named_files_are_read_in_parallel() -> None:
    reply = done(await collect(ScriptedBrain(), request([user("read a.md and docs/b.md")])))
    assert [(c.name, c.input) for c in tool_uses(reply.content)] == [
        ("Read", {"file_path": "a.md"}),
        ("Read", {"file_path": "docs/b.md"}),
    ]


async def test_tool_not_offered_is_explained_not_called() -> None:
    events = await collect(ScriptedBrain(), request([user("read README.md")], tools=("Glob",)))
    reply = done(events)
    assert not any(isinstance(e, ToolUseStarted) for e in events)
    assert tool_uses(reply.content) == []
    assert reply.stop_reason == "end_turn"
    assert "`Read`" in text_of(reply.content) and "not offered" in text_of(reply.content)


async def test_offered_tool_name_is_used_as_spelled() -> None:
    call = await first_call("read README.md", tools=("read",))
    assert call.name == "read"


async def test_unmatched_request_gets_an_honest_help_reply() -> None:
    reply = done(await collect(ScriptedBrain(), request([user("what's the weather like?")])))
    text = text_of(reply.content)
    assert tool_uses(reply.content) == [] and reply.stop_reason == "end_turn"
    assert "offline scripted brain" in text and "not a language model" in text
    assert "ANTHROPIC_API_KEY" in text and "read README.md" in text and "delegate" in text


@pytest.mark.parametrize("text", ["run through the plan with me", "run the app"])
async def test_english_after_run_is_not_taken_for_a_command(text: str) -> None:
    reply = done(await collect(ScriptedBrain(), request([user(text)])))
    assert tool_uses(reply.content) == [] and "offline scripted brain" in text_of(reply.content)


@pytest.mark.parametrize("text", ["run make", "please run git status"])
async def test_bare_run_takes_the_rest_as_the_command(text: str) -> None:
    call = await first_call(text)
    assert call.input == {"command": text.removeprefix("please ").removeprefix("run ")}


async def test_sub_agent_with_unmatched_task_says_nothing_was_done() -> None:
    reply = done(await collect(ScriptedBrain(), request([user("write the changelog")], level=2)))
    text = text_of(reply.content)
    assert "write the changelog" in text and "nothing was done" in text


# --- answers from tool results --------------------------------------------------------------


async def test_read_answer_names_file_counts_lines_and_quotes_it() -> None:
    numbered = "\n".join(f"{i:>6}\t{line}" for i, line in enumerate(README.splitlines(), 1))
    call, final = await answer("summarise README.md", numbered)
    text = text_of(final.content)
    assert call.input == {"file_path": "README.md"}
    assert f"`README.md` has {len(README.splitlines())} lines" in text
    assert "Widget" in text and "Install" in text and "Configuration" in text
    quotes = [line[2:] for line in text.splitlines() if line.startswith("> ")]
    assert quotes, text
    for quote in quotes:  # extractive: every quote is in the file, without the line numbers
        assert squash(quote.rstrip("…")) in squash(README)
        assert not re.match(r"\s*\d+\t", quote)
    assert "widget serve" not in text  # code blocks are not prose


async def test_read_of_a_long_file_counts_the_unread_lines_too() -> None:
    shown = "\n".join(f"{n:6}\tThe widget module renders chart number {n} today." for n in range(1, 4))
    _, final = await answer("read big.md", shown + "\n\n[97 more lines; call Read with offset=4 to continue]")
    text = text_of(final.content)
    assert "`big.md` has 100 lines." in text
    assert "offset=4" not in text


async def test_read_of_an_empty_file_says_so() -> None:
    _, final = await answer("read empty.md", "(empty.md is empty)")
    assert text_of(final.content) == "`empty.md` is empty."


async def test_read_error_is_reported_plainly() -> None:
    _, final = await answer("read missing.md", "File not found: missing.md", is_error=True)
    assert text_of(final.content) == "`Read` failed for `missing.md`: File not found: missing.md"


async def test_glob_answer_counts_and_lists_the_first_items() -> None:
    paths = [f"src/module_{i:02d}.py" for i in range(13)]
    _, final = await answer("list python files", "\n".join(paths))
    text = text_of(final.content)
    assert text.startswith("Found 13 files matching `**/*.py`:")
    assert "src/module_09.py" in text and "src/module_10.py" not in text
    assert "3 more" in text


async def test_glob_with_no_match_says_so() -> None:
    _, final = await answer("find *.rst", "No files match '**/*.rst'")
    assert text_of(final.content) == "No files match `**/*.rst`."


async def test_grep_answer_counts_the_files_that_match() -> None:
    _, final = await answer("search for TODO", "src/a.py\nsrc/b.py")
    text = text_of(final.content)
    assert text.startswith("Found 2 files containing `TODO`:")
    assert "src/a.py" in text and "src/b.py" in text


async def test_grep_lines_use_the_total_the_tool_reports() -> None:
    lines = [f"a.py:{i}:# TODO {i}" for i in range(1, 13)]
    result = "\n".join(lines) + "\n\n[showing the first 12 of 40 lines]"
    messages = [
        user("what is left to do?"),
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "g1", "name": "Grep", "input": {"pattern": "TODO", "output_mode": "content"}}
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "g1", "content": result}]},
    ]
    text = text_of(done(await collect(ScriptedBrain(), request(messages))).content)
    assert text.startswith("Found 40 matching lines for `TODO`:")
    assert "a.py:10:# TODO 10" in text and "a.py:11:" not in text
    assert "… and 30 more" in text and "[showing" not in text


async def test_bash_answer_shows_the_end_of_the_output() -> None:
    output = "\n".join(f"line {i}" for i in range(1, 31)) + "\n30 passed in 0.12s"
    _, final = await answer("run the tests", output)
    text = text_of(final.content)
    assert "`python -m pytest -q` finished" in text
    assert "30 passed in 0.12s" in text and "31 lines, last 20 shown" in text
    assert "line 1\n" not in text


async def test_failed_command_is_reported_as_failed() -> None:
    _, final = await answer("run `make lint`", "make: *** No rule to make target 'lint'.", is_error=True)
    text = text_of(final.content)
    assert "`make lint` failed" in text and "No rule to make target" in text


async def test_delegated_summary_is_relayed() -> None:
    summary = "Wrote CHANGELOG.md with 4 entries for 0.2."
    _, final = await answer("delegate: write the changelog", summary)
    text = text_of(final.content)
    assert 'finished "write the changelog"' in text and summary in text


async def test_tool_result_with_new_user_text_reports_then_acts() -> None:
    brain = ScriptedBrain()
    messages = [user("read a.md")]
    first = done(await collect(brain, request(messages)))
    (call,) = tool_uses(first.content)
    messages += [
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": call.id,
                    "content": [{"type": "text", "text": "Hello there, reader of files."}],
                },
                {"type": "text", "text": "now run `ls`"},
            ],
        },
    ]
    reply = done(await collect(brain, request(messages)))
    assert "`a.md` has 1 line." in text_of(reply.content)
    assert [(c.name, c.input) for c in tool_uses(reply.content)] == [("Bash", {"command": "ls"})]


# --- conversation summaries -----------------------------------------------------------------


CONVERSATION: list[dict[str, Any]] = [
    user("Add a dark theme to the settings screen."),
    {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "We'll keep colours in themes/dark.toml. Reading the screen."},
            {"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "src/settings.py"}},
            {"type": "tool_use", "id": "t2", "name": "Bash", "input": {"command": "pytest tests/test_theme.py"}},
            {"type": "tool_use", "id": "t3", "name": "Read", "input": {"file_path": "src/missing.py"}},
        ],
    },
    {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "class Settings: ..."},
            {"type": "tool_result", "tool_use_id": "t2", "content": "1 failed", "is_error": True},
            {"type": "tool_result", "tool_use_id": "t3", "content": "File not found: src/missing.py", "is_error": True},
        ],
    },
    user("Don't touch the light theme."),
    {
        "role": "assistant",
        "content": [
            {"type": "tool_use", "id": "t4", "name": "Bash", "input": {"command": "pytest tests/test_theme.py"}},
        ],
    },
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t4", "content": "1 passed"}]},
    user("Now write the docs."),
]


def test_conversation_summary_keeps_goal_instructions_files_and_open_errors() -> None:
    summary = summarise_conversation(CONVERSATION)
    sections = dict(re.findall(r"## (.+)\n((?:(?!## ).*\n?)*)", summary))
    assert set(sections) == {"Goal", "Instructions", "Files touched", "Open errors", "Decisions", "Last request"}
    assert "Add a dark theme to the settings screen." in sections["Goal"]
    assert "Don't touch the light theme." in sections["Instructions"]
    assert "`src/settings.py` (Read)" in sections["Files touched"]
    assert "tests/test_theme.py" in sections["Files touched"]
    assert "File not found: src/missing.py" in sections["Open errors"]
    assert "1 failed" not in sections["Open errors"]  # the later identical run passed
    assert "We'll keep colours in themes/dark.toml." in sections["Decisions"]
    assert "Now write the docs." in sections["Last request"]


def test_empty_sections_say_none() -> None:
    summary = summarise_conversation([user("Just one question.")])
    assert "## Open errors\n- none" in summary and "## Files touched\n- none" in summary


async def test_compaction_request_gets_goal_state_and_next_steps_quoted_from_the_conversation() -> None:
    system = f"You are summarising. {COMPACTION_MARKER}"
    reply = done(await collect(ScriptedBrain(), request(CONVERSATION, system=system)))
    assert text_of(reply.content) == compaction_summary(CONVERSATION)
    assert tool_uses(reply.content) == []
    assert text_of(reply.content) == (
        "## Goal\nAdd a dark theme to the settings screen.\nLatest request: Now write the docs.\n\n"
        "## State\nWe'll keep colours in themes/dark.toml. Reading the screen.\n\n"
        "## Next steps\n- Answer the latest request: Now write the docs."
    )


def test_a_compaction_summary_keeps_the_goal_an_earlier_summary_gave() -> None:
    earlier = "<conversation-summary>\n## Goal\nShip the dark theme.\n\n## State\nhalf done\n</conversation-summary>"
    reply = {"role": "assistant", "content": [{"type": "text", "text": "Tests pass. I will write the docs next."}]}
    summary = compaction_summary([user(earlier), reply])
    assert summary.startswith("## Goal\nShip the dark theme.\n")
    assert summary.endswith("## Next steps\n- I will write the docs next.")


async def test_asking_for_a_summary_summarises_what_came_before() -> None:
    messages = [*CONVERSATION, user("summarise the conversation so far")]
    reply = done(await collect(ScriptedBrain(), request(messages)))
    text = text_of(reply.content)
    assert text == summarise_conversation(CONVERSATION)
    assert "summarise the conversation" not in text


# --- extractive helpers ---------------------------------------------------------------------


def test_paths_in_picks_file_like_tokens_only() -> None:
    text = "Compare `src/app.py` and README.md, e.g. with diff (see docs/). Use *.md and/or https://x.io/a.html, v1.2"
    assert paths_in(text) == ["src/app.py", "README.md", "docs/"]


def test_code_summary_lists_definitions_and_quotes_docstrings_not_code() -> None:
    source = '''"""Parse widget configuration files into chart definitions."""

import tomllib


class Chart:
    """One chart on a dashboard, drawn from a single CSV column."""

    def __init__(self, column: str) -> None:
        self.column = column


def load(path: str) -> list[Chart]:
    # every section of the file becomes one chart on the dashboard
    return [Chart(name) for name in tomllib.load(open(path, "rb"))]
'''
    summary = summarise_text(source, 5)
    assert "`class Chart`" in summary and "`def load`" in summary
    assert "> Parse widget configuration files into chart definitions." in summary
    assert "every section of the file becomes one chart on the dashboard" in summary
    assert "self.column = column" not in summary and "return [" not in summary


def test_summary_picks_informative_sentences_not_all() -> None:
    sentences = [f"Widget dashboards render charts from CSV sheet number {i}." for i in range(10)]
    text = "\n\n".join(["Thanks.", *sentences, "Bye now, see you later friend."])
    quotes = [line[2:] for line in summarise_text(text, 3).splitlines() if line.startswith("> ")]
    assert len(quotes) == 3
    assert all(q in sentences for q in quotes)


# --- streaming shape, usage, ids, determinism -----------------------------------------------


async def test_stream_shape_deltas_then_tool_then_usage_then_done() -> None:
    req = request([user("list python files")])
    events = await collect(ScriptedBrain(), req)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["TextDelta"] * (len(events) - 3) + ["ToolUseStarted", "UsageReport", "MessageDone"]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) >= 2 and all(len(d.split()) <= 2 for d in deltas)
    final = done(events)
    assert "".join(deltas) == text_of(final.content)
    started = next(e for e in events if isinstance(e, ToolUseStarted))
    assert (started.id, started.name) == (tool_uses(final.content)[0].id, "Glob")
    usage = next(e for e in events if isinstance(e, UsageReport))
    assert usage.source == "scripted"
    request_chars = len(json.dumps(req.messages)) + sum(len(t.model_dump_json()) for t in req.tools)
    assert usage.input_tokens == -(-request_chars // 4)  # ~4 characters a token, rounded up
    assert usage.output_tokens > 0


async def test_longer_request_estimates_more_input_tokens() -> None:
    async def input_tokens(text: str) -> int:
        events = await collect(ScriptedBrain(), request([user(text)]))
        return next(e for e in events if isinstance(e, UsageReport)).input_tokens

    assert await input_tokens("hello " * 400) > await input_tokens("hello") + 500


async def test_delay_is_applied_per_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []
    real_sleep = asyncio.sleep

    async def record(delay: float) -> None:
        delays.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", record)
    events = await collect(ScriptedBrain(delay_s=0.05), request([user("hello")]))
    chunks = [e for e in events if isinstance(e, TextDelta)]
    assert len(chunks) > 5 and delays == [0.05] * len(chunks)


async def test_tool_ids_count_per_instance() -> None:
    brain = ScriptedBrain()
    ids = [tool_uses(done(await collect(brain, request([user(t)]))).content)[0].id for t in ("read a.md", "list files")]
    assert ids == ["toolu_scripted_0001", "toolu_scripted_0002"]
    assert (await first_call("read a.md")).id == "toolu_scripted_0001"


async def test_same_requests_give_identical_output() -> None:
    requests = [
        request([user("read README.md")]),
        request([user("hello")]),
        request([*CONVERSATION, user("summarise the conversation")]),
        request(CONVERSATION, system=COMPACTION_MARKER),
    ]

    async def run() -> list[list[dict[str, Any]]]:
        brain = ScriptedBrain()
        return [[e.model_dump() for e in await collect(brain, r)] for r in requests]

    assert await run() == await run()


def test_is_a_brain_and_says_it_is_offline() -> None:
    brain = ScriptedBrain()
    assert isinstance(brain, Brain)
    assert brain.name == "scripted" and brain.label == "scripted (offline)"


# --- script replay --------------------------------------------------------------------------

SCRIPT_YAML = """\
- text: Let me look at the readme.
  tool_use:
    - name: Read
      input: {file_path: README.md}
      id: toolu_fixed
- text: It describes Widget.
  stop_reason: max_tokens
- Just text.
- tool_use: {name: Bash, input: {command: ls}}
"""


async def test_script_replays_turns_in_order_then_errors(tmp_path: Path) -> None:
    path = tmp_path / "tour.yaml"
    path.write_text(SCRIPT_YAML)
    brain = ScriptedBrain(path)
    assert brain.label == "scripted (offline: tour.yaml)"
    req = request([user("anything at all")])

    first = done(await collect(brain, req))
    assert first.content == [
        TextBlock(text="Let me look at the readme."),
        ToolUseBlock(id="toolu_fixed", name="Read", input={"file_path": "README.md"}),
    ]
    assert first.stop_reason == "tool_use"
    second = done(await collect(brain, req))
    assert (text_of(second.content), second.stop_reason) == ("It describes Widget.", "max_tokens")
    third = done(await collect(brain, req))
    assert (text_of(third.content), third.stop_reason) == ("Just text.", "end_turn")
    fourth = done(await collect(brain, req))
    calls = [(c.id, c.name, c.input) for c in tool_uses(fourth.content)]
    assert calls == [("toolu_scripted_0001", "Bash", {"command": "ls"})]

    with pytest.raises(BrainError) as exhausted:
        await collect(brain, req)
    assert exhausted.value.error_type == "script_exhausted"
    assert "tour.yaml has 4 turns; request 5 has no reply" in exhausted.value.message


async def test_json_script_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps([{"text": "hi"}, {"tool_use": [{"name": "Glob", "input": {"pattern": "*"}}]}]))
    brain = ScriptedBrain(path)
    assert text_of(done(await collect(brain, request([user("x")]))).content) == "hi"
    assert tool_uses(done(await collect(brain, request([user("x")]))).content)[0].name == "Glob"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("- {text: hi, tools: []}\n", "Extra inputs are not permitted"),
        ("- {stop_reason: end_turn}\n", "a turn needs text or tool_use"),
        ("text: not a list\n", "valid list"),
        ("- [unclosed\n", "expected"),
    ],
)
def test_bad_script_fails_at_load_naming_the_file(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(BrainError) as error:
        ScriptedBrain(path)
    assert error.value.error_type == "invalid_script"
    assert str(path) in error.value.message and expected in error.value.message


def test_missing_script_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(BrainError, match="nope.yaml"):
        ScriptedBrain(tmp_path / "nope.yaml")
