"""Redaction's cost: appending a 100k-event session with secrets masked, against the same appends unmasked.

Prints JSON lines (see ../shared/BENCHMARKS.md). ``--quick`` runs a small version.
The session is bench_bundle's conversation, with one event in a hundred holding
a key (an API key in a tool result, a bearer header, a URL with a password) and
one in ten a URL, as real sessions do. Times are the process's CPU seconds (a
busy machine blurs wall time); runs alternate masked and unmasked so drift
touches both alike, and the figure is the ratio of medians. The redactor's own
cost per event, timed alone over the same lines, is reported beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_bundle import conversation  # noqa: E402

from workbench.log.bundle import BundleWriter  # noqa: E402
from workbench.log.redact import Redactor  # noqa: E402
from workbench.protocol.events import Event, ToolResult, encode_event  # noqa: E402

SECRETS = (
    "ANTHROPIC_API_KEY=sk-ant-api03-Xy7mK2pQ9vR4tW8zB1nC5dF0gH3jL6sA-9bE2kM7pQ1vR4tW8zB1nC5dF0gH3jL6sA",
    "curl -H 'Authorization: Bearer aB3dE5gH7jK9mN1pQ3sT' https://api.example.com/v1",
    "git remote -v: origin https://deploy:Tr0ub4dor-and-3@git.example.com/x.git (fetch)",
)


def session(n: int) -> list[Event]:
    events = conversation(n)
    for index in range(0, n, 10):
        event = events[index]
        if isinstance(event, ToolResult) or index % 100 == 0:
            text = (
                SECRETS[index % len(SECRETS)] if index % 100 == 0 else "see https://docs.python.org/3/library/re.html"
            )
            events[index] = ToolResult(agent="primary", tool_use_id=f"t{index}", name="Bash", content=text)
    return events


class _Unmasked(Redactor):
    def __call__(self, text: str) -> str:
        return text


async def append_seconds(folder: Path, events: list[Event], redactor: Redactor) -> float:
    writer = BundleWriter(folder, "bench", fsync="never", redactor=redactor)
    await writer.start()
    start = time.process_time()
    await asyncio.gather(*(writer.submit(e) for e in events))
    elapsed = time.process_time() - start
    await writer.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 20_000 if args.quick else 100_000
    runs = 3 if args.quick else 7
    events = session(n)
    masked: list[float] = []
    plain: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            plain.append(asyncio.run(append_seconds(Path(tmp) / f"plain-{run}", events, _Unmasked())))
            masked.append(asyncio.run(append_seconds(Path(tmp) / f"masked-{run}", events, Redactor())))
            print(f"run {run}: unmasked {plain[-1]:.2f}s, masked {masked[-1]:.2f}s", file=sys.stderr)
        text = (Path(tmp) / "masked-0" / "events.jsonl").read_text()
        assert "Tr0ub4dor" not in text and "sk-ant-api03-Xy7" not in text
    ratio = statistics.median(masked) / statistics.median(plain)
    lines = [encode_event(e) for e in events]
    redactor = Redactor()
    alone = []
    for _ in range(runs):
        start = time.process_time()
        for line in lines:
            redactor(line)
        alone.append(time.process_time() - start)
    print(
        json.dumps(
            {
                "bench": "redact",
                "case": "append",
                "fsync": "never",
                "events": n,
                "unmasked_s": round(statistics.median(plain), 3),
                "masked_s": round(statistics.median(masked), 3),
                "events_per_s": round(n / statistics.median(masked)),
                "overhead_share": round(ratio - 1, 4),
                "redact_us_per_event": round(statistics.median(alone) / n * 1e6, 2),
                "redact_share_of_unmasked": round(statistics.median(alone) / statistics.median(plain), 4),
                "runs": runs,
            }
        )
    )
    print(
        json.dumps({"bench": "redact", "case": "summary", "cpus": os.cpu_count(), "python": platform.python_version()})
    )


if __name__ == "__main__":
    main()
