"""Agents' worktrees and files from the command line: ``workbench worktrees ls|prune`` and
``workbench bundles files SESSION [--at SEQ] [--restore]``.

Heavy imports stay inside the functions: ``workbench --help`` must not load the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from workbench.engine.config import Config

STATUS_MARKS = {"same": " ", "restore": "~", "changed since": "!", "unknown": "?"}


def add_commands(
    bundles: argparse._SubParsersAction, top: argparse._SubParsersAction, common: argparse.ArgumentParser
) -> None:
    files = bundles.add_parser(
        "files", parents=[common], help="the files an agent changed, as they were at a seq; --restore puts them back"
    )
    files.add_argument("id", help="a session id or a unique prefix of one")
    files.add_argument("--at", type=int, metavar="SEQ", help="the point to look at (default: the end of the log)")
    files.add_argument("--agent", default="primary", help="whose files (default: primary, with the agents it started)")
    files.add_argument("--restore", action="store_true", help="write them as they were at SEQ")
    files.add_argument("--into", type=Path, help="the folder to compare and write (default: where the agent worked)")
    files.add_argument(
        "--force", action="store_true", help="also overwrite files changed since the agent's last change"
    )
    worktrees = top.add_parser("worktrees", parents=[common], help="agents' git worktrees of this repository")
    worktrees_sub = worktrees.add_subparsers(dest="worktrees_command", required=True)
    worktrees_sub.add_parser("ls", parents=[common], help="each agent worktree, its session and its changes")
    worktrees_sub.add_parser(
        "prune", parents=[common], help="remove worktrees no open session uses (their work is kept on the branch)"
    )


def run_command(args: argparse.Namespace, config: Config) -> int | None:
    if args.command == "worktrees":
        return asyncio.run(worktrees_command(config, args.worktrees_command, Path.cwd()))
    if args.command == "bundles" and args.bundles_command == "files":
        return asyncio.run(
            files_command(
                config, args.id, at=args.at, agent=args.agent, restore=args.restore, into=args.into, force=args.force
            )
        )
    return None


async def worktrees_command(
    config: Config, action: str, cwd: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    from workbench.engine.engine import store_for
    from workbench.engine.workspaces.git import GitError
    from workbench.engine.workspaces.leftovers import leftovers, prune

    store = store_for(config)
    try:
        if action == "prune":
            notes = await prune(cwd, store)
            for note in notes:
                print(note, file=out)
            if not notes:
                print("nothing to prune", file=err)
            return 0
        found, branches = await leftovers(cwd, store)
    except GitError as exc:
        print(f"workbench: {exc}", file=err)
        return 1
    for item in found:
        worktree = item.worktree
        if worktree.missing:
            changes = "folder gone"
        elif item.files is None:
            changes = "session gone"
        else:
            changes = f"{item.files} file(s) +{item.added} -{item.removed}"
        where = f"open in {item.in_use}" if item.in_use else "closed"
        print(f"{worktree.path}  {worktree.branch}  {changes}  (session {where})", file=out)
    for branch in branches:
        print(f"(kept, no worktree)  {branch}", file=out)
    if not found and not branches:
        print("no agent worktrees in this repository", file=err)
    return 0


async def files_command(
    config: Config,
    session: str,
    *,
    at: int | None = None,
    agent: str = "primary",
    restore: bool = False,
    into: Path | None = None,
    force: bool = False,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    from workbench.engine.engine import store_for
    from workbench.engine.workspaces import rewind
    from workbench.log.blobs import BlobStore
    from workbench.log.bundle import BundleError

    store = store_for(config)
    try:
        session_id = store.resolve(session)
        events = (await store.read(session_id)).events
    except BundleError as exc:
        print(f"workbench: {exc}", file=err)
        return 1
    last = max((e.seq for e in events), default=0)
    seq = last if at is None else at
    if not 1 <= seq <= last:
        print(f"workbench: seq {seq} is outside session {session_id} (seq 1 to {last})", file=err)
        return 1
    files = rewind.files_at(events, agent, seq)
    if not files:
        print(f"{agent} of {session_id} changed no files", file=err)
        return 0
    worked_in = Path(rewind.agent_root(events, agent) or Path.cwd())
    target = into or (worked_in if worked_in.is_dir() else Path.cwd())
    checks = rewind.check(files, target, force=force)
    blobs = BlobStore(store.folder(session_id))
    print(f"{len(files)} file(s) {agent} changed, as at seq {seq} of {session_id}, against {target}:", file=out)
    for item in checks:
        state = "unknown" if not item.file.wanted_known else "absent" if item.file.wanted is None else "present"
        note = f" ({item.note})" if item.note else ""
        print(f"  {STATUS_MARKS[item.status]} {item.file.path}  {state} then · {item.status}{note}", file=out)
    if not restore:
        return 0
    written, skipped = rewind.restore(checks, target, blobs)
    print(f"restored {len(written)} file(s) into {target}", file=out)
    for path, why in skipped.items():
        print(f"  left {path}: {why}", file=err)
    if any(item.status == "changed since" for item in checks):
        print("files changed since were not overwritten: --force writes them too", file=err)
        return 1
    return 0
