"""What requests cost: prices, aliases, the spend of each agent and of the fleet, and the caps that pause agents."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine_driver import ask, run, spawn
from tests.fake_api import FakeAnthropicServer, Reply, ToolCall, serve_in_thread
from workbench.brains.anthropic import AnthropicBrain
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.brain_factory import BrainChoice, make_brain
from workbench.engine.config import Config, ConfigError, LimitsConfig, load_config
from workbench.engine.engine import Engine
from workbench.engine.models import MODEL_ALIASES, resolve_model
from workbench.engine.policy.spend_cap import CAP_REACHED
from workbench.engine.pricing import DEFAULT_PRICES, ModelPrice, PriceTable
from workbench.engine.views.spend import cost_report, fleet_spend, money
from workbench.log.bundle import BundleStore
from workbench.log.meta import META_VERSION, SessionMeta
from workbench.protocol.commands import Send, SetSpendCap
from workbench.protocol.events import (
    AgentSpawned,
    CacheCreation,
    SpendCap,
    Status,
    Usage,
)

SONNET = "claude-sonnet-4-6"
MILLION = 1_000_000


def usage(agent: str, model: str = SONNET, **tokens: int) -> Usage:
    split = tokens.pop("one_hour", None)
    creation = CacheCreation(ephemeral_1h_input_tokens=split) if split is not None else None
    return Usage(agent=agent, model=model, cache_creation=creation, **tokens)


# -- prices ------------------------------------------------------------------------------------


def test_a_million_tokens_of_each_kind_cost_the_listed_price() -> None:
    price = PriceTable().price(SONNET)
    assert price == ModelPrice(input=3, output=15, cache_write_5m=3.75, cache_write_1h=6, cache_read=0.3)
    spend = fleet_spend(
        [
            AgentSpawned(agent="primary", model=SONNET),
            usage("primary", input_tokens=MILLION, output_tokens=MILLION),
            usage("primary", cache_read_input_tokens=MILLION),
            usage("primary", cache_creation_input_tokens=2 * MILLION, one_hour=MILLION),
        ],
        PriceTable(),
    )
    assert spend.fleet().usd == pytest.approx(3 + 15 + 0.3 + 3.75 + 6)
    assert spend.fleet().uncached_usd == pytest.approx(3 + 15 + 3 + 6)


def test_an_old_log_without_the_split_prices_its_writes_as_five_minute_ones() -> None:
    old = json.loads(
        '{"v":1,"seq":5,"ts":"2025-01-01T00:00:00.000Z","session":"s","agent":"primary","kind":"usage",'
        '"input_tokens":1000000,"output_tokens":0,"cache_creation_input_tokens":1000000,'
        '"cache_read_input_tokens":0,"model":"claude-sonnet-4-6","source":"api"}'
    )
    event = Usage.model_validate(old)
    assert event.cache_creation is None and event.purpose == "reply"
    assert fleet_spend([event], PriceTable()).own("primary").usd == pytest.approx(3 + 3.75)


def test_dated_and_long_context_ids_take_their_familys_price_and_unknown_ones_none() -> None:
    table = PriceTable()
    assert table.price("claude-haiku-4-5-20251001") == DEFAULT_PRICES["claude-haiku-4-5"]
    assert table.price("claude-opus-4-20250514") == DEFAULT_PRICES["claude-opus-4"]
    assert table.price("claude-sonnet-4-5[1m]") == DEFAULT_PRICES["claude-sonnet-4-5"]
    assert table.price("claude-opus-4-8") == DEFAULT_PRICES["claude-opus-4-8"]
    assert table.price("us.anthropic.claude-opus-4-1-20250805-v1:0") == DEFAULT_PRICES["claude-opus-4-1"]
    assert table.price("claude-opus-4@20250514") == DEFAULT_PRICES["claude-opus-4"]
    assert table.price("scripted") is None
    assert table.price("claude-sonnet-4-60") is None  # not an extension: a different id


def test_a_price_in_the_config_wins_and_its_cache_rates_follow_the_api_multipliers(tmp_path: Path) -> None:
    (tmp_path / ".workbench").mkdir()
    (tmp_path / ".workbench" / "config.toml").write_text(
        '[prices."claude-sonnet-4-6"]\ninput = 2.0\noutput = 10.0\n[prices."my-proxy-model"]\ninput = 1\noutput = 1\n'
        "cache_read = 0.5\n"
    )
    config = load_config(tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "none")})
    table = PriceTable(config.prices)
    assert table.price(SONNET) == ModelPrice(input=2, output=10, cache_write_5m=2.5, cache_write_1h=4, cache_read=0.2)
    assert table.price("my-proxy-model").cache_read == 0.5
    (tmp_path / ".workbench" / "config.toml").write_text('[prices."x"]\ninput = -1\noutput = 1\n')
    with pytest.raises(ConfigError, match="prices.x.input"):
        load_config(tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "none")})


def test_money_shows_small_amounts_with_enough_digits() -> None:
    assert [money(x) for x in (0, 0.0042, 0.04, 1.234, 1234.5, 0.00001)] == [
        "$0.00",
        "$0.0042",
        "$0.04",
        "$1.23",
        "$1,234",
        "<$0.0001",
    ]


# -- spend of agents and the fleet ---------------------------------------------------------------


def tree_events() -> list:
    return [
        AgentSpawned(agent="primary", model=SONNET),
        AgentSpawned(agent="agent-1", parent="primary", model=SONNET, mode="delegated", level=2),
        AgentSpawned(agent="agent-2", parent="agent-1", model="claude-haiku-4-5", mode="delegated", level=3),
        AgentSpawned(agent="agent-3", parent="primary", model="scripted", mode="background", level=2),
        usage("primary", input_tokens=MILLION),
        usage("agent-1", output_tokens=MILLION),
        usage("agent-2", model="", input_tokens=MILLION),  # no model reported: the agent's
        usage("agent-3", model="scripted", input_tokens=500),
    ]


def test_each_agent_its_subtree_and_the_fleet_cost_what_their_requests_did() -> None:
    spend = fleet_spend(tree_events(), PriceTable())
    assert spend.own("primary").usd == pytest.approx(3)
    assert spend.own("agent-1").usd == pytest.approx(15)
    assert spend.own("agent-2").usd == pytest.approx(1)  # priced as the haiku it was spawned as
    assert spend.subtree("agent-1").usd == pytest.approx(16)
    assert spend.subtree("primary").usd == pytest.approx(19)
    fleet = spend.fleet()
    assert fleet.usd == pytest.approx(19) and fleet.unpriced == ["scripted"] and not fleet.known
    report = cost_report(tree_events(), PriceTable())
    assert report[0].startswith("cost: $19.00+ (no price for scripted)")
    assert "  primary: $3.00 own, $19.00 with its sub-agents (1 requests)" in report


def test_tokens_already_priced_are_not_priced_again_and_new_usage_moves_every_figure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The panes ask for every agent's cost many times a second while agents stream: only the
    agent with new usage is priced again, and its ancestors' and the fleet's figures follow."""
    priced: list[int] = []
    real_cost = ModelPrice.cost
    monkeypatch.setattr(
        ModelPrice, "cost", lambda self, tokens: priced.append(tokens.requests) or real_cost(self, tokens)
    )
    spend = fleet_spend(tree_events(), PriceTable())
    assert spend.subtree("primary").usd == pytest.approx(19)
    first = len(priced)
    for _ in range(20):
        spend.fleet(), spend.subtree("primary"), spend.own("agent-2")
    assert len(priced) == first  # nothing new: nothing priced again
    spend.apply(usage("agent-2", model="", input_tokens=MILLION))  # agent-1's child, on the haiku
    assert spend.subtree("primary").usd == pytest.approx(20)
    assert spend.subtree("agent-1").usd == pytest.approx(17)
    assert spend.fleet().usd == pytest.approx(20)
    assert len(priced) == first + 1  # agent-2's tokens alone, once
    spend.own("agent-2").add(spend.own("primary"))  # a caller changing a figure it got changes nothing kept
    assert spend.own("agent-2").usd == pytest.approx(2)


