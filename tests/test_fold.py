"""fold(events): valid Messages-API input for every prefix of every valid log."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.messages_api import assert_valid_messages
from workbench.engine.context.fold import INTERRUPTED_NOTE, INTERRUPTED_RESULT, fold
from workbench.protocol.content import TextBlock, ThinkingBlock, ToolUseBlock
from workbench.protocol.events import (
    AgentSpawned,
    AssistantMessage,
    Compaction,
    Event,
    Primed,
    Reduction,
    Status,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
)

ACTIONS = st.sampled_from(
    [
        "user",
        "text",
        "tools",
        "results",
        "some_results",
        "interrupted",
        "thinking",
        "compact",
        "noise",
        "primed",
        "reduce",
    ]
)


def build_log(actions: list[str], sizes: list[int]) -> list[Event]:
    """A log the engine could have written: results only answer the last reply's calls."""
    events: list[Event] = []
    pending: list[str] = []
    counter = 0

    def add(event: Event) -> None:
        events.append(event.model_copy(update={"seq": len(events) + 1, "agent": "primary", "session": "s"}))

    add(AgentSpawned(name="primary", system="You are a test."))
    for n, action in enumerate(actions):
        size = sizes[n % len(sizes)] if sizes else 1
        if action == "user":
            add(UserMessage(text=f"message {n}"))
        elif action == "primed":
            add(Primed(primer="feature", text=f"primer body {n}"))
        elif action in ("text", "tools", "thinking"):
            pending = []
            blocks: list = []
            if action == "thinking":
                blocks.append(ThinkingBlock(thinking="hmm", signature="sig"))
            blocks.append(TextBlock(text=f"reply {n}"))
            if action == "tools":
                for _ in range(size):
                    counter += 1
                    call = ToolUseBlock(id=f"toolu_{counter}", name="Read", input={"file_path": "a"})
                    blocks.append(call)
                    pending.append(call.id)
            add(AssistantMessage(content=blocks))
            for call_id in pending:
                add(ToolCall(tool_use_id=call_id, name="Read"))
        elif action == "interrupted":
            pending = []
            add(AssistantMessage(content=[TextBlock(text="partial")] if size % 2 else [], interrupted=True))
        elif action in ("results", "some_results") and pending:
            take = pending if action == "results" else pending[: max(1, len(pending) // 2)]
            for call_id in list(take):
                add(ToolResult(tool_use_id=call_id, name="Read", content=f"result of {call_id}"))
                pending.remove(call_id)
        elif action == "compact":
            users = [e.seq for e in events if isinstance(e, UserMessage)]
            if len(users) >= 2:
                add(Compaction(summary=f"summary {n}", from_seq=2, to_seq=users[-1] - 1))
        elif action == "reduce":
            results = [e for e in events if isinstance(e, ToolResult)]
            if results:
                add(Reduction(strategy="stale", replacements={results[0].tool_use_id: "[elided]"}))
        elif action == "noise":
            add(Status(state="thinking"))
            add(Usage(input_tokens=10, output_tokens=5))
    return events


@settings(max_examples=300, deadline=None)
@given(st.lists(ACTIONS, max_size=40), st.lists(st.integers(1, 4), min_size=1, max_size=5))
def test_every_prefix_of_a_valid_log_folds_to_valid_messages(actions: list[str], sizes: list[int]) -> None:
    events = build_log(actions, sizes)
    for end in range(len(events) + 1):
        context = fold(events[:end], agent="primary")
        assert_valid_messages(context.messages)


@settings(max_examples=100, deadline=None)
@given(st.lists(ACTIONS, max_size=30), st.lists(st.integers(1, 4), min_size=1, max_size=5))
def test_fold_is_deterministic(actions: list[str], sizes: list[int]) -> None:
    events = build_log(actions, sizes)
    assert fold(events) == fold(list(events))


def _log(*events: Event) -> list[Event]:
    return [e.model_copy(update={"seq": i + 1, "agent": "primary"}) for i, e in enumerate(events)]


def test_tool_round_trip_folds_to_the_api_shape() -> None:
    events = _log(
        AgentSpawned(system="sys"),
        UserMessage(text="read a.py"),
        AssistantMessage(
            content=[TextBlock(text="Reading."), ToolUseBlock(id="t1", name="Read", input={"file_path": "a.py"})]
        ),
        ToolResult(tool_use_id="t1", name="Read", content="print(1)"),
        AssistantMessage(content=[TextBlock(text="It prints 1.")]),
    )
    context = fold(events)
    assert context.system == "sys"
    assert context.messages == [
        {"role": "user", "content": [{"type": "text", "text": "read a.py"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Reading."},
                {"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "a.py"}},
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "print(1)"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "It prints 1."}]},
    ]


def test_interrupted_turn_is_closed_cleanly() -> None:
    events = _log(
        AgentSpawned(),
        UserMessage(text="run it"),
        AssistantMessage(content=[ToolUseBlock(id="t1", name="Bash", input={"command": "sleep 9"})]),
    )
    messages = fold(events).messages
    assert messages[-1]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "content": INTERRUPTED_RESULT, "is_error": True}
    ]
    partial = _log(
        AgentSpawned(), UserMessage(text="hi"), AssistantMessage(content=[TextBlock(text="half")], interrupted=True)
    )
    assert fold(partial).messages[-1]["content"][-1] == {"type": "text", "text": INTERRUPTED_NOTE}


def test_message_typed_while_tools_ran_follows_their_results() -> None:
    events = _log(
        AgentSpawned(),
        UserMessage(text="go"),
        AssistantMessage(content=[ToolUseBlock(id="t1", name="Read", input={})]),
        UserMessage(text="also check b.py", queued=True),
        ToolResult(tool_use_id="t1", content="ok"),
    )
    last = fold(events).messages[-1]["content"]
    assert [b["type"] for b in last] == ["tool_result", "text"]


def test_compaction_replaces_its_range_with_the_summary() -> None:
    events = _log(
        AgentSpawned(system="sys"),
        UserMessage(text="first goal"),
        AssistantMessage(content=[TextBlock(text="done one")]),
        UserMessage(text="second"),
        AssistantMessage(content=[TextBlock(text="done two")]),
        Compaction(summary="the goal was X", from_seq=2, to_seq=3),
    )
    messages = fold(events).messages
    assert "the goal was X" in messages[0]["content"][0]["text"]
    assert "first goal" not in str(messages)
    assert messages[0]["content"][1] == {"type": "text", "text": "second"}


def test_reduction_stub_stands_in_for_the_result() -> None:
    events = _log(
        AgentSpawned(),
        UserMessage(text="go"),
        AssistantMessage(content=[ToolUseBlock(id="t1", name="Read", input={})]),
        ToolResult(tool_use_id="t1", content="x" * 5000),
        Reduction(strategy="stale", replacements={"t1": "[Read a.py: 5000 chars elided]"}),
    )
    assert fold(events).messages[2]["content"][0]["content"] == "[Read a.py: 5000 chars elided]"


def test_fold_keeps_only_the_agents_own_events() -> None:
    events = _log(AgentSpawned(), UserMessage(text="mine"))
    events.append(UserMessage(text="other agent", seq=9, agent="agent-1"))
    assert "other agent" not in str(fold(events, agent="primary").messages)
