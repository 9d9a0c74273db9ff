"""Remount, list and search: the bundle browser's figures.

Prints JSON lines (see ../shared/BENCHMARKS.md). ``--quick`` runs a small version.

- remount: open a 10k / 100k-event bundle, fold it into a remount plan, start
  the new session with its ``remounted`` event, read that back and render it as
  ``workbench bundles show`` does; rendering the source's whole transcript is
  timed apart. Each run is a fresh subprocess, so its peak RSS is its own.
- to_screen: a 1k / 10k / 100k-event session resumed in the TUI, in a real pty: from
  starting ``workbench --resume ID`` to the session's last reply on screen
  (``--to-screen N …``: these cases alone).
- list / search: 1,000 sessions (``meta.json`` only for the list; a rare and a
  common word for the search).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_bundle import conversation  # noqa: E402
from pty_app import PtyApp, app_argv, sandbox  # noqa: E402

from workbench.engine.context.fold import fold  # noqa: E402
from workbench.engine.remount import plan_remount  # noqa: E402
from workbench.log.bundle import EVENTS_FILE, FILE_MODE, BundleStore, write_meta  # noqa: E402
from workbench.log.bus import EventBus  # noqa: E402
from workbench.log.catalog import list_sessions  # noqa: E402
from workbench.log.meta import SessionMeta  # noqa: E402
from workbench.log.search import search  # noqa: E402
from workbench.log.session import Session  # noqa: E402
from workbench.log.transcript import transcript  # noqa: E402
from workbench.protocol.content import text_of  # noqa: E402
from workbench.protocol.events import (  # noqa: E402
    AgentSpawned,
    AssistantMessage,
    Event,
    SessionStarted,
    ToolResult,
    encode_event,
)

RARE_EVERY = 100  # one session in a hundred mentions the rare word


def session_events(n: int, extra: str = "", cwd: str = "") -> list[Event]:
    head: list[Event] = [
        SessionStarted(model="claude-sonnet-4-6", cwd=cwd),
        AgentSpawned(name="primary", system="You are a bench."),
    ]
    events = [e.model_copy(update={"agent": "primary"}) for e in head] + conversation(n - 2)
    if extra:
        events.append(ToolResult(tool_use_id="toolu_extra", name="Read", content=extra, agent="primary"))
    return [e.model_copy(update={"seq": i}) for i, e in enumerate(events, start=1)]


async def write_session(store: BundleStore, session_id: str, events: list[Event]) -> None:
    """The bytes BundleWriter would write, without its per-event cost: the bench measures reading."""
    folder = store.folder(session_id)
    folder.mkdir(mode=0o700, parents=True)
    data = "".join(encode_event(e.model_copy(update={"session": session_id})) + "\n" for e in events).encode()
    fd = os.open(folder / EVENTS_FILE, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    await write_meta(folder, SessionMeta.rebuild(session_id, events, len(data)))


def remount_case(root: Path) -> dict[str, float]:
    """Runs in a subprocess: remount the one session of ``root``, then show the new session.

    ``seconds`` is what the user waits for: open the source, fold it, start the new
    session, read that back and render it (headless). Rendering the whole source
    transcript too (``bundles show`` of the source) is reported apart, as ``show_source_s``.
    """

    async def run() -> dict[str, float]:
        store = BundleStore(root)
        [source] = store.session_ids()
        start = time.perf_counter()
        contents = await store.read(source)
        opened = time.perf_counter()
        plan = plan_remount(source, contents.events)
        planned = time.perf_counter()
        session = await Session.create(store, fsync="never", bus=EventBus())
        await session.append(plan.event.model_copy(update={"agent": "primary"}))
        await session.close()
        mounted = time.perf_counter()
        shown_events = (await store.read(session.id)).events
        with open(os.devnull, "w") as out:
            for line in transcript(shown_events):
                print(line, file=out)
        shown = time.perf_counter()
        with open(os.devnull, "w") as out:
            for line in transcript(contents.events):
                print(line, file=out)
        shown_source = time.perf_counter()
        assert plan.context.messages and fold(shown_events).messages == plan.context.messages
        return {
            "seconds": shown - start,
            "open_s": opened - start,
            "fold_s": planned - opened,
            "mount_s": mounted - planned,
            "show_s": shown - mounted,
            "show_source_s": shown_source - shown,
            "messages": len(plan.context.messages),
        }

    figures = asyncio.run(run())
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


async def make_store(root: Path, sessions: int) -> None:
    store = BundleStore(root)
    rng = random.Random(7)
    for i in range(sessions):
        extra = "the zebra migration is due" if i % RARE_EVERY == 0 else ""
        await write_session(
            store,
            f"2026{1 + i // 28 % 12:02d}{1 + i % 28:02d}T000000Z-{i:04x}",
            session_events(rng.randint(40, 240), extra),
        )


async def timed_list(root: Path) -> float:
    start = time.perf_counter()
    assert await list_sessions(BundleStore(root))
    return time.perf_counter() - start


async def timed_search(root: Path, query: str) -> tuple[float, int]:
    start = time.perf_counter()
    found = [s async for s in search(BundleStore(root), query)]
    return time.perf_counter() - start, len(found)


def last_reply(events: list[Event]) -> str:
    """The start of the session's last reply: what the user waits to see."""
    replies = [e for e in events if isinstance(e, AssistantMessage) and text_of(e.content).strip()]
    return text_of(replies[-1].content).strip()[:30]


