"""AnthropicBrain through the real ``anthropic`` SDK, against the fake Messages API on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anthropic
import pytest

from tests.fake_api import (
    FakeAnthropicServer,
    HttpError,
    Reply,
    RhythmResponder,
    ToolCall,
    estimate_tokens,
    overloaded,
    rate_limited,
    serve_in_thread,
    server_error,
    unauthorized,
)
from workbench.brains.anthropic import AnthropicBrain
from workbench.brains.base import Brain
from workbench.protocol.brain_io import (
    BrainError,
    BrainEvent,
    BrainRequest,
    MessageDone,
    RetryNotice,
    TextDelta,
    ThinkingConfig,
    ThinkingDelta,
    ToolSpec,
    ToolUseStarted,
    UsageReport,
)
from workbench.protocol.content import RedactedThinkingBlock, TextBlock, ThinkingBlock, ToolUseBlock
from workbench.protocol.events import CacheCreation

MODEL = "claude-sonnet-4-6"
BACKOFF = 0.01
CAP = 0.05


@pytest.fixture
async def server() -> AsyncIterator[FakeAnthropicServer]:
    async with FakeAnthropicServer() as fake:
        yield fake


def make_brain(base_url: str | None, **kwargs: object) -> AnthropicBrain:
    settings: dict[str, object] = {"backoff_base_s": BACKOFF, "backoff_cap_s": CAP, "api_key": "test-key", **kwargs}
    return AnthropicBrain(MODEL, base_url=base_url, **settings)  # type: ignore[arg-type]


def ask(text: str = "hello", **kwargs: object) -> BrainRequest:
    return BrainRequest(model=MODEL, messages=[{"role": "user", "content": text}], **kwargs)  # type: ignore[arg-type]


async def run(brain: AnthropicBrain, request: BrainRequest | None = None) -> list[BrainEvent]:
    return [event async for event in brain.stream(request or ask())]


async def run_until_error(
    brain: AnthropicBrain, request: BrainRequest | None = None
) -> tuple[list[BrainEvent], BrainError]:
    events: list[BrainEvent] = []
    with pytest.raises(BrainError) as caught:
        async for event in brain.stream(request or ask()):
            events.append(event)
    return events, caught.value


def of_type(events: list[BrainEvent], kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- replies ------------------------------------------------------------------


async def test_text_streams_as_deltas_then_usage_then_one_message_done(server: FakeAnthropicServer) -> None:
    server.enqueue(
        Reply(
            text=["Hel", "lo, ", "world"],
            input_tokens=42,
            output_tokens=7,
            cache_creation_input_tokens=3,
            cache_read_input_tokens=5,
        )
    )
    events = await run(make_brain(server.base_url))

    assert [e.text for e in of_type(events, TextDelta)] == ["Hel", "lo, ", "world"]
    assert [type(e) for e in events[-2:]] == [UsageReport, MessageDone]
    assert len(of_type(events, MessageDone)) == 1
    assert events[-2] == UsageReport(
        input_tokens=42,
        output_tokens=7,
        cache_creation_input_tokens=3,
        cache_read_input_tokens=5,
        cache_creation=CacheCreation(ephemeral_5m_input_tokens=3),
        model=MODEL,
    )
    assert events[-1] == MessageDone(content=[TextBlock(text="Hello, world")], stop_reason="end_turn")


async def test_slow_tokens_arrive_one_by_one_not_buffered(server: FakeAnthropicServer) -> None:
    server.enqueue(Reply(text="one two three four five", token_delay_s=0.03))
    arrivals: list[float] = []
    async for event in make_brain(server.base_url).stream(ask()):
        if isinstance(event, TextDelta):
            arrivals.append(time.perf_counter())
    assert len(arrivals) == 5
    assert arrivals[-1] - arrivals[0] >= 0.1  # four gaps of 0.03 s: the deltas were not batched


async def test_tool_use_input_split_across_json_pieces_is_parsed(server: FakeAnthropicServer) -> None:
    tool_input = {"path": "src/app.py", "range": [10, 20], "opts": {"follow": True, "note": "naïve ✓"}}
    server.enqueue(
        Reply(text="Reading it.", tool_calls=[ToolCall(id="toolu_01", name="read", input=tool_input)], json_pieces=5)
    )
    events = await run(make_brain(server.base_url))

    assert of_type(events, ToolUseStarted) == [ToolUseStarted(id="toolu_01", name="read")]
    done = events[-1]
    assert isinstance(done, MessageDone)
    assert done.stop_reason == "tool_use"
    assert done.content == [TextBlock(text="Reading it."), ToolUseBlock(id="toolu_01", name="read", input=tool_input)]


async def test_fake_sends_tool_input_in_several_input_json_deltas(server: FakeAnthropicServer) -> None:
    server.enqueue(Reply(tool_calls=[ToolCall(name="read", input={"path": "a/b/c.txt"})], json_pieces=4))
    client = anthropic.AsyncAnthropic(base_url=server.base_url, api_key="k", max_retries=0)
    pieces = []
    async for event in await client.messages.create(
        model=MODEL, max_tokens=10, stream=True, messages=[{"role": "user", "content": "hi"}]
    ):
        if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
            pieces.append(event.delta.partial_json)
    assert len(pieces) == 4
    assert json.loads("".join(pieces)) == {"path": "a/b/c.txt"}


async def test_thinking_and_signature_round_trip(server: FakeAnthropicServer) -> None:
    server.enqueue(
        Reply(
            thinking="First, the facts. Then the answer.",
            signature="sig-abc123",
            redacted_thinking="opaque-bytes",
            text="42",
        )
    )
    request = ask("why?", thinking=ThinkingConfig(enabled=True, budget_tokens=2048))
    events = await run(make_brain(server.base_url), request)

    assert "".join(e.thinking for e in of_type(events, ThinkingDelta)) == "First, the facts. Then the answer."
    assert len(of_type(events, ThinkingDelta)) > 1
    done = events[-1]
    assert isinstance(done, MessageDone)
    assert done.content == [
        ThinkingBlock(thinking="First, the facts. Then the answer.", signature="sig-abc123"),
        RedactedThinkingBlock(data="opaque-bytes"),
        TextBlock(text="42"),
    ]
    assert server.message_requests[0].body["thinking"] == {"type": "enabled", "budget_tokens": 2048}


async def test_block_types_the_workbench_does_not_model_are_left_out(server: FakeAnthropicServer) -> None:
    search = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}}
    server.enqueue(Reply(other_blocks=[search], text="found it"))
    events = await run(make_brain(server.base_url))
    assert events[-1] == MessageDone(content=[TextBlock(text="found it")], stop_reason="end_turn")


async def test_request_carries_system_tools_messages_and_key(server: FakeAnthropicServer) -> None:
    server.enqueue(Reply(text="ok"))
    tool = ToolSpec(
        name="read",
        description="Read a file",
        input_schema={"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    )
    messages = [
        {"role": "user", "content": "read a.txt"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "read", "input": {"path": "a.txt"}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "hello"}]},
    ]
    request = BrainRequest(model=MODEL, system="You are terse.", messages=messages, tools=[tool], max_tokens=9000)
    await run(make_brain(server.base_url, max_tokens=1024), request)

    (sent,) = server.message_requests
    assert sent.body["system"] == "You are terse."
    assert sent.body["tools"] == [tool.model_dump()]
    assert sent.body["messages"] == messages
    assert sent.body["model"] == MODEL
    assert sent.body["max_tokens"] == 1024  # the brain's cap wins over the request's 9000
    assert sent.body["stream"] is True
    assert "thinking" not in sent.body
    assert "test-key" in sent.headers.get("x-api-key", "") + sent.headers.get("authorization", "")


async def test_base_url_none_honours_anthropic_base_url(
    server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
    server.enqueue(Reply(text="via env"))
    events = await run(make_brain(None))
    assert events[-1] == MessageDone(content=[TextBlock(text="via env")], stop_reason="end_turn")


async def test_count_tokens_uses_the_endpoint(server: FakeAnthropicServer) -> None:
    request = ask("count me, please", system="sys")
    tokens = await make_brain(server.base_url).count_tokens(request)
    (sent,) = server.requests
    assert sent.path == "/v1/messages/count_tokens"
    assert tokens == estimate_tokens(sent.body)
    assert not server.message_requests


def test_label_and_protocol() -> None:
    brain = AnthropicBrain("claude-opus-4-1")
    assert brain.label == "claude-opus-4-1 · api"
    assert isinstance(brain, Brain)


# -- retries --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "expected_delay"),
    [
        (rate_limited(retry_after=0.02), 0.02),
        (rate_limited(retry_after=None, retry_after_ms=30), 0.03),
        (rate_limited(retry_after=100), CAP),  # honoured, but capped
    ],
)
async def test_429_honours_retry_after_then_succeeds(
    server: FakeAnthropicServer, fault: HttpError, expected_delay: float
) -> None:
    server.enqueue(fault, Reply(text="after the wait"))
    events = await run(make_brain(server.base_url))

    (notice,) = of_type(events, RetryNotice)
    assert notice.attempt == 1
    assert notice.delay_s == pytest.approx(expected_delay)
    assert "429" in notice.message
    assert events.index(notice) == 0  # the notice comes before any content
    assert len(server.message_requests) == 2
    assert events[-1] == MessageDone(content=[TextBlock(text="after the wait")], stop_reason="end_turn")


async def test_529_overloaded_then_succeeds(server: FakeAnthropicServer) -> None:
    server.enqueue(overloaded(), Reply(text="back"))
    events = await run(make_brain(server.base_url))

    (notice,) = of_type(events, RetryNotice)
    assert "overloaded" in notice.message.lower()
    assert 0 < notice.delay_s <= BACKOFF
    assert len(server.message_requests) == 2
    assert isinstance(events[-1], MessageDone)


async def test_500_every_time_fails_after_max_attempts(server: FakeAnthropicServer) -> None:
    server.enqueue(server_error(), server_error(), server_error(), Reply(text="never reached"))
    events, error = await run_until_error(make_brain(server.base_url, max_attempts=3))

    assert error.error_type == "server"
    assert "after 3 attempts" in error.message
    assert "500" in error.message
    notices = of_type(events, RetryNotice)
    assert [n.attempt for n in notices] == [1, 2]
    assert notices[0].delay_s <= BACKOFF and notices[1].delay_s <= 2 * BACKOFF  # exponential backoff
    assert notices[1].delay_s > BACKOFF * 0.75 * 2 * 0.99
    assert len(server.message_requests) == 3
    assert len(server.queue) == 1  # the fourth response was never asked for


@pytest.mark.parametrize(
    ("fault", "error_type", "phrase"),
    [
        (unauthorized(), "auth", "ANTHROPIC_API_KEY"),
        (HttpError(status=403, error_type="permission_error", message="no access"), "auth", "no access"),
        (
            HttpError(status=400, error_type="invalid_request_error", message="messages: empty"),
            "bad_request",
            "messages: empty",
        ),
        (HttpError(status=404, error_type="not_found_error", message="model: nope"), "bad_request", "model name"),
    ],
)
async def test_client_errors_are_not_retried(
    server: FakeAnthropicServer, fault: HttpError, error_type: str, phrase: str
) -> None:
    server.enqueue(fault, Reply(text="never reached"))
    events, error = await run_until_error(make_brain(server.base_url))

    assert error.error_type == error_type
    assert phrase in error.message
    assert not error.retryable
    assert events == []
    assert len(server.message_requests) == 1


async def test_stream_cut_after_content_is_not_retried(server: FakeAnthropicServer) -> None:
    # events sent: message_start, ping, content_block_start, two text deltas, then the connection drops
    server.enqueue(Reply(text="one two three four", cut_after=5), Reply(text="never reached"))
    events, error = await run_until_error(make_brain(server.base_url))

    assert error.error_type == "stream_cut"
    assert error.message == "The API closed the stream mid-reply: the stream ended after 4 events"  # pings not counted
    assert [e.text for e in of_type(events, TextDelta)] == ["one ", "two "]
    assert not of_type(events, MessageDone)
    assert len(server.message_requests) == 1


async def test_stream_cut_before_content_is_retried(server: FakeAnthropicServer) -> None:
    server.enqueue(Reply(text="lost", cut_after=2), Reply(text="second try"))
    events = await run(make_brain(server.base_url))

    (notice,) = of_type(events, RetryNotice)
    assert "The API closed the stream mid-reply" in notice.message
    assert [e.text for e in of_type(events, TextDelta)] == ["second ", "try"]
    assert len(server.message_requests) == 2


async def test_stream_ending_without_message_stop_is_a_cut(server: FakeAnthropicServer) -> None:
    server.enqueue(Reply(text="half a reply", end_after=6))
    _events, error = await run_until_error(make_brain(server.base_url))
    assert error.error_type == "stream_cut"
    assert len(server.message_requests) == 1


async def test_mid_stream_error_event_after_content(server: FakeAnthropicServer) -> None:
    server.enqueue(Reply(text="a b c d", error_after=4, error_type="overloaded_error", error_message="Overloaded"))
    events, error = await run_until_error(make_brain(server.base_url))

    assert error.error_type == "overloaded"
    assert "mid-reply" in error.message and "Overloaded" in error.message
    assert of_type(events, TextDelta)
    assert len(server.message_requests) == 1


async def test_mid_stream_error_event_before_content_is_retried(server: FakeAnthropicServer) -> None:
    server.enqueue(Reply(text="x", error_after=1, error_type="api_error", error_message="boom"), Reply(text="fine"))
    events = await run(make_brain(server.base_url))
    assert "boom" in of_type(events, RetryNotice)[0].message
    assert events[-1] == MessageDone(content=[TextBlock(text="fine")], stop_reason="end_turn")


async def test_connection_refused_is_retried_then_fails() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    events, error = await run_until_error(make_brain(url, max_attempts=2))

    assert error.error_type == "connection"
    assert error.message.startswith(f"Could not connect to the API at {url}")
    assert "after 2 attempts" in error.message
    assert [n.attempt for n in of_type(events, RetryNotice)] == [1]


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An environment where the SDK finds no key, token, profile or federation settings."""
    for name in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_CONFIG_DIR",
        "ANTHROPIC_IDENTITY_TOKEN",
        "ANTHROPIC_IDENTITY_TOKEN_FILE",
        "ANTHROPIC_FEDERATION_RULE_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


