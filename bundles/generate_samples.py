"""Regenerate the sample sessions in ``bundles/samples/`` with the app itself, offline.

    .venv/bin/python bundles/generate_samples.py [--out DIR]

The engine runs on the scripted brain with a fixed clock, fixed session ids and
a fixed workspace path (it is in the system prompt), so the same code always
writes the same bytes. No two agents run at once (delegation goes down a chain,
not out to parallel siblings): concurrent agents would interleave their events
in an order that varies from run to run. The samples folder is a store: ``workbench --bundles
bundles/samples`` browses it.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.engine import Engine
from workbench.engine.remount import RemountPlan, remount
from workbench.log.bundle import BundleStore
from workbench.protocol.commands import Close, Send

SAMPLES = Path(__file__).resolve().parent / "samples"
WORKSPACE = Path("/tmp/workbench-samples/demo")
FILES = {
    "README.md": "# Greeter\n\nA tiny project that prints greetings.\n\n## Usage\n\nRun `python greet.py NAME`.\n",
    "greet.py": 'import sys\n\n\ndef greeting(name: str) -> str:\n    return f"Hello, {name}!"\n\n\n'
    'if __name__ == "__main__":\n    print(greeting(sys.argv[1]))\n',
    "NOTES.md": "- greeting() should accept a title (Dr, Ms) next release.\n",
}
READING = "20260101T090000Z-read"
DELEGATION = "20260101T091500Z-dlgt"
REMOUNT = "20260101T093000Z-rmnt"
REMOUNT_AT = 12  # the first reply of the reading session


def clock_from(start: datetime, step_s: float = 0.75) -> Callable[[], datetime]:
    ticks = iter(range(1_000_000))
    return lambda: start + timedelta(seconds=step_s * next(ticks))


def start_of(session_id: str) -> datetime:
    return datetime.strptime(session_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def make_workspace() -> None:
    shutil.rmtree(WORKSPACE, ignore_errors=True)
    WORKSPACE.mkdir(parents=True)
    for name, text in FILES.items():
        (WORKSPACE / name).write_text(text)


async def session(
    store: BundleStore,
    session_id: str,
    prompts: list[str],
    remount_from: RemountPlan | None = None,
) -> None:
    config = Config(bundles=store.root, fsync="never")
    bench = await Engine.open(
        config,
        WORKSPACE,
        ScriptedBrain(),
        store=store,
        session_id=session_id,
        clock=clock_from(start_of(session_id)),
        remount=remount_from.event if remount_from else None,
        title=remount_from.title if remount_from else "",
    )
    for prompt in prompts:
        await bench.submit(Send(text=prompt))
        await bench.settled()
    await bench.wait_all()
    await bench.submit(Close())


async def generate(out: Path) -> list[str]:
    """Write the samples into ``out`` (their old folders are replaced); returns their ids."""
    make_workspace()
    store = BundleStore(out)
    for session_id in (READING, DELEGATION, REMOUNT):
        shutil.rmtree(store.folder(session_id), ignore_errors=True)
    await session(
        store, READING, ["read README.md", "search for greeting in greet.py", "summarise the conversation so far"]
    )
    await session(store, DELEGATION, ["delegate: delegate read NOTES.md to a sub-agent", "list the markdown files"])
    plan = await remount(store, READING, up_to_seq=REMOUNT_AT)
    await session(store, REMOUNT, ["read NOTES.md"], remount_from=plan)
    for lock in out.glob("*/lock"):  # the writers' session locks, released: nothing to ship
        lock.unlink()
    return [READING, DELEGATION, REMOUNT]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLES, help=f"where to write them (default: {SAMPLES})")
    args = parser.parse_args()
    for session_id in asyncio.run(generate(args.out)):
        print(args.out / session_id)


if __name__ == "__main__":
    main()
