"""Swarm: N background agents streaming at once, the app in a real pty.

One case per N (10, 50, 100, 200; ``--quick``: 10, 50). The app runs with the
Anthropic brain pointed at the fake Messages API (tests/fake_api.py, in a process
of its own, see pty_app.py), its concurrency limit raised to N and permissions in
``bypass`` mode (so tool calls need no answer). N agents are started the way a
user starts them: by typing ``/background job <i>`` + enter into the prompt, one
command after the other (each once the prompt has taken the previous one). Each
agent's task takes ``turns`` replies of ``words`` tokens at 50 tokens/s, every
reply but the last ending in a ``Read`` call (``TurnsResponder``). The first reply
to each agent starts but holds (``ping`` events) until all N have asked, so the N
agents then stream at once rather than the first ones being done before the last
are typed in (``spawn_s``, ``spawn_lag_p99_ms``: that typing phase). While they run,
letters are typed into the prompt and timed.

Figures, over the window from the gate opening (every agent streaming) to the last
agent finished: ``lag_p50_ms`` / ``lag_p99_ms`` (the app's lag probe),
``loop_busy_share`` (the probe's lateness summed over the window's length, about
the share of the time the loop was busy: a percentile of wake-ups flatters a loop so
busy it wakes the probe seldom),
``key_latency_p99_ms`` (key written → shown in the prompt), ``events_per_s`` (the
agents' events logged in the window / its length), ``all_done_s`` (the window's length:
every agent streaming to every agent finished) against ``ideal_s`` (one agent's task at
the API's pace, the same however many run: ``done_ratio`` = the two's ratio),
``cpu_s`` (CPU seconds of the app's process tree, its brain host included, from the
last agent typed in to the last finished) and ``cpu_ms_per_token`` (that / the tokens
streamed, N · turns · words), ``rss_mb`` (the app's peak RSS),
``rss_per_agent_mb`` ((peak − RSS before spawning) / N), ``peak_running`` (most agents
between spawn and end at once, from the log).

``events_expected`` is computed from the script: per agent, ``agent_spawned`` and
the task's ``user_message``; per reply a ``status`` (thinking), the
``assistant_message`` and its ``usage``; per tool call a ``status`` (tool), the
``tool_call``, its ``permission`` decision and the ``tool_result``; at the end a
``status`` (done) and ``agent_finished``: 4 + 3·turns + 4·(turns − 1). It must equal
``events_logged``, the events of those agents read back from the session's
events.jsonl after the run: no event lost. Prints JSON lines.

``--daemon``: the agents run in ``workbench serve`` (started first, in its own
process) and the app in the pty is a screen attached to it (``engine = "daemon"``);
the lag and key figures are the attached screen's. ``daemon_cpu_s`` is the daemon's
process tree (with its brain host), ``attach_s`` the time a second screen takes,
once every agent streams, from ``workbench attach`` to showing all the agents.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pty_app import (  # noqa: E402
    KeyTimer,
    PtyApp,
    Sandbox,
    add_diagnostics,
    diagnosed_argv,
    engine_ready,
    fake_api,
    loadavg,
    loop_busy_share,
    percentile,
    read_probe,
    renice,
    sandbox,
    stall_report,
)

TOKENS_PER_S = 50.0
TOOL = "Read"
TOOL_INPUT = {"file_path": "notes.txt"}
PLACEHOLDER = b"ype a request"  # the empty prompt's placeholder (its first letter is drawn as the cursor)


def expected_per_agent(turns: int) -> Counter[str]:
    """The events one agent's task logs, by kind, given what the fake API sends it."""
    calls = turns - 1
    return Counter(
        {
            "agent_spawned": 1,
            "user_message": 1,
            "status": turns + calls + 1,
            "assistant_message": turns,
            "usage": turns,
            "tool_call": calls,
            "permission": calls,
            "tool_result": calls,
            "agent_finished": 1,
        }
    )


def ideal_s(turns: int, words: int) -> float:
    """How long one agent's task takes at the API's pace, however many run in parallel."""
    return turns * words / TOKENS_PER_S


def config_toml(agents: int, daemon: bool = False) -> str:
    engine = 'engine = "daemon"\n' if daemon else ""
    return (
        f"{engine}[limits]\nconcurrency = {agents}\nchildren_per_agent = {max(250, agents)}\n\n"
        '[permissions]\nmode = "bypass"\n'
    )


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and its descendants so far."""
    ticks, todo = 0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(child) for child in task.read_text().split()]
    return ticks / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def daemon_running(box: Sandbox, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes] | None]:
    """``workbench serve`` for the sandbox's store, until the block ends (then stopped)."""
    log = (box.root / "daemon.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", "serve"], env=env, cwd=box.workspace, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 30
        while b"serving" not in (box.root / "daemon.log").read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the daemon did not start: {(box.root / 'daemon.log').read_text()}")
            time.sleep(0.05)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(30)
        if process.poll() is None:
            process.kill()
        log.close()


