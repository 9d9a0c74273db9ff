"""Prompt caching through the whole engine: byte-stable prefixes across turns, compaction, sub-agents, remount and fork."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine_driver import ask, run, spawn
from tests.fake_api import FakeAnthropicServer, RecordedRequest, Reply, ToolCall
from tests.prompt_cache import block_tokens, prefix_blocks
from workbench.brains.anthropic import AnthropicBrain
from workbench.engine.config import CacheSettings, Config, LimitsConfig
from workbench.engine.engine import Engine
from workbench.engine.remount import remount
from workbench.log.bundle import BundleStore
from workbench.protocol.commands import Compact
from workbench.protocol.events import Compaction, Usage

MODEL = "claude-sonnet-4-6"


def agent_like(body: dict[str, Any]) -> Reply:
    """Read a file, then grep, then answer: a tool-heavy turn of three requests."""
    messages = body["messages"]
    called = [b["name"] for b in messages[-2]["content"] if b.get("type") == "tool_use"] if len(messages) > 1 else []
    last = messages[-1]["content"]
    if not any(isinstance(b, dict) and b.get("type") == "tool_result" for b in last):
        return Reply(text="Reading.", tool_calls=[ToolCall(name="Read", input={"file_path": "README.md"})])
    if called == ["Read"]:
        return Reply(text="Searching.", tool_calls=[ToolCall(name="Grep", input={"pattern": "greeting"})])
    return Reply(text="Found what you asked for.")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "README.md").write_text("# Greeter\n\n" + "It prints a greeting for every name it is given.\n" * 60)
    (ws / "CLAUDE.md").write_text("Say which files you read. " * 40)
    return ws


@pytest.fixture
async def server() -> AsyncIterator[FakeAnthropicServer]:
    async with FakeAnthropicServer(responder=agent_like) as fake:
        yield fake


async def open_bench(workspace: Path, server: FakeAnthropicServer, **config: Any) -> Engine:
    settings = Config(bundles=workspace.parent / "bundles", fsync="never", **config)
    brain = AnthropicBrain(MODEL, base_url=server.base_url, api_key="test-key")
    return await Engine.open(settings, workspace, brain)


def plain(value: Any) -> str:
    """A part of a request as its bytes, without the cache markers."""
    if isinstance(value, list):
        value = [{k: v for k, v in item.items() if k != "cache_control"} for item in value]
    return json.dumps(value)


def stable_prefix(request: RecordedRequest) -> tuple[str, str]:
    body = request.body
    system = body["system"][0]["text"] if isinstance(body["system"], list) else body["system"]
    return plain(body["tools"]), system


def tokens_through(request: RecordedRequest, count: int) -> int:
    """Tokens of the first ``count`` blocks of the request's prefix (tools, system, messages)."""
    return sum(block_tokens(block) for block in prefix_blocks(request.body)[:count])


def total(request: RecordedRequest) -> int:
    usage = request.usage or {}
    return usage["input_tokens"] + usage["cache_read_input_tokens"] + usage["cache_creation_input_tokens"]


async def test_each_request_reads_everything_the_one_before_it_sent(
    workspace: Path, server: FakeAnthropicServer
) -> None:
    bench = await open_bench(workspace, server)
    for prompt in ("what does README.md say?", "and where is the greeting?", "thanks, once more"):
        await ask(bench, prompt)
    await bench.close()
    requests = server.message_requests
    assert len(requests) == 9
    assert len({stable_prefix(r) for r in requests}) == 1  # the same tools and system, byte for byte
    for before, after in zip(requests, requests[1:]):
        assert after.usage["cache_read_input_tokens"] == total(before)  # nothing sent before is paid again
        assert after.usage["input_tokens"] == 0  # the rolling breakpoint covers the newest message
    read = sum(r.usage["cache_read_input_tokens"] for r in requests)
    assert read / sum(total(r) for r in requests) > 0.8
    usages = [e for e in bench.events if isinstance(e, Usage)]
    assert [u.cache_read_input_tokens for u in usages] == [r.usage["cache_read_input_tokens"] for r in requests]


