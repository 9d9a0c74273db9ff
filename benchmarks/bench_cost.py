"""What prompt caching saves: a long tool-heavy session and a fan-out to 20 sub-agents, priced as Claude bills them.

Prints JSON lines (see ../shared/BENCHMARKS.md). ``--quick`` runs a small version.

The whole engine runs (agents, tools, the log) with the real Anthropic brain and SDK
against the fake Messages API on loopback, which caches as the API documents it
(tests/prompt_cache.py: prefix match up to a breakpoint, lookback, minimum length, TTL).
Each case runs twice, with caching on and off, from the same workspace and replies;
the cost is what the session's ``usage`` events cost at the default prices of
claude-sonnet-4-6 (the same projection the app shows).

- session: 15 prompts, each answered in four requests (Read a file, Grep, Glob, then the
  answer): 60 requests over a context that grows to some 40k tokens.
- fanout: the primary starts 20 delegated agents in one reply (Task × 20); each reads a
  file, greps and answers; the primary sums up.

Keys: input_tokens (every input token sent), cache_read_share (the share read from the
cache), cost_usd, cost_uncached_usd (the run with caching off), cost_ratio, prefix_misses
(requests that read nothing from the cache though an earlier one sent the same tools).
Delegated agents cache for five minutes by default (``[cache] ttl_delegated``), background agents
for an hour (at twice the input price per token written); ``cost_ttl_5m_usd`` is the same run with
5-minute entries everywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.engine_driver import ask  # noqa: E402
from tests.fake_api import FakeAnthropicServer, Reply, ToolCall  # noqa: E402
from workbench.brains.anthropic import AnthropicBrain  # noqa: E402
from workbench.engine.config import CacheSettings, Config, LimitsConfig  # noqa: E402
from workbench.engine.engine import Engine  # noqa: E402
from workbench.engine.pricing import PriceTable  # noqa: E402
from workbench.engine.views.spend import fleet_spend  # noqa: E402

MODEL = "claude-sonnet-4-6"
FILES = 20
CHILDREN = 20


def make_workspace(root: Path) -> Path:
    workspace = root / "ws"
    (workspace / "src").mkdir(parents=True)
    for i in range(FILES):
        body = "".join(
            f'def handler_{i}_{j}(request):\n    """Answer request {j} of module {i}."""\n'
            f"    return {{'module': {i}, 'step': {j}, 'greeting': 'hello'}}\n\n"
            for j in range(40)
        )
        (workspace / "src" / f"module_{i}.py").write_text(body)
    (workspace / "CLAUDE.md").write_text(
        "# Project rules\n\n- Read a module before changing it.\n- Keep handlers pure.\n- Run make test.\n" * 3
    )
    return workspace


def _called(body: dict[str, Any]) -> list[str]:
    messages = body["messages"]
    return [b["name"] for b in messages[-2]["content"] if b.get("type") == "tool_use"] if len(messages) > 1 else []


def _answered(body: dict[str, Any]) -> bool:
    last = body["messages"][-1]["content"]
    return isinstance(last, list) and any(b.get("type") == "tool_result" for b in last)


def _module_of(body: dict[str, Any]) -> int:
    turns = sum(1 for m in body["messages"] if m["role"] == "user" and not _has_results(m))
    return turns % FILES


def _has_results(message: dict[str, Any]) -> bool:
    content = message["content"]
    return isinstance(content, list) and any(b.get("type") == "tool_result" for b in content)


def session_replies(body: dict[str, Any]) -> Reply:
    """Each prompt: Read a module, Grep for its handlers, Glob the sources, then answer."""
    called = _called(body) if _answered(body) else []
    module = _module_of(body)
    if not _answered(body):
        return Reply(
            text="Reading it.", tool_calls=[ToolCall(name="Read", input={"file_path": f"src/module_{module}.py"})]
        )
    if called == ["Read"]:
        return Reply(text="Searching.", tool_calls=[ToolCall(name="Grep", input={"pattern": f"handler_{module}_1"})])
    if called == ["Grep"]:
        return Reply(text="Listing.", tool_calls=[ToolCall(name="Glob", input={"pattern": "src/*.py"})])
    return Reply(text=f"Module {module} has forty pure handlers; each returns its module, step and a greeting.")


def fanout_replies(body: dict[str, Any]) -> Reply:
    """The primary fans out to sub-agents; each reads its module, greps it and answers."""
    system = body["system"][0]["text"] if isinstance(body["system"], list) else body["system"]
    if "(level 1 " in system:
        if not _answered(body):
            calls = [
                ToolCall(name="Task", input={"description": f"module {i}", "prompt": f"Inspect src/module_{i}.py"})
                for i in range(CHILDREN)
            ]
            return Reply(text="Fanning out.", tool_calls=calls)
        return Reply(text="Every module has forty pure handlers.")
    task = json.dumps(body["messages"][0])
    module = next(i for i in range(CHILDREN - 1, -1, -1) if f"module_{i}.py" in task)
    called = _called(body) if _answered(body) else []
    if not _answered(body):
        return Reply(
            text="Reading.", tool_calls=[ToolCall(name="Read", input={"file_path": f"src/module_{module}.py"})]
        )
    if called == ["Read"]:
        return Reply(text="Searching.", tool_calls=[ToolCall(name="Grep", input={"pattern": f"handler_{module}_2"})])
    return Reply(text=f"src/module_{module}.py: forty pure handlers.")


async def run(case: str, workspace: Path, bundles: Path, cache: CacheSettings, prompts: int) -> dict[str, Any]:
    replies = session_replies if case == "session" else fanout_replies
    config = Config(
        bundles=bundles,
        fsync="never",
        cache=cache,
        limits=LimitsConfig(children_per_agent=CHILDREN, concurrency=CHILDREN),
    )
    async with FakeAnthropicServer(responder=replies) as server:
        brain = AnthropicBrain(MODEL, base_url=server.base_url, api_key="bench-key")
        bench = await Engine.open(config, workspace, brain)
        started = time.perf_counter()
        if case == "session":
            for i in range(prompts):
                await ask(bench, f"What does module {i % FILES} do?")
        else:
            await ask(bench, "Inspect every module, one sub-agent each.")
            await bench.wait_all()
        seconds = time.perf_counter() - started
        await bench.close()
        requests = server.message_requests
    fleet = fleet_spend(bench.events, PriceTable()).fleet()
    misses = sum(1 for r in requests[1:] if r.usage and r.usage["cache_read_input_tokens"] == 0)
    return {
        "requests": len(requests),
        "agents": len(bench.supervisor.agents),
        "input_tokens": fleet.tokens.input_all,
        "cache_read_share": round(fleet.tokens.cache_read_share, 4),
        "cost_usd": round(fleet.usd, 4),
        "cost_if_uncached_usd": round(fleet.uncached_usd, 4),
        "prefix_misses": misses,
        "seconds": round(seconds, 2),
    }


def measure(case: str, quick: bool) -> dict[str, Any]:
    prompts = 5 if quick else 15
    with tempfile.TemporaryDirectory() as tmp:
        workspace = make_workspace(Path(tmp))
        home = Path(tmp) / "home"  # no user memory file of the machine's
        home.mkdir()
        os.environ["HOME"] = str(home)
        on = asyncio.run(run(case, workspace, Path(tmp) / "on", CacheSettings(), prompts))
        off = asyncio.run(run(case, workspace, Path(tmp) / "off", CacheSettings(enabled=False), prompts))
        short = asyncio.run(
            run(case, workspace, Path(tmp) / "5m", CacheSettings(ttl_background="5m", ttl_delegated="5m"), prompts)
        )
    print(f"{case}: {on['requests']} requests, {on['cost_usd']} vs {off['cost_usd']} USD", file=sys.stderr)
    return {
        "bench": "cost",
        "case": case,
        "requests": on["requests"],
        "agents": on["agents"],
        "input_tokens": on["input_tokens"],
        "cache_read_share": on["cache_read_share"],
        "cost_usd": on["cost_usd"],
        "cost_uncached_usd": off["cost_usd"],
        "cost_ratio": round(on["cost_usd"] / off["cost_usd"], 3) if off["cost_usd"] else None,
        "prefix_misses": on["prefix_misses"],
        "cost_ttl_5m_usd": short["cost_usd"],
        "uncached_requests": off["requests"],
        "seconds": on["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for case in ("session", "fanout"):
        print(json.dumps(measure(case, args.quick)), flush=True)
    print(
        json.dumps(
            {
                "bench": "cost",
                "case": "summary",
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "quick": args.quick,
                "model": MODEL,
            }
        )
    )


if __name__ == "__main__":
    main()
