"""Cluster: N background agents on 1, 2 and 4 worker processes of a real ``nats-server -js``.

One case per number of workers (1, 2, 4). Every part is its own process, as a user runs it
(``tests/cluster_fleet.py``): the server, the fake Messages API (each agent's one reply is
``--tokens`` tokens at ``--tokens-per-s``), the coordinator (``workbench serve --cluster``, its
session's folder a small git repository each worker checks out per agent) and the workers
(``workbench worker --slots``). This process is the screen: a client attached to the coordinator
as the TUI is, which starts the agents (``Spawn``, one after the other, as ``/background`` does)
and hears every event.

Figures: ``agents_per_s`` (agents / the time from the first spawn to the last agent finished),
``latency_p50_ms`` / ``latency_p99_ms`` (an event made on a worker — its ``ts`` — to the screen
hearing it), ``coordinator_cpu_s`` and ``coordinator_rss_mb`` (its CPU time and peak RSS over the
case), ``events_lost`` (events the stream stored for the runs that the session's bundle lacks,
counted after the run: must be 0), ``ideal_s`` (the waves of agents the slots allow × one agent's
reply time). The summary has ``speedup_1_to_2`` (agents_per_s with 2 workers / with 1).
Prints JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cluster_fleet import Fleet, events_lost, git_repository  # noqa: E402
from tests.daemon_helpers import until  # noqa: E402
from workbench.protocol.commands import Spawn  # noqa: E402
from workbench.protocol.events import AgentPlaced, AgentSpawned, EventBase, Status, UserMessage  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, min(len(ordered), math.ceil(q / 100 * len(ordered)))) - 1]


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def made_on_a_worker(event: EventBase) -> bool:
    """What a worker writes (the coordinator writes a cluster agent's spawn, task and queueing)."""
    if isinstance(event, (AgentSpawned, UserMessage)):
        return False
    if isinstance(event, AgentPlaced):
        return bool(event.worker)
    return not (isinstance(event, Status) and event.state == "queued")


async def case(workers: int, agents: int, slots: int, tokens: int, tokens_per_s: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    fleet = Fleet(root, ack_wait_s=30.0, slots=slots)
    fleet.server.start()
    try:
        fleet.start_api("--tokens-per-s", str(tokens_per_s), "--words", str(tokens))
        ws = git_repository(root / "ws")
        coordinator = await fleet.start_coordinator(ws)
        for i in range(workers):
            fleet.start_worker(f"w{i + 1}")
        client = await fleet.client(ws)
        while len((await fleet.workers_listed())["workers"]) < workers:
            await asyncio.sleep(0.2)
        cpu_before = cpu_s(coordinator.pid)
        latencies: list[float] = []

        def heard(item: object) -> None:
            if isinstance(item, EventBase) and item.agent not in ("", "primary") and made_on_a_worker(item):
                latencies.append((datetime.now(UTC) - item.ts).total_seconds() * 1000)

        client.subscribe(heard)
        started = time.monotonic()
        for i in range(agents):
            outcome = await client.submit(Spawn(mode="background", task=f"job {i}"))
            assert outcome.ok, outcome.message
        spawned_s = time.monotonic() - started
        print(f"  {workers} worker(s): {agents} agents spawned in {spawned_s:.1f} s", file=sys.stderr)
        rows = client.view.roster.rows
        await until(client, lambda: sum(bool(r.finished) for a, r in rows.items() if a != "primary") == agents)
        all_done_s = time.monotonic() - started
        states = {r.state for a, r in rows.items() if a != "primary"}
        cpu = cpu_s(coordinator.pid) - cpu_before
        rss = peak_rss_mb(coordinator.pid)
        session = client.session_id
        await client.leave("detach")
        lost = await events_lost(fleet.url(), fleet.store, session)
        reply_s = tokens / tokens_per_s
        return {
            "bench": "cluster",
            "case": "cluster",
            "workers": workers,
            "agents": agents,
            "slots": slots,
            "agents_per_s": round(agents / all_done_s, 2),
            "latency_p50_ms": round(percentile(latencies, 50), 1),
            "latency_p99_ms": round(percentile(latencies, 99), 1),
            "coordinator_cpu_s": round(cpu, 2),
            "coordinator_rss_mb": round(rss, 1),
            "events_lost": lost,
            "events_heard": len(latencies),
            "all_done": states == {"done"},
            "all_done_s": round(all_done_s, 2),
            "spawn_s": round(spawned_s, 2),
            "ideal_s": round(math.ceil(agents / (workers * slots)) * reply_s, 2),
            "loadavg": round(os.getloadavg()[0], 2),
        }
    finally:
        fleet.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 agents of 50 tokens (under a minute)")
    parser.add_argument("--agents", type=int)
    parser.add_argument("--workers", default="1,2,4", help="the cases: numbers of workers")
    parser.add_argument("--slots", type=int, default=50, help="runs each worker holds at once")
    parser.add_argument("--tokens", type=int, help="tokens of each agent's reply (default 300)")
    parser.add_argument("--tokens-per-s", type=float, default=50.0)
    parser.add_argument("--nice", type=int, default=-10,
                        help="priority change for the fleet (inherited by every part; negative shields the figures "
                             "from other work on a shared machine, needs root; 0: leave it)")  # fmt: skip
    args = parser.parse_args()
    if args.nice:
        try:
            os.nice(args.nice)
        except PermissionError:
            print("warning: not allowed to raise the priority; running at the usual one", file=sys.stderr)
    agents = args.agents or (100 if args.quick else 1000)
    tokens = args.tokens or (50 if args.quick else 300)
    rates: dict[int, float] = {}
    for workers in (int(w) for w in args.workers.split(",")):
        result = await case(workers, agents, args.slots, tokens, args.tokens_per_s)
        rates[workers] = result["agents_per_s"]
        print(json.dumps(result), flush=True)
    summary: dict[str, Any] = {"bench": "cluster", "case": "summary", "cpus": os.cpu_count()}
    summary["python"] = platform.python_version()
    if 1 in rates and 2 in rates:
        summary["speedup_1_to_2"] = round(rates[2] / rates[1], 2)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
