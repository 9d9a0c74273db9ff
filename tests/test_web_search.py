"""WebSearch: the Messages API's server-side search, offered to a Claude brain, kept and sent back as the API wrote it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.engine_driver import ask
from tests.fake_api import CitedText, FakeAnthropicServer, Reply, WebSearchCall
from tests.messages_api import assert_valid_messages, without_cache_control
from workbench.brains.anthropic import AnthropicBrain
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config, ConfigError, PermissionsConfig, WebSettings, load_config
from workbench.engine.context.fold import fold
from workbench.engine.engine import Engine
from workbench.engine.policy.permissions import PermissionRuleError, Rule
from workbench.engine.pricing import PriceTable
from workbench.engine.views.spend import cost_summary, fleet_spend
from workbench.log.bundle import BundleReader
from workbench.log.transcript import describe
from workbench.protocol.brain_io import BrainRequest, MessageDone, UsageReport, WebSearchTool
from workbench.protocol.content import (
    ServerToolUseBlock,
    TextBlock,
    WebSearchToolResultBlock,
    api_form,
    citations_of,
    web_searches,
)
from workbench.protocol.events import AssistantMessage, Usage

MODEL = "claude-sonnet-4-6"
KITES = WebSearchCall(
    query="kite wind speed",
    results=[("Flying kites — a guide", "https://kites.example/guide"), ("Wind and kites", "https://wind.example/k")],
)
CITED = CitedText(
    text="A kite needs 10 to 25 km/h of wind.",
    sources=[("Flying kites — a guide", "https://kites.example/guide", "Most kites fly in 10-25 km/h winds.")],
)
SEARCHING = Reply(text="Here is what I found.", searches=[KITES], cited=[CITED])


def config(tmp_path: Path, **changes: Any) -> Config:
    (tmp_path / "ws").mkdir(exist_ok=True)
    return Config(bundles=tmp_path / "bundles", fsync="never", **changes)


def offered(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The web search tools a request offers (without the prompt-cache marker the last tool carries)."""
    tools = [tool for tool in body.get("tools", []) if tool.get("type", "").startswith("web_search")]
    return [{k: v for k, v in tool.items() if k != "cache_control"} for tool in tools]


def as_sent(blocks: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(block, sort_keys=True) for block in blocks]


async def test_a_claude_brain_offers_the_search_and_keeps_every_block_the_api_sent() -> None:
    async with FakeAnthropicServer(SEARCHING) as server:
        brain = AnthropicBrain(MODEL, base_url=server.base_url, api_key="k")
        request = BrainRequest(
            model=MODEL,
            messages=[{"role": "user", "content": "what wind does a kite need?"}],
            web_search=WebSearchTool(max_uses=3, blocked_domains=["spam.example"]),
        )
        events = [event async for event in brain.stream(request)]
        await brain.aclose()
        sent = server.message_requests[0]
    assert offered(sent.body) == [
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3, "blocked_domains": ["spam.example"]}
    ]
    done = events[-1]
    assert isinstance(done, MessageDone)
    assert [type(b) for b in done.content] == [ServerToolUseBlock, WebSearchToolResultBlock, TextBlock, TextBlock]
    assert sent.reply is not None
    kept = [api_form(b) if not isinstance(b, TextBlock) else b.model_dump(mode="json") for b in done.content]
    assert as_sent(kept) == as_sent(sent.reply["content"])  # the query came as JSON deltas, the citation as a delta
    (search,) = web_searches(done.content)
    assert search.query == "kite wind speed" and [h.url for h in search.result.hits] == [  # type: ignore[union-attr]
        "https://kites.example/guide",
        "https://wind.example/k",
    ]
    assert [c.cited_text for c in citations_of(done.content)] == ["Most kites fly in 10-25 km/h winds."]
    usage = next(e for e in events if isinstance(e, UsageReport))
    assert usage.web_search_requests == 1


async def test_the_blocks_go_back_unchanged_in_the_next_request_and_the_bundle_folds_to_them(tmp_path: Path) -> None:
    async with FakeAnthropicServer(SEARCHING, Reply(text="Any time.")) as server:
        brain = AnthropicBrain(MODEL, base_url=server.base_url, api_key="k")
        engine = await Engine.open(config(tmp_path), tmp_path / "ws", brain)
        assert (
            await ask(engine, "what wind does a kite need?")
            == "Here is what I found.A kite needs 10 to 25 km/h of wind."
        )
        assert await ask(engine, "and when?") == "Any time."
        path = engine.session.path
        await engine.close()
        first, second = server.message_requests
    assert offered(first.body) == [{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}]
    assert first.reply is not None
    replied = second.body["messages"][1]
    assert replied["role"] == "assistant"
    assert as_sent(replied["content"]) == as_sent(first.reply["content"])  # every field, the encrypted ones too
    assert_valid_messages(second.body["messages"])

    logged = (await BundleReader(path).read()).events
    reply = next(e for e in logged if isinstance(e, AssistantMessage))
    assert any(isinstance(b, WebSearchToolResultBlock) for b in reply.content)
    assert as_sent(fold(logged).messages[1]["content"]) == as_sent(first.reply["content"])
    usage = next(e for e in logged if isinstance(e, Usage))
    assert usage.web_search_requests == 1
    assert describe(usage).endswith("· 1 web search")  # the bundle log's line
    cost = fleet_spend(logged, PriceTable()).fleet()
    assert cost.tokens.web_searches == 1
    without = cost.usd - 0.01
    assert without == pytest.approx(PriceTable().price(MODEL).cost(cost.tokens.model_copy(update={"web_searches": 0})))  # type: ignore[union-attr]
    assert "(1 web search)" in cost_summary(cost)


