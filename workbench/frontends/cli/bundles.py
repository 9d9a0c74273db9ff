"""The bundle commands of the CLI: import, export, search, rm, rename (under ``bundles``) and ``replay``.

``add_commands`` declares them on the CLI's parsers and ``run_command`` runs the
one parsed; each command is also a plain async function. Heavy imports stay
inside the functions: ``workbench --help`` must not load the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from workbench.frontends.cli.pipes import silence_stdout

if TYPE_CHECKING:
    from workbench.engine.config import Config

BUNDLE_COMMANDS = frozenset({"import", "export", "search", "rm", "rename"})
DEFAULT_MAX_GAP_S = 5.0


def _speed(text: str) -> float | None:
    if text.lower() in ("max", "inf"):
        return None
    try:
        value = float(text.lower().removesuffix("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a speed: use a factor like 1, 10x, or max") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the speed must be positive")
    return value


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date: use YYYY-MM-DD or an ISO time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _until(text: str) -> datetime:
    """``--until 2026-03-05`` includes that whole day."""
    value = _when(text)
    return value + timedelta(days=1) if len(text) == 10 else value


def add_commands(
    bundles: argparse._SubParsersAction, top: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> None:
    """Declare the commands on ``workbench bundles …`` and ``workbench …``."""
    imp = bundles.add_parser(
        "import", parents=[common], help="import Claude Code / Codex transcripts or a bundle export"
    )
    imp.add_argument("paths", nargs="*", type=Path, help="files or folders (default: find them under your home folder)")
    exp = bundles.add_parser("export", parents=[common], help="write a session as Markdown or JSONL")
    exp.add_argument("id", help="a session id or a unique prefix of one")
    exp.add_argument("--format", choices=["markdown", "jsonl"], default="markdown")
    exp.add_argument("-o", "--output", type=Path, help="a file to write (default: standard output)")
    find = bundles.add_parser(
        "search", parents=[common], help="search every session's messages, tool calls and results"
    )
    find.add_argument("query")
    find.add_argument("--since", type=_when, help="sessions created on or after this date")
    find.add_argument("--until", type=_until, help="sessions created up to this date (included)")
    find.add_argument("--model", help="sessions whose model contains this text")
    find.add_argument("--context", type=int, default=1, help="lines of context around each hit")
    rm = bundles.add_parser("rm", parents=[common], help="delete a session")
    rm.add_argument("id", help="a session id or a unique prefix of one")
    rename = bundles.add_parser("rename", parents=[common], help='give a session a title ("" restores the derived one)')
    rename.add_argument("id", help="a session id or a unique prefix of one")
    rename.add_argument("title")
    replay = top.add_parser("replay", parents=[common], help="replay a session's events with their original timing")
    replay.add_argument("id", help="a session id or a unique prefix of one")
    replay.add_argument("--speed", type=_speed, default=1.0, help="1, 10x, … or max (default: 1)")
    replay.add_argument(
        "--max-gap",
        type=float,
        default=DEFAULT_MAX_GAP_S,
        help=f"longest pause between two events, in seconds (default: {DEFAULT_MAX_GAP_S:g})",
    )


def run_command(args: argparse.Namespace, config: Config) -> int | None:
    """Run the parsed command if it is one of these; None when it is not."""
    command: Awaitable[int]
    if args.command == "replay":
        command = replay_command(config, args.id, speed=args.speed, max_gap_s=args.max_gap)
    elif args.command == "bundles" and args.bundles_command in BUNDLE_COMMANDS:
        name = args.bundles_command
        if name == "import":
            command = import_command(config, args.paths)
        elif name == "export":
            command = export_command(config, args.id, args.format, args.output)
        elif name == "search":
            command = search_command(
                config, args.query, since=args.since, until=args.until, model=args.model, context=args.context
            )
        elif name == "rm":
            command = rm_command(config, args.id)
        else:
            command = rename_command(config, args.id, args.title)
    else:
        return None
    try:
        return asyncio.run(command)
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        silence_stdout()
        return 1


# ---------------------------------------------------------------- the commands


async def import_command(config: Config, paths: list[Path], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Import each transcript the paths name, and give an account of each: kept, skipped and why."""
    from collections import Counter

    from workbench.engine.engine import store_for
    from workbench.log.bundle import BundleError
    from workbench.log.importers import ImportIndex, import_file, sources

    store = store_for(config)
    missing = [path for path in paths if not path.exists()]
    for path in missing:
        print(f"workbench: cannot import {path}: no such file", file=err)
    found = sources([path for path in paths if path.exists()] if paths else [Path.home()])
    for note in found.left_out:
        print(f"left out {note}", file=out)
    if not found.found:
        if not missing:
            print("nothing to import: no Claude Code or Codex transcripts found", file=err)
        return 1
    index = ImportIndex(store)
    outcomes: Counter[str] = Counter()
    for source in found.found:
        try:
            report = await import_file(store, source.path, source.format, index)
        except (OSError, ValueError, BundleError) as exc:
            print(f"workbench: cannot import {source.path}: {exc}", file=err)
            outcomes["failed"] += 1
            continue
        outcomes[report.outcome] += 1
        print(report, file=out)
        for problem in report.problems:
            print(f"  warning: skipped {problem}", file=err)
    done = ", ".join(f"{n} {what}" for what, n in outcomes.items())
    print(f"{sum(outcomes.values())} file(s) into {store.root}: {done}", file=err)
    return 0 if outcomes["new"] + outcomes["updated"] + outcomes["unchanged"] + outcomes["kept"] else 1