async def test_missing_api_key_fails_before_any_request(server: FakeAnthropicServer, no_credentials: Path) -> None:
    _events, error = await run_until_error(AnthropicBrain(MODEL, base_url=server.base_url))
    assert error.error_type == "auth"
    assert error.message == "No API key: set ANTHROPIC_API_KEY"
    assert server.requests == []


async def test_api_key_from_the_environment_is_used(
    server: FakeAnthropicServer, no_credentials: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "env-key")
    server.enqueue(Reply(text="ok"))
    await run(AnthropicBrain(MODEL, base_url=server.base_url))
    headers = server.message_requests[0].headers
    assert "env-key" in headers.get("x-api-key", "") + headers.get("authorization", "")


async def test_broken_credentials_profile_is_an_auth_error(
    server: FakeAnthropicServer, no_credentials: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(no_credentials / "missing"))
    _events, error = await run_until_error(AnthropicBrain(MODEL, base_url=server.base_url))
    assert error.error_type == "auth"
    assert error.message.startswith("Credentials could not be loaded")
    assert server.requests == []


async def test_preparing_the_client_ahead_leaves_a_credentials_problem_to_the_request(
    server: FakeAnthropicServer, no_credentials: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(no_credentials / "missing"))
    brain = AnthropicBrain(MODEL, base_url=server.base_url)
    brain.prepare()  # the app does this in a thread while the first screen shows: it must not raise there
    _events, error = await run_until_error(brain)
    assert error.message.startswith("Credentials could not be loaded")