def attach_time(box: Sandbox, env: dict[str, str], agents: int) -> float:
    """A second screen: from ``workbench attach`` to every agent shown in its agents pane."""
    shown = f"{agents + 1} agents"
    viewer = PtyApp([sys.executable, "-m", "workbench", "attach"], env=env, cwd=box.workspace, cols=140, rows=45)
    began = viewer.start()
    try:
        viewer.wait_for(lambda screen: any(shown in line for line in screen.display), 30, 0.01, what=shown)
        return time.monotonic() - began
    finally:
        viewer.quit(timeout=30)


def type_command(app: PtyApp, command: str, echo: str, timeout: float = 30.0) -> None:
    """Type a command, wait until the prompt shows it, press enter, wait until the prompt is
    empty again (its placeholder shows). As a user does: keys typed before the prompt has
    taken the previous command can be lost (the slash menu may still hold a stale choice)."""
    chunks = app.recording.chunks

    def wait_raw(needle: bytes, since: int, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not any(needle in data for _, data in chunks[since:]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: nothing within {timeout}s; the screen:\n{app.text()}")
            time.sleep(0.005)

    mark = len(chunks)
    app.write(command.encode())
    wait_raw(echo.encode(), mark, f"typing {command!r}")
    mark = len(chunks)
    app.write(b"\r")
    wait_raw(PLACEHOLDER, mark, f"sending {command!r}")


def finished_count(box: Sandbox) -> int:
    logs = list(box.bundles.glob("*/events.jsonl"))
    return logs[0].read_bytes().count(b'"kind":"agent_finished"') if logs else 0


def one_case(agents: int, turns: int, words: int, args: argparse.Namespace) -> dict[str, object]:
    with (
        fake_api(TOKENS_PER_S, words, turns, TOOL, TOOL_INPUT, paragraph=60, gate=agents) as api,
        sandbox() as box,
    ):
        box.write_config(config_toml(agents, args.daemon))
        probe = box.root / "lag.json"
        argv, stacks = diagnosed_argv(args, box)
        env = {**box.env(api_url=api.url), "XDG_RUNTIME_DIR": str(box.root)}
        with daemon_running(box, env) if args.daemon else contextlib.nullcontext() as daemon:
            return run_case(agents, turns, words, args, api, box, {**env, **box.env(api_url=api.url, probe=probe)},
                            argv, stacks, daemon, probe)  # fmt: skip


def run_case(
    agents: int,
    turns: int,
    words: int,
    args: argparse.Namespace,
    api: Any,
    box: Sandbox,
    env: dict[str, str],
    argv: list[str],
    stacks: Path | None,
    daemon: subprocess.Popen[bytes] | None,
    probe: Path,
) -> dict[str, object]:
    app = PtyApp(argv, env=env, cwd=box.workspace, cols=140, rows=45)
    app.start()
    rss_peak = 0.0
    try:
        app.wait_for(engine_ready, 30, what="the engine to open")
        time.sleep(1.0)
        rss_before = app.rss_mb()
        began = time.monotonic()
        for i in range(agents):
            type_command(app, f"/background job {i:03d}", f"job {i:03d}")
        spawned = time.monotonic()
        cpu_spawned = app.cpu_s()
        opened = api.gate_opened_at(timeout=60)
        print(f"  {agents} agents: spawned in {spawned - began:.1f}s", file=sys.stderr)
        attach_s = (
            attach_time(box, {k: v for k, v in env.items() if k != "WORKBENCH_LAG_PROBE"}, agents) if daemon else None
        )
        timer = KeyTimer(app)
        deadline = opened + 240 + 3 * turns * words / TOKENS_PER_S

        def all_done() -> bool:
            nonlocal rss_peak
            rss_peak = max(rss_peak, app.rss_mb())
            if finished_count(box) >= agents:
                return True
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {finished_count(box)} of {agents} agents finished")
            return False

        timer.type_until(all_done)
        ended = time.monotonic()
        rss_peak = max(rss_peak, app.rss_mb())
        cpu_s = app.cpu_s()
        run_cpu_s = cpu_s - cpu_spawned
        daemon_cpu_s = tree_cpu_s(daemon.pid) if daemon is not None else 0.0
        time.sleep(1.5)  # the last keys typed show before the app is asked to quit
    finally:
        app.quit(timeout=30)
    events = box.session_events()
    background = {e["agent"] for e in events if e["kind"] == "agent_spawned" and e.get("mode") == "background"}
    ours = [e for e in events if e.get("agent") in background]
    expected = expected_per_agent(turns)
    logged = Counter(e["kind"] for e in ours)
    ids = {e["agent"] for e in ours}
    events_expected = agents * sum(expected.values())
    if len(ids) != agents or sum(logged.values()) != events_expected:
        want = Counter({kind: n * agents for kind, n in expected.items()})
        print(
            f"  event mismatch: {len(ids)} agents logged; missing {dict(want - logged)}, extra {dict(logged - want)}",
            file=sys.stderr,
        )
    # the events of the run proper: those stamped after the gate opened (wall clock, as the log's)
    gate_wall = time.time() - (time.monotonic() - opened)
    run_events = sum(1 for e in ours if datetime.fromisoformat(e["ts"]).timestamp() >= gate_wall)
    lags = read_probe(probe, opened, ended)
    spawn_lags = read_probe(probe, began, opened)
    keys = timer.latencies_ms()
    if stacks is not None:
        print(stall_report(stacks, probe, opened, ended, min_lag_ms=50), file=sys.stderr)
    return {
        "bench": "swarm",
        "case": "swarm",
        "agents": agents,
        "lag_p50_ms": round(percentile(lags, 50), 1),
        "lag_p99_ms": round(percentile(lags, 99), 1),
        "lag_max_ms": round(max(lags), 1),
        "loop_busy_share": round(loop_busy_share(lags, ended - opened), 3),
        "key_latency_p50_ms": round(percentile(keys, 50), 1),
        "key_latency_p99_ms": round(percentile(keys, 99), 1),
        "keys": len(keys),
        "events_per_s": round(run_events / (ended - opened)),
        "rss_mb": round(rss_peak, 1),
        "rss_per_agent_mb": round((rss_peak - rss_before) / agents, 3),
        "rss_before_mb": round(rss_before, 1),
        "events_expected": events_expected,
        "events_logged": sum(logged.values()),
        "peak_running": peak_running(ours),
        "turns": turns,
        "words_per_reply": words,
        "tokens_per_s_per_agent": TOKENS_PER_S,
        "spawn_s": round(spawned - began, 2),
        "spawn_lag_p99_ms": round(percentile(spawn_lags, 99), 1),
        "run_s": round(ended - opened, 2),
        "app_cpu_s": round(cpu_s, 1),
        "all_done_s": round(ended - opened, 2),
        "ideal_s": round(ideal_s(turns, words), 2),
        "done_ratio": round((ended - opened) / ideal_s(turns, words), 2),
        "cpu_s": round(run_cpu_s, 2),
        "cpu_ms_per_token": round(1000 * run_cpu_s / (agents * turns * words), 3),
        "daemon": daemon is not None,
        "daemon_cpu_s": round(daemon_cpu_s, 1),
        "attach_s": round(attach_s, 3) if attach_s is not None else None,
        "gc_freeze_after_s": args.gc_freeze_after,
    }


def peak_running(events: list[dict[str, object]]) -> int:
    """The most agents that were between their spawn and their end at once (from the log)."""
    marks = sorted(
        (str(e["ts"]), 1 if e["kind"] == "agent_spawned" else -1)
        for e in events
        if e["kind"] in ("agent_spawned", "agent_finished")
    )
    running = peak = 0
    for _, step in marks:
        running += step
        peak = max(peak, running)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--agents", type=int, nargs="+", help="the values of N (default 10 50 100 200; --quick 10 50)")
    parser.add_argument("--turns", type=int, help="replies per agent's task (default 4, --quick 2)")
    parser.add_argument("--words", type=int, help="tokens per reply (default 150, --quick 75)")
    parser.add_argument("--daemon", action="store_true", help="agents in `workbench serve`, the app attached to it")
    add_diagnostics(parser)
    args = parser.parse_args()
    nice = renice(args.nice)
    cases = args.agents or ([10, 50] if args.quick else [10, 50, 100, 200])
    turns = args.turns or (2 if args.quick else 4)
    words = args.words or (75 if args.quick else 150)

    for agents in cases:
        result = one_case(agents, turns, words, args)
        print(
            f"swarm {agents}: all done {result['all_done_s']} s (ideal {result['ideal_s']}), "
            f"{result['cpu_ms_per_token']} CPU-ms/token, lag p99 {result['lag_p99_ms']} ms, key p99 {result['key_latency_p99_ms']} ms, "
            f"{result['rss_per_agent_mb']} MB/agent, events {result['events_logged']}/{result['events_expected']}",
            file=sys.stderr,
        )
        print(json.dumps(result), flush=True)
    print(
        json.dumps(
            {
                "bench": "swarm",
                "case": "summary",
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "quick": args.quick,
                "nice": nice,
                "loadavg": loadavg(),
            }
        )
    )


if __name__ == "__main__":
    main()
