"""Bundle throughput: appends per second for each fsync policy, and read + fold time.

Prints JSON lines (see ../shared/BENCHMARKS.md). ``--quick`` runs a small version.
Each fold case runs in a fresh subprocess so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workbench.engine.context.fold import fold  # noqa: E402
from workbench.log.bundle import BundleReader, BundleWriter  # noqa: E402
from workbench.protocol.content import TextBlock, ToolUseBlock  # noqa: E402
from workbench.protocol.events import AssistantMessage, Event, Status, ToolCall, ToolResult, Usage, UserMessage  # noqa: E402


def conversation(n: int) -> list[Event]:
    """A realistic mix: prompts, replies with tool calls, results, usage, status."""
    events: list[Event] = []
    i = 0
    while len(events) < n:
        i += 1
        call = f"toolu_{i:06d}"
        events += [
            UserMessage(text=f"Please look at module {i} and tell me what the function parse_{i} returns."),
            Status(state="thinking"),
            AssistantMessage(
                content=[
                    TextBlock(text=f"I'll read src/module_{i}.py to see parse_{i}."),
                    ToolUseBlock(id=call, name="Read", input={"file_path": f"src/module_{i}.py"}),
                ],
                stop_reason="tool_use",
            ),
            Usage(input_tokens=1200 + i, output_tokens=40),
            ToolCall(tool_use_id=call, name="Read", input={"file_path": f"src/module_{i}.py"}),
            ToolResult(tool_use_id=call, name="Read", content=f"def parse_{i}(text):\n    return text.split()\n" * 4),
            AssistantMessage(
                content=[TextBlock(text=f"parse_{i} splits its input on whitespace.")], stop_reason="end_turn"
            ),
            Usage(input_tokens=1300 + i, output_tokens=12),
        ]
    return [e.model_copy(update={"agent": "primary"}) for e in events[:n]]


async def append_rate(folder: Path, events: list[Event], fsync: str) -> float:
    writer = BundleWriter(folder, "bench", fsync=fsync)  # type: ignore[arg-type]
    await writer.start()
    start = time.perf_counter()
    # many producers at once, as when agents stream in parallel
    futures = [writer.submit(e) for e in events]
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - start
    await writer.close()
    return len(events) / elapsed


async def write_bundle(path: Path, n: int) -> None:
    writer = BundleWriter(path, "bench", fsync="never")
    await writer.start()
    await asyncio.gather(*(writer.submit(e) for e in conversation(n)))
    await writer.close()


def fold_case(folder: Path) -> dict[str, float]:
    """Runs in a subprocess: read the bundle, fold it, report time and peak RSS."""
    start = time.perf_counter()
    contents = asyncio.run(BundleReader(folder / "events.jsonl").read())
    context = fold(contents.events, agent="primary")
    elapsed = time.perf_counter() - start
    assert context.messages and not contents.problems
    return {"seconds": elapsed, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--fold-case", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fold_case:
        print(json.dumps(fold_case(args.fold_case)))
        return

    runs = 3 if args.quick else 5
    append_n = 20_000 if args.quick else 100_000
    fold_sizes = [10_000] if args.quick else [10_000, 100_000]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        events = conversation(append_n)
        for fsync in ("always", "interval", "never"):
            n = min(append_n, 5_000) if fsync == "always" else append_n
            rates = []
            for run in range(runs):
                rates.append(asyncio.run(append_rate(root / f"append-{fsync}-{run}", events[:n], fsync)))
                print(f"append {fsync} run {run}: {rates[-1]:,.0f}/s", file=sys.stderr)
            print(
                json.dumps(
                    {
                        "bench": "bundle",
                        "case": "append",
                        "fsync": fsync,
                        "events": n,
                        "events_per_s": round(statistics.median(rates)),
                        "runs": runs,
                    }
                )
            )
        for n in fold_sizes:
            folder = root / f"fold-{n}"
            asyncio.run(write_bundle(folder, n))
            results = []
            for run in range(runs):
                out = subprocess.run(
                    [sys.executable, __file__, "--fold-case", str(folder)], capture_output=True, text=True, check=True
                )
                results.append(json.loads(out.stdout))
                print(f"fold {n} run {run}: {results[-1]['seconds']:.3f}s", file=sys.stderr)
            print(
                json.dumps(
                    {
                        "bench": "bundle",
                        "case": "fold",
                        "events": n,
                        "read_fold_s": round(statistics.median(r["seconds"] for r in results), 3),
                        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in results), 1),
                        "runs": runs,
                        "bytes": (folder / "events.jsonl").stat().st_size,
                    }
                )
            )
    print(
        json.dumps(
            {
                "bench": "bundle",
                "case": "summary",
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "quick": args.quick,
            }
        )
    )


if __name__ == "__main__":
    main()
