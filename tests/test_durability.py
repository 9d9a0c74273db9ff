"""Durability: a writer killed with SIGKILL at random moments never loses an acknowledged event.

Each round starts a writer process on the same session; it appends events of
random sizes and prints each seq once the writer has acknowledged it. The test
kills it at a random moment, then checks that every acknowledged event is on
disk intact, that nothing but a torn last line is wrong with the log, and the
next round (a fresh process) reopens the session and carries on after it.
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROUNDS = 15
SESSION = "20260101T000000Z-dura"
POLICIES = ("never", "interval", "always")


def body(seq: int) -> str:
    """The text of event ``seq``: its size varies from a few bytes to 160 KB, so writes tear."""
    size = random.Random(seq).choice([10, 100, 1000, 20_000, 160_000])
    return f"event {seq} " + "abcdefghij" * (size // 10)


async def _write_forever(folder: Path, fsync: str) -> None:
    from workbench.log.bundle import BundleReader, BundleWriter
    from workbench.log.meta import SessionMeta
    from workbench.protocol.events import UserMessage

    contents = await BundleReader(folder / "events.jsonl").read() if (folder / "events.jsonl").exists() else None
    meta = SessionMeta.rebuild(SESSION, contents.events, contents.size) if contents else None
    writer = BundleWriter(folder, SESSION, fsync=fsync, fsync_interval_s=0.01, meta=meta)  # type: ignore[arg-type]
    await writer.start()
    print("ready", flush=True)
    rng = random.Random()
    while True:
        acks = []
        for _ in range(rng.randint(1, 8)):
            # submit numbers the event synchronously: the next seq is known before it is queued
            acks.append(writer.submit(UserMessage(text=body(writer.last_seq + 1), agent="primary")))
        for ack in acks:
            event = await ack
            print(event.seq, flush=True)


def _round(folder: Path, fsync: str, rng: random.Random) -> list[int]:
    """Run a writer, kill it at a random moment; the seqs it acknowledged."""
    child = subprocess.Popen(
        [sys.executable, __file__, str(folder), fsync],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    wanted = rng.randint(1, 120)
    acked: list[int] = []
    while len(acked) < wanted:
        line = child.stdout.readline()
        assert line, "the writer died on its own"
        acked.append(int(line))
    time.sleep(rng.random() * 0.01)
    child.send_signal(signal.SIGKILL)
    rest, _ = child.communicate()
    acked += [int(x) for x in rest.split()]
    assert child.returncode == -signal.SIGKILL
    return acked


def _check(folder: Path, acked: list[int]) -> tuple[int, bool]:
    """Every acknowledged event intact, numbered without gaps; at most a torn tail. Returns last seq, torn."""
    from workbench.log.bundle import parse_bundle

    contents = parse_bundle((folder / "events.jsonl").read_bytes())
    seqs = [e.seq for e in contents.events]
    assert seqs == list(range(1, len(seqs) + 1)), "seqs must run 1, 2, 3 … with no gap or repeat"
    assert set(acked) <= set(seqs), f"acknowledged but lost: {sorted(set(acked) - set(seqs))[:5]}"
    for event in contents.events:
        assert event.text == body(event.seq), f"event {event.seq} is corrupt"
    torn = bool(contents.problems)
    if torn:
        [problem] = contents.problems
        assert problem.reason.startswith("torn last line") and problem.line == len(seqs) + 1
    return seqs[-1], torn


def test_sigkill_at_random_moments_loses_no_acknowledged_event(tmp_path: Path) -> None:
    folder = tmp_path / SESSION
    rng = random.Random(20260101)
    last = 0
    acked_total = 0
    for round_number in range(ROUNDS):
        acked = _round(folder, POLICIES[round_number % len(POLICIES)], rng)
        assert acked and acked[0] == last + 1, "a new writer continues right after the last whole event"
        last, _ = _check(folder, acked)
        acked_total += len(acked)
    assert acked_total >= ROUNDS

    # the app reopens it: the torn tail (if any) is cut, the next event follows the last whole one
    from workbench.log.bundle import BundleStore, parse_bundle
    from workbench.log.session import Session
    from workbench.protocol.events import UserMessage

    async def reopen() -> None:
        session = await Session.resume(BundleStore(tmp_path), SESSION, fsync="always")
        appended = await session.append(UserMessage(text=body(last + 1), agent="primary"))
        await session.close()
        assert appended.seq == last + 1

    asyncio.run(reopen())
    contents = parse_bundle((folder / "events.jsonl").read_bytes())
    assert contents.problems == [] and contents.events[-1].seq == last + 1


def test_a_line_cut_mid_write_is_reported_then_cut_by_the_next_writer(tmp_path: Path) -> None:
    """The torn tail a kill can leave, made on purpose: the kill rounds above tear only now and then."""
    folder = tmp_path / SESSION
    last, _ = _check(folder, _round(folder, "never", random.Random(1)))
    data = (folder / "events.jsonl").read_bytes()
    line = f'{{"v":1,"seq":{last + 1},"kind":"user_message","text":"{body(last + 1)}"}}\n'.encode()
    # whole lines only (the kill may have torn one already), then half of the next
    (folder / "events.jsonl").write_bytes(data[: data.rfind(b"\n") + 1] + line[: len(line) // 2])
    assert _check(folder, []) == (last, True)
    acked = _round(folder, "always", random.Random(2))
    assert acked[0] == last + 1
    assert _check(folder, acked)[0] >= last + 1


if __name__ == "__main__":
    asyncio.run(_write_forever(Path(sys.argv[1]), sys.argv[2]))