# -- aliases ----------------------------------------------------------------------------------


def test_aliases_resolve_to_model_ids_and_the_config_can_change_them() -> None:
    assert resolve_model("opus") == MODEL_ALIASES["opus"]
    assert resolve_model(" Sonnet ") == MODEL_ALIASES["sonnet"]
    assert resolve_model("claude-opus-4-1") == "claude-opus-4-1"
    assert resolve_model("haiku", {"HAIKU": "claude-haiku-5-5"}) == "claude-haiku-5-5"


def test_the_brain_and_agent_types_get_model_ids_not_aliases(tmp_path: Path) -> None:
    brain = make_brain(BrainChoice(name="anthropic"), Config(model="haiku", aliases={"haiku": "claude-haiku-4-5"}))
    try:
        assert brain.model == "claude-haiku-4-5"
    finally:
        asyncio.run(brain.aclose())


async def test_a_sub_agent_of_a_type_naming_an_alias_runs_on_the_model_id(tmp_path: Path) -> None:
    agents = tmp_path / "ws" / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "scout.md").write_text("---\nname: scout\ndescription: looks around\nmodel: haiku\n---\nLook around.\n")
    bench = await Engine.open(Config(bundles=tmp_path / "b", fsync="never"), tmp_path / "ws", ScriptedBrain())
    child = await spawn(bench, "delegated", "list the files", agent_type="scout")
    await bench.wait_all()
    await bench.close()
    spawned = next(e for e in bench.events if isinstance(e, AgentSpawned) and e.agent == child.id)
    assert spawned.model == MODEL_ALIASES["haiku"]