def to_screen_case(n: int, runs: int) -> dict[str, object]:
    """In a real pty: ``workbench --resume <id>`` started, to the session's last reply on screen
    (the app's start-up included: about 1 s on this machine, see bench_startup)."""
    times = []
    for run in range(runs + 1):  # the first run warms the bytecode cache, uncounted
        with sandbox() as box:
            events = session_events(n, cwd=str(box.workspace))
            reply = last_reply(events)
            asyncio.run(write_session(BundleStore(box.bundles), "20260101T000000Z-big0", events))
            app = PtyApp(app_argv() + ["--resume", "20260101T000000Z-big0"], env=box.env(), cwd=box.workspace,
                         cols=160, rows=48)  # fmt: skip
            began = app.start()
            try:
                app.wait_for(
                    lambda screen, reply=reply: any(reply in line for line in screen.display), 300, 0.005, what=reply
                )
                shown = time.monotonic()
            finally:
                app.quit(timeout=30)
        if run:
            times.append(shown - began)
            print(f"to_screen {n} run {run}: {times[-1]:.3f}s", file=sys.stderr)
    return {
        "bench": "remount",
        "case": "to_screen",
        "events": n,
        "to_screen_s": round(statistics.median(times), 3),
        "max_s": round(max(times), 3),
        "runs": runs,
        "pty": True,
        "from": "start of `workbench --resume ID`",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--remount-case", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--to-screen", type=int, nargs="*", metavar="EVENTS", help="only the to_screen cases (default 1k 10k 100k)"
    )
    parser.add_argument("--runs", type=int, help="runs per case (default 5, --quick 3)")
    args = parser.parse_args()
    if args.remount_case:
        print(json.dumps(remount_case(args.remount_case)))
        return
    runs = args.runs or (3 if args.quick else 5)
    for n in args.to_screen or ([1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]):
        print(json.dumps(to_screen_case(n, runs)), flush=True)
    if args.to_screen is not None:
        return

    sizes = [10_000] if args.quick else [10_000, 100_000]
    sessions = 200 if args.quick else 1_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n in sizes:
            store_root = root / f"remount-{n}"
            asyncio.run(write_session(BundleStore(store_root), "20260101T000000Z-big0", session_events(n)))
            results = []
            for run in range(runs):
                # a fresh copy of the store each run: the remounted sessions must not pile up
                out = subprocess.run(
                    [sys.executable, __file__, "--remount-case", str(store_root)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                results.append(json.loads(out.stdout))
                for extra in BundleStore(store_root).session_ids()[:-1]:
                    subprocess.run(["rm", "-r", str(store_root / extra)], check=True)
                print(f"remount {n} run {run}: {results[-1]['seconds']:.3f}s", file=sys.stderr)
            median = {
                k: round(statistics.median(r[k] for r in results), 3)
                for k in ("seconds", "open_s", "fold_s", "mount_s", "show_s", "show_source_s")
            }
            print(
                json.dumps(
                    {
                        "bench": "remount",
                        "case": "remount",
                        "events": n,
                        **median,
                        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in results), 1),
                        "messages": results[0]["messages"],
                        "runs": runs,
                    }
                )
            )

        store_root = root / "many"
        print(f"writing {sessions} sessions …", file=sys.stderr)
        asyncio.run(make_store(store_root, sessions))
        size_mb = sum(p.stat().st_size for p in store_root.rglob(EVENTS_FILE)) / 2**20
        lists = [asyncio.run(timed_list(store_root)) for _ in range(runs)]
        print(
            json.dumps(
                {
                    "bench": "remount",
                    "case": "list",
                    "sessions": sessions,
                    "seconds": round(statistics.median(lists), 3),
                    "runs": runs,
                }
            )
        )
        for query, label in (("zebra migration", "rare"), ("parse_1", "common")):
            timings = [asyncio.run(timed_search(store_root, query)) for _ in range(runs)]
            print(
                json.dumps(
                    {
                        "bench": "remount",
                        "case": "search",
                        "query": label,
                        "sessions": sessions,
                        "seconds": round(statistics.median(t for t, _ in timings), 3),
                        "sessions_with_hits": timings[0][1],
                        "log_mb": round(size_mb, 1),
                        "runs": runs,
                    }
                )
            )
    print(
        json.dumps(
            {
                "bench": "remount",
                "case": "summary",
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "quick": args.quick,
            }
        )
    )


if __name__ == "__main__":
    main()
