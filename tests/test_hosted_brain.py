"""HostedBrain: the Anthropic brain in a host process, against the fake Messages API on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.fake_api import CitedText, FakeAnthropicServer, Reply, ToolCall, WebSearchCall, unauthorized
from workbench.brains.hosted import HostedBrain
from workbench.protocol.brain_io import (
    BrainError,
    BrainEvent,
    BrainRequest,
    MessageDone,
    TextDelta,
    ToolUseStarted,
    UsageReport,
    WebSearchTool,
)
from workbench.protocol.content import TextBlock, ToolUseBlock, WebSearchToolResultBlock, api_form

MODEL = "claude-sonnet-4-6"


@pytest.fixture
async def server() -> AsyncIterator[FakeAnthropicServer]:
    async with FakeAnthropicServer() as fake:
        yield fake


@pytest.fixture
async def brain(server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[HostedBrain]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")  # the host reads the key as the app would
    hosted = HostedBrain(MODEL, base_url=server.base_url)
    hosted.prepare()
    yield hosted
    await hosted.aclose()


def ask(text: str = "hello") -> BrainRequest:
    return BrainRequest(model=MODEL, messages=[{"role": "user", "content": text}])


async def run(brain: HostedBrain, request: BrainRequest | None = None) -> list[BrainEvent]:
    return [event async for event in brain.stream(request or ask())]


async def test_a_reply_with_a_tool_call_arrives_whole_with_its_usage(
    server: FakeAnthropicServer, brain: HostedBrain
) -> None:
    server.enqueue(
        Reply(text="Let me look at that file.", tool_calls=[ToolCall(name="Read", input={"file_path": "a.py"})])
    )
    events = await run(brain)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Let me look at that file."
    assert [e.name for e in events if isinstance(e, ToolUseStarted)] == ["Read"]
    usage = next(e for e in events if isinstance(e, UsageReport))
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    done = events[-1]
    assert isinstance(done, MessageDone) and done.stop_reason == "tool_use"
    assert done.content[0] == TextBlock(text="Let me look at that file.")
    assert isinstance(done.content[1], ToolUseBlock) and done.content[1].input == {"file_path": "a.py"}


async def test_a_fast_stream_comes_in_few_joined_pieces(server: FakeAnthropicServer, brain: HostedBrain) -> None:
    words = " ".join(f"w{i}" for i in range(300))
    server.enqueue(Reply(text=words, token_delay_s=0.001))
    events = await run(brain)
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(deltas) == words
    assert len(deltas) < 100  # 300 tokens in well under a second: joined every few tens of ms


async def test_an_api_error_fails_the_stream_as_the_brain_in_process_would(
    server: FakeAnthropicServer, brain: HostedBrain
) -> None:
    server.enqueue(unauthorized())
    with pytest.raises(BrainError) as caught:
        await run(brain)
    assert caught.value.error_type == "auth" and not caught.value.retryable
    server.enqueue(Reply(text="fine now"))
    assert isinstance((await run(brain))[-1], MessageDone)  # the host goes on serving


async def test_streams_of_several_agents_run_at_once(server: FakeAnthropicServer, brain: HostedBrain) -> None:
    server.enqueue(*(Reply(text=f"reply {i} " * 20, token_delay_s=0.002) for i in range(5)))
    replies = await asyncio.gather(*(run(brain, ask(f"agent {i}")) for i in range(5)))
    assert sorted(r[-1].content[0].text for r in replies) == sorted(f"reply {i} " * 20 for i in range(5))  # type: ignore[union-attr]


async def test_leaving_a_stream_early_stops_it_in_the_host(server: FakeAnthropicServer, brain: HostedBrain) -> None:
    server.enqueue(Reply(text="many slow words " * 50, token_delay_s=0.01), Reply(text="next"))
    stream = brain.stream(ask())
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()  # an interrupt
    events = await asyncio.wait_for(run(brain), timeout=10)
    assert events[-1] == MessageDone(content=[TextBlock(text="next")], stop_reason="end_turn")


async def test_a_host_that_dies_fails_its_streams_clearly_and_is_started_again(
    server: FakeAnthropicServer, brain: HostedBrain
) -> None:
    server.enqueue(Reply(text="slow " * 200, token_delay_s=0.01), Reply(text="after the restart"))
    stream = brain.stream(ask())
    with pytest.raises(BrainError) as caught:
        async for event in stream:
            if isinstance(event, TextDelta):
                brain._process.kill()  # type: ignore[union-attr]
    assert caught.value.message.startswith("The brain host exited")
    events = await asyncio.wait_for(run(brain), timeout=20)
    assert events[-1] == MessageDone(content=[TextBlock(text="after the restart")], stop_reason="end_turn")


async def test_no_api_key_is_reported_by_the_host(
    server: FakeAnthropicServer, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE", "ANTHROPIC_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    hosted = HostedBrain(MODEL, base_url=server.base_url)
    try:
        with pytest.raises(BrainError) as caught:
            await run(hosted)
        assert caught.value.error_type == "auth"
        assert server.requests == []
    finally:
        await hosted.aclose()


async def test_closing_the_session_ends_the_host(server: FakeAnthropicServer, brain: HostedBrain, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from workbench.engine.config import Config
    from workbench.engine.engine import Engine

    workspace = tmp_path / "ws"
    workspace.mkdir()
    bench = await Engine.open(Config(bundles=tmp_path / "bundles", fsync="never"), workspace, brain)
    server.enqueue(Reply(text="hi"))
    from tests.engine_driver import ask as ask_engine

    assert await ask_engine(bench, "hello") == "hi"
    host = brain._process
    assert host is not None and host.poll() is None
    await bench.close()
    assert host.poll() is not None


async def test_a_host_that_speaks_nonsense_is_stopped_with_a_clear_error(server: FakeAnthropicServer) -> None:
    import subprocess
    import sys
    import tempfile

    hosted = HostedBrain(MODEL, base_url=server.base_url)
    # a host of some other version: it answers the request with something that is not a reply
    hosted._stderr = tempfile.TemporaryFile()
    hosted._process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; sys.stdin.readline(); print('{\"hello\": 1}', flush=True); time.sleep(30)",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=hosted._stderr,
    )
    try:
        with pytest.raises(BrainError) as caught:
            await asyncio.wait_for(run(hosted), timeout=20)
        assert caught.value.message.startswith("The brain host sent what this app cannot read")
    finally:
        await hosted.aclose()


async def test_the_host_counts_a_requests_tokens_and_caches_its_prefix(
    server: FakeAnthropicServer, brain: HostedBrain
) -> None:
    from tests.prompt_cache import count_tokens
    from workbench.protocol.brain_io import PromptCache

    long_ask = BrainRequest(
        model=MODEL,
        system="Be brief. " * 600,
        messages=[{"role": "user", "content": "hello"}],
        cache=PromptCache(ttl="1h"),
    )
    counted = await brain.count_tokens(long_ask)
    assert server.requests[-1].path == "/v1/messages/count_tokens"
    assert counted == count_tokens(server.requests[-1].body)
    first = next(e for e in await run(brain, long_ask) if isinstance(e, UsageReport))
    second = next(e for e in await run(brain, long_ask) if isinstance(e, UsageReport))
    assert first.cache_creation is not None and first.cache_creation.ephemeral_1h_input_tokens > 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens  # the cache fields cross the pipe


async def test_a_count_that_cannot_reach_the_api_is_a_brain_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    stray = HostedBrain(MODEL, base_url="http://127.0.0.1:9")  # nothing listens there
    try:
        with pytest.raises(BrainError):
            await stray.count_tokens(ask())
    finally:
        await stray.aclose()


async def test_web_search_is_offered_and_its_blocks_come_back_whole_from_the_host(
    server: FakeAnthropicServer, brain: HostedBrain
) -> None:
    search = WebSearchCall(query="kites", results=[("Kites", "https://kites.example/")])
    cited = CitedText(text="Kites fly.", sources=[("Kites", "https://kites.example/", "Kites fly in wind.")])
    server.enqueue(Reply(searches=[search], cited=[cited]))
    request = BrainRequest(model=MODEL, messages=[{"role": "user", "content": "kites?"}], web_search=WebSearchTool())
    events = await run(brain, request)
    sent = server.message_requests[0]
    assert [t["type"] for t in sent.body["tools"]] == ["web_search_20250305"]
    done = events[-1]
    assert isinstance(done, MessageDone) and sent.reply is not None
    assert done.content[1] == WebSearchToolResultBlock.model_validate(sent.reply["content"][1])
    assert api_form(done.content[1]) == sent.reply["content"][1]  # type: ignore[arg-type]
    assert done.content[2] == TextBlock.model_validate(sent.reply["content"][2])
    assert next(e for e in events if isinstance(e, UsageReport)).web_search_requests == 1