# -- caps -------------------------------------------------------------------------------------


def tool_then_answer(body: dict) -> Reply:
    """Read a file on the first step of each turn, then answer."""
    last = body["messages"][-1]["content"]
    answered = isinstance(last, list) and any(b.get("type") == "tool_result" for b in last)
    if answered:
        return Reply(text="done reading")
    return Reply(text="reading", tool_calls=[ToolCall(name="Read", input={"file_path": "README.md"})])


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "README.md").write_text("# Demo\n\n" + "A line of the demo readme.\n" * 200)
    return ws


async def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_session_cap_pauses_the_agent_and_raising_it_lets_it_finish(workspace: Path, tmp_path: Path) -> None:
    config = Config(bundles=tmp_path / "b", fsync="never", limits=LimitsConfig(max_budget_usd=0.001))
    async with FakeAnthropicServer(responder=tool_then_answer) as server:
        brain = AnthropicBrain(SONNET, base_url=server.base_url, api_key="k")
        bench = await Engine.open(config, workspace, brain)
        await run(bench, Send(text="what is in README.md?"))
        await bench.view.caps.reached.wait()
        primary = bench.primary
        assert primary.paused and primary.state == "paused"
        assert len(server.message_requests) == 1  # the tool ran; the next request waits
        status = [e for e in bench.events if isinstance(e, Status) and e.state == "paused"][-1]
        assert status.detail.startswith(CAP_REACHED) and "the session spent $" in status.detail
        assert "of $0.001" in status.detail

        assert await run(bench, SetSpendCap(max_usd=1.0)) == ""
        await primary.settled()
        assert primary.result == "done reading"
        assert any(isinstance(e, SpendCap) and e.max_usd == 1.0 and e.agent == "" for e in bench.events)
        await bench.close()

        # the raised cap is in the log: a resumed session keeps it, whatever the config says
        bench = await Engine.resume(config, workspace, brain, bench.session.id)
        assert bench.view.caps.cap("") == 1.0 and bench.view.caps.exceeded("primary") is None
        await bench.close()