async def test_a_deny_rule_takes_the_search_away(tmp_path: Path) -> None:
    settings = config(tmp_path, permissions=PermissionsConfig(deny=["WebSearch"]))
    async with FakeAnthropicServer(Reply(text="No search.")) as server:
        engine = await Engine.open(
            settings, tmp_path / "ws", AnthropicBrain(MODEL, base_url=server.base_url, api_key="k")
        )
        await ask(engine, "what wind does a kite need?")
        await engine.close()
        assert offered(server.message_requests[0].body) == []


async def test_allowed_domains_from_the_config_and_zero_uses_means_none(tmp_path: Path) -> None:
    web = WebSettings(search_max_uses=2, search_allowed_domains=["kites.example"])
    async with FakeAnthropicServer(Reply(text="a"), Reply(text="b")) as server:
        brain = AnthropicBrain(MODEL, base_url=server.base_url, api_key="k")
        engine = await Engine.open(config(tmp_path, web=web), tmp_path / "ws", brain)
        await ask(engine, "kites?")
        await engine.close()
        off = await Engine.open(config(tmp_path, web=WebSettings(search_max_uses=0)), tmp_path / "ws", brain)
        await ask(off, "kites?")
        await off.close()
        first, second = server.message_requests
    assert offered(first.body) == [
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 2, "allowed_domains": ["kites.example"]}
    ]
    assert offered(second.body) == []


async def test_offline_there_is_no_search_at_all(tmp_path: Path) -> None:
    engine = await Engine.open(config(tmp_path), tmp_path / "ws", ScriptedBrain())
    await ask(engine, "search the web for kites")
    await engine.close()
    replies = [e for e in engine.events if isinstance(e, AssistantMessage)]
    assert replies and not any(web_searches(r.content) for r in replies)
    assert not any(e.web_search_requests for e in engine.events if isinstance(e, Usage))


async def test_a_failed_search_is_kept_as_the_api_reported_it(tmp_path: Path) -> None:
    failed = Reply(text="I could not search.", searches=[WebSearchCall(query="kites", error_code="max_uses_exceeded")])
    async with FakeAnthropicServer(failed) as server:
        engine = await Engine.open(
            config(tmp_path), tmp_path / "ws", AnthropicBrain(MODEL, base_url=server.base_url, api_key="k")
        )
        await ask(engine, "kites?")
        await engine.close()
    reply = next(e for e in engine.events if isinstance(e, AssistantMessage))
    (search,) = web_searches(reply.content)
    assert search.result is not None and search.result.error_code == "max_uses_exceeded"


def test_websearch_rules_take_no_specifier() -> None:
    assert Rule.parse("WebSearch").tool == "WebSearch"
    with pytest.raises(PermissionRuleError, match="WebSearch rules take no parentheses"):
        Rule.parse("WebSearch(kites.example)")


def test_both_domain_lists_in_the_config_are_refused(tmp_path: Path) -> None:
    (tmp_path / ".workbench").mkdir()
    (tmp_path / ".workbench" / "config.toml").write_text(
        '[web]\nsearch_allowed_domains = ["a.example"]\nsearch_blocked_domains = ["b.example"]\n'
    )
    with pytest.raises(ConfigError, match="not both"):
        load_config(tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "none")})


async def test_a_paused_turn_is_sent_back_for_the_api_to_go_on(tmp_path: Path) -> None:
    paused = Reply(text="Searching further.", searches=[KITES], stop_reason="pause_turn")
    async with FakeAnthropicServer(paused, Reply(text="Done searching.")) as server:
        brain = AnthropicBrain(MODEL, base_url=server.base_url, api_key="k")
        engine = await Engine.open(config(tmp_path), tmp_path / "ws", brain)
        assert await ask(engine, "kites?") == "Done searching."
        await engine.close()
        first, second = server.message_requests
    last = without_cache_control(second.body["messages"])[-1]  # a breakpoint marks the end of the prefix
    assert first.reply is not None and last["role"] == "assistant"
    assert as_sent(last["content"]) == as_sent(first.reply["content"])  # the paused reply, to be continued