async def test_a_closed_brain_lets_go_of_its_connections_and_serves_the_next_request(
    server: FakeAnthropicServer,
) -> None:
    server.enqueue(Reply(text="first"), Reply(text="second"))
    brain = make_brain(server.base_url)
    await run(brain)
    client = brain.client
    await brain.aclose()
    assert client.is_closed()
    assert (await run(brain))[-1] == MessageDone(content=[TextBlock(text="second")], stop_reason="end_turn")
    await brain.aclose()


async def test_closing_the_stream_early_releases_it(server: FakeAnthropicServer) -> None:
    server.enqueue(Reply(text="many slow words " * 20, token_delay_s=0.01), Reply(text="next"))
    brain = make_brain(server.base_url)
    stream = brain.stream(ask())
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()
    events = await asyncio.wait_for(run(brain), timeout=60)  # the same client is still usable
    assert events[-1] == MessageDone(content=[TextBlock(text="next")], stop_reason="end_turn")


# -- the fake server's other ways to run --------------------------------------------


def test_serve_in_thread_with_a_sync_client() -> None:
    with serve_in_thread(Reply(text="from a thread")) as fake:
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="k", max_retries=0)
        message = client.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
        assert [b.text for b in message.content] == ["from a thread"]  # non-streaming JSON reply
        assert fake.message_requests[0].body["messages"] == [{"role": "user", "content": "hi"}]


