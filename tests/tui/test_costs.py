"""What Claude costs, as the screen shows it: per agent, for the fleet, the cache's share, the exact count, the cap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.fake_api import FakeAnthropicServer, Reply, ToolCall, serve_in_thread
from tests.prompt_cache import count_tokens
from workbench.brains.anthropic import AnthropicBrain
from workbench.engine.views.spend import money
from workbench.frontends.tui.widgets.agents_pane import AgentsPane
from workbench.frontends.tui.widgets.context_budget import ContextBudget
from workbench.frontends.tui.widgets.session_strip import SessionStrip
from workbench.protocol.events import SpendCap, Status

from .helpers import engine_of, engine_ready, notices, settle, type_and_send, until

MODEL = "claude-sonnet-4-6"
WIDE = (160, 48)


def read_then_answer(body: dict[str, Any]) -> Reply:
    last = body["messages"][-1]["content"]
    if isinstance(last, list) and any(b.get("type") == "tool_result" for b in last):
        return Reply(text="README.md describes a demo project.")
    return Reply(text="Let me read it.", tool_calls=[ToolCall(name="Read", input={"file_path": "README.md"})])


@pytest.fixture
async def server() -> AsyncIterator[FakeAnthropicServer]:
    async with FakeAnthropicServer(responder=read_then_answer) as fake:
        yield fake


def claude(server: FakeAnthropicServer) -> AnthropicBrain:
    return AnthropicBrain(MODEL, base_url=server.base_url, api_key="test-key")


def strip(app: Any) -> list[str]:
    return str(app.query_one(SessionStrip).visual).splitlines()


def budget_text(app: Any) -> str:
    return str(app.query_one(ContextBudget).render())


async def test_the_fleet_each_agent_and_the_cache_show_what_claude_cost(make_app, server: FakeAnthropicServer) -> None:
    async with make_app(brain=claude(server)).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        await type_and_send(pilot, "what does README.md say?")
        await settle(pilot)
        await type_and_send(pilot, "/background read README.md")
        await until(pilot, lambda: bench.agent("agent-1") is not None and bench.agent("agent-1").state == "done")
        await settle(pilot)

        fleet = bench.view.spend.fleet()
        assert fleet.usd > 0 and fleet.tokens.cache_read > 0
        cost = strip(app)[3]
        saved = money(fleet.uncached_usd - fleet.usd)
        assert cost == f"cost {money(fleet.usd)} · cached {fleet.tokens.cache_read_share:.0%} · saved {saved}"
        pane = app.query_one(AgentsPane)
        assert money(bench.view.spend.own("primary").usd) in str(pane.label(pane.rows["primary"], 80))
        assert money(bench.view.spend.own("agent-1").usd) in str(pane.label(pane.rows["agent-1"], 80))
        detail = str(app.query_one("#agent-detail").visual)
        own, subtree = money(bench.view.spend.own("primary").usd), money(bench.view.spend.subtree("primary").usd)
        assert f"cost {own} own · {subtree} with 1 sub-agent" in detail
        assert "⟲ cached " in budget_text(app)


async def test_ctrl_n_counts_the_context_exactly_beside_the_budget(make_app, server: FakeAnthropicServer) -> None:
    async with make_app(brain=claude(server)).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "what does README.md say?")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: any(r.path == "/v1/messages/count_tokens" for r in server.requests))
        await until(pilot, lambda: "exact (count_tokens)" in budget_text(app))
        counted = count_tokens(server.requests[-1].body)
        assert f"= {counted:,} exact (count_tokens) · budget " in budget_text(app)
        assert any(f"{counted:,} tokens exactly" in notice for notice in notices(app))


async def test_the_offline_brain_says_it_has_no_exact_count(make_app) -> None:
    async with make_app().run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "/context")
        await until(pilot, lambda: "no exact count" in budget_text(app))
        assert "only Claude's API counts tokens" in budget_text(app)


async def test_a_cap_pauses_with_a_notice_and_budget_raises_it(make_app, server: FakeAnthropicServer) -> None:
    async with make_app(brain=claude(server)).run_test(size=WIDE) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        await type_and_send(pilot, "/budget 0.0001")
        await until(pilot, lambda: any(isinstance(e, SpendCap) for e in bench.events))
        await type_and_send(pilot, "what does README.md say?")
        await until(pilot, lambda: bench.primary.state == "paused")
        await until(pilot, lambda: any("primary paused: spend cap reached" in n for n in notices(app)))
        assert any("/budget <usd> raises the cap" in n for n in notices(app))
        status = [e for e in bench.events if isinstance(e, Status)][-1]
        assert status.state == "paused" and "the session spent $" in status.detail

        await type_and_send(pilot, "/budget lots")
        await until(pilot, lambda: any("'lots' is not an amount in dollars" in n for n in notices(app)))
        await type_and_send(pilot, "/budget off")
        await until(pilot, lambda: bench.primary.result == "README.md describes a demo project.")
        assert any("The session has no cap; primary goes on." in n for n in notices(app))


def test_snapshot_costs_and_the_cache(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await engine_ready(pilot)
        await type_and_send(pilot, "what does README.md say?")
        await settle(pilot)
        await type_and_send(pilot, "/background read README.md")
        # its completion notice comes a moment after its end: wait for it, so it can be cleared
        await until(pilot, lambda: any(n.startswith("agent-1 done") for n in notices(pilot.app)))
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause(0.2)

    with serve_in_thread(responder=read_then_answer) as server:
        app = make_app(brain=claude(server))
        app.offline_reason = None  # it is Claude (through the fake API), not the offline brain
        assert snap_compare(app, terminal_size=WIDE, run_before=run_before)