async def test_the_foreground_and_delegated_agents_cache_for_five_minutes_background_agents_for_an_hour(
    workspace: Path, server: FakeAnthropicServer
) -> None:
    bench = await open_bench(workspace, server)
    await ask(bench, "what does README.md say?")
    delegated = await spawn(bench, "delegated", "look for the greeting")
    background = await spawn(bench, "background", "list the files")
    await bench.wait_all()
    await bench.close()
    tasks = {
        "what does README.md say?": "primary",
        delegated.spec.task: "delegated",
        background.spec.task: "background",
    }
    ttls: dict[str, set[str]] = {}
    for request in server.message_requests:
        controls = [b["cache_control"] for b in prefix_blocks(request.body) if "cache_control" in b]
        assert 1 <= len(controls) <= 4
        first = request.body["messages"][0]["content"]
        asked = first if isinstance(first, str) else first[-1]["text"]
        ttls.setdefault(tasks[asked], set()).update(c.get("ttl", "5m") for c in controls)
    assert ttls == {"primary": {"5m"}, "delegated": {"5m"}, "background": {"1h"}}


async def test_children_share_the_prefix_their_parent_and_siblings_wrote(
    workspace: Path, server: FakeAnthropicServer
) -> None:
    bench = await open_bench(workspace, server, limits=LimitsConfig(concurrency=1))
    await ask(bench, "what does README.md say?")
    await spawn(bench, "delegated", "first look")
    await bench.wait_all()
    await spawn(bench, "delegated", "second look")
    await bench.wait_all()
    await bench.close()
    firsts = {}
    for request in server.message_requests:
        level = request.body["system"][0]["text"].split("\n")[2]
        if len(request.body["messages"]) == 1 and "secondary" in level:
            firsts.setdefault(len(firsts), request)
    first_child, second_child = firsts[0], firsts[1]
    tools = len(first_child.body["tools"])
    # the first child's system prompt is new, but the tools are the primary's: read from its cache
    assert first_child.usage["cache_read_input_tokens"] == tokens_through(first_child, tools)
    # the second child reads its sibling's tools, system and memory: all but its own task
    standing = tools + 1 + 1
    assert second_child.usage["cache_read_input_tokens"] == tokens_through(second_child, standing)


async def test_after_a_compaction_the_memory_prefix_still_reads_from_the_cache(
    workspace: Path, server: FakeAnthropicServer
) -> None:
    bench = await open_bench(workspace, server)
    for prompt in ("what does README.md say?", "and the greeting?", "anything else?"):
        await ask(bench, prompt)
    await run(bench, Compact())
    assert any(isinstance(e, Compaction) for e in bench.events)
    await ask(bench, "go on")
    await bench.close()
    after = server.message_requests[-3]  # the first request after the compaction (the summary request is before it)
    assert "<conversation-summary>" in json.dumps(after.body["messages"][0])
    standing = len(after.body["tools"]) + 1 + 1  # tools, system, the memory block
    assert after.usage["cache_read_input_tokens"] == tokens_through(after, standing)
    compaction_usage = [e for e in bench.events if isinstance(e, Usage) and e.purpose == "compaction"]
    assert len(compaction_usage) == 1 and compaction_usage[0].output_tokens > 0  # the summary is paid for, and logged


@pytest.mark.parametrize("at", ["end", "middle"])
async def test_a_remount_or_a_fork_reads_the_sources_prefix(
    workspace: Path, server: FakeAnthropicServer, at: str
) -> None:
    bench = await open_bench(workspace, server)
    await ask(bench, "what does README.md say?")
    await ask(bench, "and the greeting?")
    await bench.close()
    store = BundleStore(workspace.parent / "bundles")
    events = (await store.read(bench.session.id)).events
    up_to = events[-1].seq if at == "end" else next(e.seq for e in events if isinstance(e, Usage))
    plan = await remount(store, bench.session.id, up_to_seq=up_to)
    sent_before = len(server.message_requests)
    settings = Config(bundles=store.root, fsync="never")
    brain = AnthropicBrain(MODEL, base_url=server.base_url, api_key="test-key")
    continued = await Engine.open(settings, workspace, brain, store=store, remount=plan.event)
    await ask(continued, "carry on")
    await continued.close()
    first = server.message_requests[sent_before]
    assert stable_prefix(first) == stable_prefix(server.message_requests[0])
    assert first.usage["cache_read_input_tokens"] >= tokens_through(first, len(first.body["tools"]) + 2)


async def test_switched_off_no_request_carries_a_breakpoint(workspace: Path, server: FakeAnthropicServer) -> None:
    bench = await open_bench(workspace, server, cache=CacheSettings(enabled=False))
    await ask(bench, "what does README.md say?")
    await bench.close()
    assert all("cache_control" not in json.dumps(r.body) for r in server.message_requests)
    assert all(r.usage["cache_read_input_tokens"] == 0 for r in server.message_requests)