async def test_rhythm_responder_calls_a_tool_every_k_turns(server: FakeAnthropicServer) -> None:
    server.responder = RhythmResponder(tokens_per_s=0, tool_every=2, words=3)
    brain = make_brain(server.base_url)
    tools = [ToolSpec(name="read", description="Read", input_schema={"type": "object"})]
    first = await run(brain, BrainRequest(model=MODEL, messages=[{"role": "user", "content": "go"}], tools=tools))
    second_turn = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "w1.0 w1.1 w1.2"},
        {"role": "user", "content": "more"},
    ]
    second = await run(brain, BrainRequest(model=MODEL, messages=second_turn, tools=tools))

    assert first[-1].stop_reason == "end_turn"
    assert second[-1].stop_reason == "tool_use"
    assert of_type(second, ToolUseStarted)[0].name == "read"


def test_runs_as_a_subprocess_with_a_rule_based_responder() -> None:
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fake_api",
            "--port",
            "0",
            "--tokens-per-s",
            "2000",
            "--tool-every",
            "1",
            "--tool-name",
            "grep",
            "--tool-input",
            '{"pattern": "x"}',
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        base_url = line.strip().rsplit(" ", 1)[-1]
        assert base_url.startswith("http://127.0.0.1:")
        client = anthropic.Anthropic(base_url=base_url, api_key="k", max_retries=0)
        with client.messages.stream(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}]) as s:
            message = s.get_final_message()
        tool_use = message.content[-1]
        assert (tool_use.type, tool_use.name, tool_use.input) == ("tool_use", "grep", {"pattern": "x"})
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert proc.returncode == 0
