"""Remount and fork: a new agent continues from exactly the chosen point; interrupted sessions are found."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bundle_fixtures import RecordingBrain, make_session, open_bench, store_of
from tests.engine_driver import ask
from workbench.engine.context.fold import fold
from workbench.engine.remount import RemountError, remount
from workbench.log.bundle import parse_bundle
from workbench.log.interruption import interruption
from workbench.protocol.events import AgentSpawned, AssistantMessage, Remounted, Status, ToolCall, UserMessage

PROMPTS = ["read README.md", "delegate: list the markdown files", "read NOTES.md"]


@pytest.fixture
async def source(tmp_path: Path) -> str:
    return await make_session(tmp_path, PROMPTS)


async def test_remount_continues_with_the_same_context(tmp_path: Path, source: str) -> None:
    store = store_of(tmp_path)
    original = (await store.read(source)).events
    plan = await remount(store, source)
    assert plan.up_to_seq == original[-1].seq and plan.source_agent == "primary"
    assert plan.context == fold(original, agent="primary")

    brain = RecordingBrain()
    bench = await open_bench(tmp_path, brain, remount=plan.event)
    assert fold(bench.events, agent="primary").messages == plan.context.messages
    assert fold(bench.events, agent="primary").system == plan.context.system

    await ask(bench, "what did the notes say?")
    await bench.close()
    sent = brain.requests[0].messages
    assert sent[: len(plan.context.messages)] == plan.context.messages
    assert "what did the notes say?" in str(sent[len(plan.context.messages) - 1 :])
    assert "zebra" in str(sent)  # the NOTES.md read in the source is in the new agent's context


async def test_the_new_session_stands_on_its_own_and_names_its_source(tmp_path: Path, source: str) -> None:
    store = store_of(tmp_path)
    plan = await remount(store, source, up_to_seq=12)
    bench = await open_bench(tmp_path, remount=plan.event)
    await bench.close()
    events = (await store.read(bench.session.id)).events
    spawned = next(i for i, e in enumerate(events) if isinstance(e, AgentSpawned))
    mounted = events[spawned + 1]
    assert isinstance(mounted, Remounted)
    assert (mounted.source_session, mounted.source_agent, mounted.up_to_seq) == (source, "primary", 12)
    # reading the new bundle alone rebuilds the context: it does not need the source
    assert fold(events, agent="primary").messages == plan.context.messages
    assert plan.title.startswith("↻ read README.md") and plan.title.endswith("@12")


async def test_fork_at_event_n_is_the_fold_of_the_first_n_events(tmp_path: Path, source: str) -> None:
    store = store_of(tmp_path)
    events = (await store.read(source)).events
    first_reply = next(
        e.seq for e in events if isinstance(e, AssistantMessage) and not any(b.type == "tool_use" for b in e.content)
    )
    for n in (3, 5, first_reply, first_reply + 3):
        plan = await remount(store, source, up_to_seq=n)
        assert plan.context == fold([e for e in events if e.seq <= n], agent="primary")
    early = await remount(store, source, up_to_seq=3)
    assert early.context.messages == [{"role": "user", "content": [{"type": "text", "text": "read README.md"}]}]


async def test_fork_mid_tool_call_closes_the_call_as_interrupted(tmp_path: Path, source: str) -> None:
    store = store_of(tmp_path)
    events = (await store.read(source)).events
    call = next(e for e in events if isinstance(e, ToolCall))
    plan = await remount(store, source, up_to_seq=call.seq)
    last = plan.context.messages[-1]
    assert last["role"] == "user" and last["content"][0]["type"] == "tool_result"
    assert last["content"][0]["is_error"] is True


async def test_a_child_agent_can_be_remounted(tmp_path: Path, source: str) -> None:
    store = store_of(tmp_path)
    events = (await store.read(source)).events
    child = next(e.agent for e in events if isinstance(e, AgentSpawned) and e.parent)
    plan = await remount(store, source, agent=child)
    assert plan.source_agent == child
    assert plan.context.messages[0]["content"][0]["text"] == "list the markdown files"
    assert "You were given one task" in plan.context.system  # the child's own system prompt
    assert plan.context == fold(events, agent=child)


async def test_remount_never_writes_the_source(tmp_path: Path, source: str) -> None:
    folder = store_of(tmp_path).folder(source)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()}
    plan = await remount(store_of(tmp_path), source, up_to_seq=10)
    bench = await open_bench(tmp_path, remount=plan.event)
    await ask(bench, "hello again")
    await bench.close()
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.iterdir()} == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"agent": "agent-9"}, "no agent 'agent-9'"),
        ({"up_to_seq": 0}, "outside session"),
        ({"up_to_seq": 10_000}, "outside session"),
        ({"agent": "agent-1", "up_to_seq": 5}, "spawned after seq 5"),
    ],
)
async def test_bad_remount_requests_say_what_is_wrong(tmp_path: Path, source: str, kwargs, message) -> None:
    with pytest.raises(RemountError, match=message):
        await remount(store_of(tmp_path), source, **kwargs)


# ---------------------------------------------------------------- interrupted sessions


async def test_a_session_closed_at_rest_is_not_interrupted(tmp_path: Path, source: str) -> None:
    contents = await store_of(tmp_path).read(source)
    assert interruption(contents.events, contents.problems) is None


def _cut(data: bytes, keep: int) -> bytes:
    """The log as if the process had died after ``keep`` lines were written."""
    return b"".join(data.splitlines(keepends=True)[:keep])


async def test_a_log_ending_after_a_tool_call_stopped_mid_turn(tmp_path: Path, source: str) -> None:
    data = (store_of(tmp_path).folder(source) / "events.jsonl").read_bytes()
    events = parse_bundle(data).events
    call = next(e for e in events if isinstance(e, ToolCall))
    stopped = interruption(parse_bundle(_cut(data, call.seq)).events)
    assert stopped is not None and stopped.last_seq == call.seq
    assert [a.agent for a in stopped.agents] == ["primary"]
    assert "tool calls never answered: Read" in stopped.agents[0].reason
    assert stopped.agents[0].state == "tool"


async def test_an_unanswered_message_and_a_thinking_agent_are_interrupted(tmp_path: Path, source: str) -> None:
    data = (store_of(tmp_path).folder(source) / "events.jsonl").read_bytes()
    events = parse_bundle(data).events
    asked = next(e for e in events if isinstance(e, UserMessage))
    stopped = interruption(parse_bundle(_cut(data, asked.seq)).events)
    assert stopped is not None and stopped.agents[0].reason == "a message was never answered"
    thinking = next(e for e in events if isinstance(e, Status) and e.state == "thinking")
    stopped = interruption([e for e in events if e.seq <= thinking.seq])
    assert stopped is not None and stopped.agents[0].reason in ("a message was never answered", "it was thinking")


async def test_a_delegated_child_that_never_finished_is_reported(tmp_path: Path, source: str) -> None:
    events = (await store_of(tmp_path).read(source)).events
    spawned = next(e for e in events if isinstance(e, AgentSpawned) and e.parent)
    finished = next(e.seq for e in events if e.kind == "agent_finished" and e.agent == spawned.agent)
    stopped = interruption([e for e in events if e.seq < finished])
    assert stopped is not None
    assert {a.agent for a in stopped.agents} == {"primary", spawned.agent}
    child = next(a for a in stopped.agents if a.agent == spawned.agent)
    assert child.reason == "its task never finished" and child.state == "done"


async def test_a_torn_tail_is_reported_with_where_it_stopped(tmp_path: Path, source: str) -> None:
    path = store_of(tmp_path).folder(source) / "events.jsonl"
    data = path.read_bytes()
    path.write_bytes(data + b'{"kind":"user_message","text":"half')
    contents = await store_of(tmp_path).read(source)
    stopped = interruption(contents.events, contents.problems)
    assert stopped is not None and stopped.torn_tail and stopped.agents == []
    assert stopped.last_seq == contents.events[-1].seq
    assert "cut mid-write" in str(stopped)


async def test_a_fork_at_a_prompt_answers_it_and_the_next_prompt_stays_its_own(tmp_path: Path, source: str) -> None:
    store = store_of(tmp_path)
    events = (await store.read(source)).events
    prompt = next(e for e in events if isinstance(e, UserMessage) and e.text == "read NOTES.md")
    plan = await remount(store, source, up_to_seq=prompt.seq)
    assert plan.context.messages[-1]["role"] == "user"
    bench = await open_bench(tmp_path, remount=plan.event)
    await bench.settled()
    await ask(bench, "what else?")
    await bench.close()
    replies = [e for e in bench.events if isinstance(e, AssistantMessage) and not e.interrupted]
    first_calls = [b for b in replies[0].content if b.type == "tool_use"]
    assert [c.input for c in first_calls] == [{"file_path": "NOTES.md"}]  # the prompt forked at is answered first
    messages = fold(bench.events, agent="primary").messages
    asked = [m for m in messages if m["role"] == "user" and "what else?" in str(m["content"])]
    assert asked and "read NOTES.md" not in str(asked[-1]["content"])  # not merged into the forked prompt
