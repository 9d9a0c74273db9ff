"""Prompt caching: where the brain puts its breakpoints, and what they buy against a server that caches as the API does."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fake_api import FakeAnthropicServer, Reply
from tests.prompt_cache import LOOKBACK_BLOCKS, PromptCache, count_tokens
from workbench.brains.anthropic import AnthropicBrain
from workbench.brains.cache_breakpoints import MAX_BREAKPOINTS, with_breakpoints
from workbench.protocol.brain_io import BrainRequest, ToolSpec, UsageReport
from workbench.protocol.brain_io import PromptCache as CachePolicy
from workbench.protocol.events import CacheCreation

MODEL = "claude-sonnet-4-6"
FIVE_MINUTES = {"type": "ephemeral"}
ONE_HOUR = {"type": "ephemeral", "ttl": "1h"}
# long enough that the tools and system alone pass the minimum cacheable length (1,024 tokens)
SYSTEM = "You are a careful agent. " * 200
TOOLS = [
    ToolSpec(name=f"Tool{i}", description=f"tool number {i}", input_schema={"type": "object", "properties": {}})
    for i in range(3)
]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def marked(params: dict[str, Any]) -> list[str]:
    """Where the cache_control markers are, as readable names."""
    found = [f"tools[{i}]" for i, t in enumerate(params.get("tools", [])) if "cache_control" in t]
    if isinstance(params.get("system"), list) and "cache_control" in params["system"][-1]:
        found.append("system")
    for m, message in enumerate(params["messages"]):
        if isinstance(message["content"], list):
            found += [f"messages[{m}][{b}]" for b, block in enumerate(message["content"]) if "cache_control" in block]
    return found


def params_of(messages: list[dict[str, Any]], system: str = "sys", tools: int = 2) -> dict[str, Any]:
    return {
        "model": MODEL,
        "system": system,
        "tools": [{"name": f"T{i}", "description": "", "input_schema": {}} for i in range(tools)],
        "messages": messages,
    }


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": body}


def turn(calls: int, start: int = 0) -> list[dict[str, Any]]:
    """A reply making ``calls`` tool calls, and the user message answering them."""
    ids = [f"toolu_{start + i}" for i in range(calls)]
    reply = {"role": "assistant", "content": [{"type": "tool_use", "id": i, "name": "T0", "input": {}} for i in ids]}
    results = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": i, "content": "ok"} for i in ids]}
    return [reply, results]


# -- placement --------------------------------------------------------------------------------


def test_the_stable_prefix_the_tools_and_the_newest_message_are_marked() -> None:
    params = params_of([{"role": "user", "content": [text("hi")]}])
    assert marked(with_breakpoints(params, CachePolicy())) == ["tools[1]", "system", "messages[0][0]"]


def test_the_standing_primer_gets_a_breakpoint_of_its_own() -> None:
    messages = [
        {"role": "user", "content": [text('<primer name="memory">rules</primer>'), text("task")]},
        {"role": "assistant", "content": [text("sure")]},
        {"role": "user", "content": [text("go on")]},
    ]
    result = with_breakpoints(params_of(messages), CachePolicy(standing_blocks=1))
    assert marked(result) == ["tools[1]", "system", "messages[0][0]", "messages[2][0]"]


def test_a_turn_with_more_blocks_than_the_lookback_keeps_the_previous_position_marked() -> None:
    messages = [
        {"role": "user", "content": [text("memory"), text("task")]},
        {"role": "assistant", "content": [text("first look")]},
        {"role": "user", "content": [text("go on")]},
        *turn(LOOKBACK_BLOCKS // 2 + 1),
    ]
    result = with_breakpoints(params_of(messages), CachePolicy(standing_blocks=1))
    # the newest message, the previous request's end, the system prompt, the memory: no room for the tools
    assert marked(result) == ["system", "messages[0][0]", "messages[2][0]", f"messages[4][{LOOKBACK_BLOCKS // 2}]"]


def test_a_short_turn_needs_no_bridge() -> None:
    messages = [{"role": "user", "content": [text("task")]}, *turn(3)]
    assert marked(with_breakpoints(params_of(messages), CachePolicy())) == ["tools[1]", "system", "messages[2][2]"]


def test_never_more_than_four_and_never_on_thinking_or_empty_text() -> None:
    messages = [
        {"role": "user", "content": [text("a")]},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "s"}, text("b")]},
        {"role": "user", "content": [text("c"), text("")]},
    ]
    result = with_breakpoints(params_of(messages), CachePolicy(standing_blocks=1))
    assert len(marked(result)) <= MAX_BREAKPOINTS
    assert "messages[2][0]" in marked(result)  # the empty text block after it cannot carry one
    assert "cache_control" not in result["messages"][1]["content"][0]


def test_placing_breakpoints_leaves_the_request_as_it_was() -> None:
    params = params_of([{"role": "user", "content": [text("hi")]}, *turn(2)])
    before = copy.deepcopy(params)
    with_breakpoints(params, CachePolicy(ttl="1h"))
    assert params == before


def test_the_one_hour_ttl_is_sent_as_the_api_documents_it() -> None:
    result = with_breakpoints(params_of([{"role": "user", "content": "hi"}]), CachePolicy(ttl="1h"))
    assert result["system"][0]["cache_control"] == ONE_HOUR
    assert result["messages"][0]["content"] == [{"type": "text", "text": "hi", "cache_control": ONE_HOUR}]
    five = with_breakpoints(params_of([{"role": "user", "content": "hi"}]), CachePolicy())
    assert five["system"][0]["cache_control"] == FIVE_MINUTES


def test_without_a_system_prompt_the_tools_carry_the_stable_breakpoint() -> None:
    result = with_breakpoints(params_of([{"role": "user", "content": [text("hi")]}], system=""), CachePolicy())
    assert marked(result) == ["tools[1]", "messages[0][0]"]


# -- the fake server caches as the API documents ------------------------------------------------


def body_with(breakpoints: list[int], ttl: str = "5m", blocks: int = 6, size: int = 2000) -> dict[str, Any]:
    control = {"type": "ephemeral", "ttl": ttl}
    content = [
        {"type": "text", "text": f"{i} " + "x" * size, **({"cache_control": control} if i in breakpoints else {})}
        for i in range(blocks)
    ]
    return {"model": MODEL, "messages": [{"role": "user", "content": content}]}


def test_the_fake_reads_the_longest_cached_prefix_and_writes_up_to_the_last_breakpoint() -> None:
    cache = PromptCache(Clock())
    first = cache.account(body_with([2]))
    assert first.cache_read_input_tokens == 0
    assert first.cache_creation_input_tokens > 0
    second = cache.account(body_with([2, 5]))
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    total = count_tokens(body_with([2, 5]))
    assert second.input_tokens + second.cache_read_input_tokens + second.cache_creation_input_tokens == total
    assert second.input_tokens == 0


def test_the_fake_forgets_an_entry_after_its_ttl_and_a_hit_refreshes_it() -> None:
    clock = Clock()
    cache = PromptCache(clock)
    cache.account(body_with([3]))
    clock.now += 240
    assert cache.account(body_with([3])).cache_read_input_tokens > 0  # read, and refreshed
    clock.now += 240
    assert cache.account(body_with([3])).cache_read_input_tokens > 0
    clock.now += 301
    assert cache.account(body_with([3])).cache_read_input_tokens == 0
    cache.account(body_with([3], ttl="1h"))
    clock.now += 3000
    assert cache.account(body_with([3], ttl="1h")).cache_read_input_tokens > 0


def test_the_fake_caches_nothing_below_the_minimum_length() -> None:
    cache = PromptCache(Clock())
    small = body_with([1], size=100)
    assert cache.account(small).cache_creation_input_tokens == 0
    assert cache.account(small).cache_read_input_tokens == 0


def test_the_fake_looks_back_only_so_far_from_a_breakpoint() -> None:
    cache = PromptCache(Clock())
    cache.account(body_with([0], blocks=1, size=6000))
    near = body_with([LOOKBACK_BLOCKS], blocks=LOOKBACK_BLOCKS + 1, size=6000)
    far = body_with([LOOKBACK_BLOCKS + 1], blocks=LOOKBACK_BLOCKS + 2, size=6000)
    assert PromptCache.account(copy.deepcopy(cache), far).cache_read_input_tokens == 0
    assert cache.account(near).cache_read_input_tokens > 0


def test_the_fake_counts_writes_by_their_ttl() -> None:
    usage = PromptCache(Clock()).account({"model": MODEL, **body_with([1, 4], ttl="1h")})
    assert usage.ephemeral_1h_input_tokens == usage.cache_creation_input_tokens > 0
    assert usage.ephemeral_5m_input_tokens == 0


# -- through the real SDK ------------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[FakeAnthropicServer]:
    async with FakeAnthropicServer(responder=lambda body: Reply(text="noted")) as fake:
        yield fake


def brain_for(server: FakeAnthropicServer) -> AnthropicBrain:
    return AnthropicBrain(MODEL, base_url=server.base_url, api_key="test-key", max_attempts=1)


async def usage_of(brain: AnthropicBrain, request: BrainRequest) -> UsageReport:
    return [e async for e in brain.stream(request) if isinstance(e, UsageReport)][0]


def conversation(turns: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for i in range(turns):
        messages.append({"role": "user", "content": [text(f"question {i}: " + "words " * 300)]})
        messages.append({"role": "assistant", "content": [text(f"answer {i}")]})
    return messages[:-1]


async def test_each_turn_reads_what_the_turn_before_wrote(server: FakeAnthropicServer) -> None:
    brain = brain_for(server)
    usages = []
    for turns in range(1, 6):
        request = BrainRequest(
            model=MODEL, system=SYSTEM, tools=TOOLS, messages=conversation(turns), cache=CachePolicy()
        )
        usages.append(await usage_of(brain, request))
    assert usages[0].cache_read_input_tokens == 0
    for before, after in zip(usages, usages[1:]):
        written_before = before.cache_read_input_tokens + before.cache_creation_input_tokens
        assert after.cache_read_input_tokens == written_before  # the whole previous request, nothing less
    read = sum(u.cache_read_input_tokens for u in usages[1:])
    total = sum(u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens for u in usages[1:])
    assert read / total > 0.75
    assert usages[-1].cache_creation == CacheCreation(ephemeral_5m_input_tokens=usages[-1].cache_creation_input_tokens)


async def test_without_a_cache_policy_nothing_is_marked_or_cached(server: FakeAnthropicServer) -> None:
    brain = brain_for(server)
    request = BrainRequest(model=MODEL, system=SYSTEM, tools=TOOLS, messages=conversation(2))
    await usage_of(brain, request)
    second = await usage_of(brain, request)
    assert second.cache_read_input_tokens == 0
    assert "cache_control" not in json.dumps(server.message_requests[-1].body)


async def test_a_one_hour_request_writes_one_hour_entries(server: FakeAnthropicServer) -> None:
    brain = brain_for(server)
    request = BrainRequest(
        model=MODEL, system=SYSTEM, tools=TOOLS, messages=conversation(1), cache=CachePolicy(ttl="1h")
    )
    usage = await usage_of(brain, request)
    assert usage.cache_creation == CacheCreation(ephemeral_1h_input_tokens=usage.cache_creation_input_tokens)
    assert usage.cache_creation_input_tokens > 0


async def test_count_tokens_sends_no_breakpoints(server: FakeAnthropicServer) -> None:
    request = BrainRequest(model=MODEL, system=SYSTEM, tools=TOOLS, messages=conversation(1), cache=CachePolicy())
    counted = await brain_for(server).count_tokens(request)
    sent = server.requests[-1]
    assert sent.path == "/v1/messages/count_tokens"
    assert "cache_control" not in json.dumps(sent.body)
    assert counted == count_tokens(sent.body)


async def test_the_fake_rejects_five_breakpoints_as_the_api_does(server: FakeAnthropicServer) -> None:
    import anthropic

    client = anthropic.AsyncAnthropic(api_key="k", base_url=server.base_url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="maximum of 4 blocks"):
        await client.messages.create(
            model=MODEL, max_tokens=10, **{k: v for k, v in body_with([0, 1, 2, 3, 4]).items() if k != "model"}
        )
    await client.close()