async def export_command(
    config: Config,
    session: str,
    fmt: str,
    output: Path | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    from workbench.engine.engine import store_for
    from workbench.engine.pricing import PriceTable
    from workbench.engine.views.spend import cost_report
    from workbench.log.bundle import BundleError
    from workbench.log.export import export

    store = store_for(config)
    prices = PriceTable(config.prices)
    try:
        chunks = await export(store, store.resolve(session), fmt, lambda events: cost_report(events, prices))  # type: ignore[arg-type]
    except BundleError as exc:
        print(f"workbench: {exc}", file=err)
        return 1
    if output is None:
        out.writelines(chunks)
        return 0
    try:
        # a transcript is as private as its bundle: an existing file is made private too, before anything is written
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(chunks)
    except OSError as exc:
        print(f"workbench: cannot write {output}: {exc.strerror or exc}", file=err)
        return 1
    print(f"wrote {output}", file=err)
    return 0


async def replay_command(
    config: Config,
    session: str,
    *,
    speed: float | None = 1.0,
    max_gap_s: float | None = DEFAULT_MAX_GAP_S,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> int:
    from workbench.engine.engine import store_for
    from workbench.engine.replay import replay_session
    from workbench.log.bundle import BundleError
    from workbench.log.bus import EventBus
    from workbench.log.transcript import describe
    from workbench.protocol.events import Event

    store = store_for(config)
    bus = EventBus()
    replaying = asyncio.current_task()
    reader_gone = False

    def show(e: Event) -> None:
        nonlocal reader_gone
        try:
            print(
                f"[{e.ts:%H:%M:%S}] {e.seq:>5} {e.agent or 'session'} · {e.kind}: {describe(e)}", file=out, flush=True
            )
        except BrokenPipeError:
            # the bus shields the replay from its listeners: stopping it is this listener's job
            reader_gone = True
            if replaying is not None:
                replaying.cancel()

    bus.subscribe(show)  # type: ignore[arg-type]
    try:
        count = await replay_session(store, store.resolve(session), bus, speed=speed, max_gap_s=max_gap_s, sleep=sleep)
    except BundleError as exc:
        print(f"workbench: {exc}", file=err)
        return 1
    except asyncio.CancelledError:
        if not reader_gone:
            raise
        raise BrokenPipeError from None
    print(f"replayed {count} events", file=err)
    return 0


async def search_command(
    config: Config,
    query: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    model: str | None = None,
    context: int = 1,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    from workbench.engine.engine import store_for
    from workbench.log.catalog import SessionFilter
    from workbench.log.search import search

    where = SessionFilter(since=since, until=until, model=model)
    sessions = 0
    async for found in search(store_for(config), query, where=where, context=context):
        sessions += 1
        more = f" (showing {len(found.hits)} of {found.total})" if found.total > len(found.hits) else ""
        print(f"{found.meta.id}  {found.meta.title}{more}", file=out)
        for hit in found.hits:
            print(f"  seq {hit.seq} · {hit.agent} · {hit.kind}", file=out)
            for line in hit.before:
                print(f"      {line}", file=out)
            print(f"    > {hit.line}", file=out)
            for line in hit.after:
                print(f"      {line}", file=out)
    if not sessions:
        print(f"no session mentions '{query}'", file=err)
    return 0


async def rm_command(config: Config, session: str, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    from workbench.engine.engine import store_for
    from workbench.log.bundle import BundleError
    from workbench.log.catalog import delete

    store = store_for(config)
    try:
        removed = await delete(store, store.resolve(session))
    except (BundleError, OSError) as exc:
        print(f"workbench: {exc}", file=err)
        return 1
    print(f"deleted {removed.name}", file=out)
    return 0


async def rename_command(
    config: Config, session: str, title: str, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    from workbench.engine.engine import store_for
    from workbench.log.bundle import BundleError
    from workbench.log.catalog import rename

    store = store_for(config)
    try:
        session_id = store.resolve(session)
        shown = await rename(store, session_id, title)
    except BundleError as exc:
        print(f"workbench: {exc}", file=err)
        return 1
    except OSError as exc:
        print(f"workbench: cannot rename {session}: {exc.strerror or exc} ({exc.filename or store.root})", file=err)
        return 1
    print(f"{session_id}  {shown}", file=out)
    return 0