async def test_a_background_agents_own_cap_holds_it_alone(workspace: Path, tmp_path: Path) -> None:
    config = Config(bundles=tmp_path / "b", fsync="never", limits=LimitsConfig(max_budget_usd_background=0.001))
    async with FakeAnthropicServer(responder=tool_then_answer) as server:
        brain = AnthropicBrain(SONNET, base_url=server.base_url, api_key="k")
        bench = await Engine.open(config, workspace, brain)
        worker = await spawn(bench, "background", "read README.md")
        await bench.view.caps.reached.wait()
        assert bench.view.caps.held == {worker.id}
        assert "it and its sub-agents spent" in bench.view.caps.reason
        assert await ask(bench, "hello") == "done reading"  # the worker's cap is not the primary's
        assert not bench.primary.paused
        outcome = await bench.submit(SetSpendCap(agent=worker.id))
        assert outcome.ok and outcome.message == f"{worker.id} has no cap; {worker.id} goes on."
        await bench.wait_all()
        assert worker.state == "done"
        await bench.close()


def cli(*args: str, cwd: Path, bundles: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env |= {
        "WORKBENCH_BUNDLES": str(bundles),
        "XDG_CONFIG_HOME": str(cwd / ".config"),
        "ANTHROPIC_API_KEY": "test-key",
        "ANTHROPIC_BASE_URL": base_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=90
    )


def test_a_headless_run_stops_at_its_cap_and_every_listing_shows_the_cost(workspace: Path, tmp_path: Path) -> None:
    bundles = tmp_path / "bundles"
    with serve_in_thread(responder=tool_then_answer) as server:
        capped = cli("run", "--max-budget-usd", "0.001", "read README.md", cwd=workspace, bundles=bundles,
                     base_url=server.base_url)  # fmt: skip
        assert capped.returncode == 1
        assert "spend cap reached: the session spent $" in capped.stderr and "nothing lost" in capped.stderr
        assert len(server.message_requests) == 1
        done = cli("run", "read README.md", cwd=workspace, bundles=bundles, base_url=server.base_url)
    assert done.returncode == 0, done.stderr
    assert "cost: $" in done.stderr and "cached" in done.stderr

    listed = cli("bundles", "ls", cwd=workspace, bundles=bundles, base_url="")
    assert listed.returncode == 0
    assert all(" $0.0" in line for line in listed.stdout.splitlines())
    session_id = done.stderr.strip().splitlines()[-1].removeprefix("session ")
    shown = cli("bundles", "show", session_id, cwd=workspace, bundles=bundles, base_url="")
    assert "cost: $" in shown.stdout and "primary: $" in shown.stdout
    exported = cli("bundles", "export", session_id, cwd=workspace, bundles=bundles, base_url="")
    assert "\n- cost: $" in exported.stdout


def test_bad_caps_are_refused_on_the_command_line(workspace: Path, tmp_path: Path) -> None:
    refused = cli("run", "--max-budget-usd", "lots", "hi", cwd=workspace, bundles=tmp_path / "b", base_url="")
    assert refused.returncode == 2 and "not an amount in dollars" in refused.stderr


# -- meta.json ----------------------------------------------------------------------------------


async def test_a_summary_written_before_costs_were_kept_is_rebuilt_with_them(tmp_path: Path) -> None:
    store = BundleStore(tmp_path / "b")
    bench = await Engine.open(Config(bundles=store.root, fsync="never"), tmp_path, ScriptedBrain(), store=store)
    await bench.session.append(usage("primary", input_tokens=MILLION))
    await bench.close()
    folder = store.folder(bench.session.id)
    old = json.loads((folder / "meta.json").read_text())
    assert old["version"] == META_VERSION and old["usage"][SONNET]["input"] == MILLION
    del old["version"], old["usage"]  # as an older version wrote it
    (folder / "meta.json").write_text(json.dumps(old))
    meta = await store.meta(bench.session.id)
    assert meta.version == META_VERSION and meta.usage[SONNET].input == MILLION
    assert SessionMeta.model_validate(old).describes(meta.bytes) is False
