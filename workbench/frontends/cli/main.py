"""``workbench``: the app, and its headless subcommands.

Imports stay lazy: the first screen must not wait for the Anthropic SDK, the
tokenizer or the bundle store.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from workbench import __version__
from workbench.frontends.cli.bundles import add_commands as add_bundle_commands
from workbench.frontends.cli.bundles import run_command as run_bundle_command
from workbench.frontends.cli.worktrees import add_commands as add_worktree_commands
from workbench.frontends.cli.worktrees import run_command as run_worktree_command

TRUST_HELP = (
    "apply this folder's own hooks, MCP servers, primer approvals and wider settings "
    "(without it, a headless run applies none of them)"
)

if TYPE_CHECKING:
    from workbench.engine.config import Config
    from workbench.frontends.tui.session_start import SessionStart


def _usd(text: str) -> float:
    try:
        value = float(text.lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an amount in dollars (say 5 or 0.50)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the cap must be more than $0")
    return value


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand's own default must not erase a --bundles given before it
    common.add_argument(
        "--bundles",
        type=Path,
        default=argparse.SUPPRESS,
        help="the bundle store (default: $WORKBENCH_BUNDLES or XDG data dir)",
    )

    parser = argparse.ArgumentParser(
        prog="workbench", description="A terminal workbench for LLM agents.", parents=[common]
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    parser.add_argument("--brain", choices=["auto", "scripted", "anthropic"], help="which brain to use")
    parser.add_argument("--script", type=Path, help="a script file for the scripted brain")
    budget_help = "pause the agents once the session has spent this many dollars ([limits] max_budget_usd)"
    parser.add_argument("--max-budget-usd", type=_usd, help=budget_help)
    opening = parser.add_mutually_exclusive_group()
    opening.add_argument("--continue", dest="continue_latest", action="store_true",
                         help="open the latest session of this folder where it stopped")  # fmt: skip
    opening.add_argument("--resume", nargs="?", const="", metavar="ID",
                         help="open a session where it stopped (default: the latest here)")  # fmt: skip
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", parents=[common], help="run the primary agent on a prompt, headless")
    run.add_argument("prompt")
    run.add_argument("--brain", choices=["auto", "scripted", "anthropic"])
    run.add_argument("--script", type=Path, help="a script file for the scripted brain")
    run.add_argument("--yes", action="store_true", help="allow every tool call that would ask")
    run.add_argument("--mode", choices=["default", "acceptEdits", "plan", "bypass"], help="permission mode")
    run.add_argument("--max-budget-usd", type=_usd, default=argparse.SUPPRESS, help=budget_help)
    run.add_argument("--detach", action="store_true",
                     help="start the prompt as a background agent in the daemon and return at once")  # fmt: skip

    serve = sub.add_parser("serve", parents=[common], help="run the daemon: sessions that outlive the screens")
    _cluster_options(serve, "coordinate a cluster: background and delegated agents run on its workers")
    worker = sub.add_parser("worker", parents=[common], help="run cluster agents on this machine")
    _cluster_options(worker, "the cluster to take runs from (default: [cluster] url)")
    worker.add_argument("--slots", type=int, default=10, help="runs held at once (default 10)")
    worker.add_argument("--name", help="this worker's name (default: HOST-PID)")
    worker.add_argument("--workdir", type=Path, help="where the runs' checkouts go (default: the user's cache)")
    patch = sub.add_parser("patch", parents=[common], help="what a cluster agent changed: show it, or apply it")
    patch.add_argument("session", help="a session id or a unique prefix of one")
    patch.add_argument("agent", help="the agent, e.g. agent-3")
    patch.add_argument("--apply", action="store_true", help="apply it to the session's folder (git apply --3way)")
    sub.add_parser("ps", parents=[common], help="the daemon's live sessions and their agents")
    attach = sub.add_parser("attach", parents=[common], help="open the TUI on a session the daemon runs")
    attach.add_argument("session", nargs="?", help="a session id or prefix (default: the latest)")
    run.add_argument("--trust", action="store_true", help=TRUST_HELP)

    primers = sub.add_parser("primers", help="list and preview primers")
    primers_sub = primers.add_subparsers(dest="primers_command", required=True)
    primers_sub.add_parser("ls", help="every primer, in lookup order, with what it shadows")
    show_primer = primers_sub.add_parser("show", help="print a primer resolved, with its token count")
    show_primer.add_argument("--yes", action="store_true", help="allow the primer's commands without asking")
    show_primer.add_argument("--trust", action="store_true", help=TRUST_HELP)
    show_primer.add_argument("name")
    show_primer.add_argument("args", nargs=argparse.REMAINDER, help="the primer's arguments")

    mcp = sub.add_parser("mcp", help="MCP servers")
    mcp_sub = mcp.add_subparsers(dest="mcp_command", required=True)
    mcp_ls = mcp_sub.add_parser("ls", help="each configured server, its status and its tools")
    mcp_ls.add_argument("--trust", action="store_true", help=TRUST_HELP)

    bundles = sub.add_parser("bundles", help="list and read session bundles")
    bundles_sub = bundles.add_subparsers(dest="bundles_command", required=True)
    bundles_sub.add_parser("ls", parents=[common], help="list sessions, newest first")
    show = bundles_sub.add_parser("show", parents=[common], help="print a session's transcript")
    show.add_argument("id", help="a session id or a unique prefix of one")
    add_bundle_commands(bundles_sub, sub, common)
    add_worktree_commands(bundles_sub, sub, common)
    return parser


def _cluster_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--cluster", metavar="URL", help=f"{what}: nats://[user:pass@|token@]HOST:4222, tls://…")
    parser.add_argument("--creds", type=Path, help="a NATS credentials file (user JWT and nkey seed)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        # The app loads some 50k long-lived objects (modules, classes, schemas) before its first
        # screen; a collector left on walks them again and again as they arrive (about a tenth
        # of the time to the first screen). It runs again once they are loaded and frozen out
        # of every later collection, whose pauses on the event loop are the shorter for it.
        gc.disable()
    from workbench.engine.config import ConfigError, load_config

    # the app asks about an untrusted folder on its trust screen; headless commands trust it only when told
    trusted = bool(getattr(args, "trust", False))
    try:
        config = load_config(Path.cwd(), trusted=trusted)
    except ConfigError as exc:
        print(f"workbench: bad configuration\n{exc}", file=sys.stderr)
        return 2
    if getattr(args, "bundles", None):
        config = config.model_copy(update={"bundles": args.bundles})
    if getattr(args, "brain", None):
        config = config.model_copy(update={"brain": args.brain})
    if getattr(args, "max_budget_usd", None):
        config.limits.max_budget_usd = args.max_budget_usd

    if args.command == "run":
        if args.detach:
            from workbench.frontends.cli.daemon import run_detached

            return asyncio.run(run_detached(config, args.prompt))
        from workbench.frontends.cli.headless import run_headless

        if args.mode:
            config.permissions.mode = args.mode
        return asyncio.run(run_headless(config, args.prompt, yes=args.yes, script=args.script))
    if args.command in ("serve", "worker") and (args.cluster or args.creds):
        from workbench.frontends.cli.cluster import with_cluster

        config = with_cluster(config, args.cluster, args.creds)
    if args.command in ("serve", "ps"):
        from workbench.frontends.cli.daemon import ps, serve

        return asyncio.run(serve(config) if args.command == "serve" else ps(config))
    if args.command == "worker":
        from workbench.frontends.cli.cluster import run_worker

        if args.slots < 1:
            print("workbench worker: --slots must be at least 1", file=sys.stderr)
            return 2
        return asyncio.run(run_worker(config, name=args.name, slots=args.slots, workdir=args.workdir))
    if args.command == "patch":
        from workbench.frontends.cli.cluster import show_patch

        return asyncio.run(show_patch(config, args.session, args.agent, apply=args.apply))
    if args.command == "primers":
        from workbench.frontends.cli.primers import list_primers, show_primer, take_yes
        from workbench.frontends.cli.terminal import TerminalApprover

        if args.primers_command == "ls":
            return asyncio.run(list_primers(config, Path.cwd()))
        yes, words = take_yes(args.args)  # `primers show NAME ARGS --yes` as well as `--yes NAME ARGS`
        approver = TerminalApprover(args.yes or yes, sys.stdin, sys.stderr)
        return asyncio.run(show_primer(config, Path.cwd(), args.name, words, approver=approver))
    if args.command == "mcp":
        from workbench.frontends.cli.mcp import list_servers

        return asyncio.run(list_servers(config.mcp, Path.cwd(), project=config.project_trusted))
    ran = run_bundle_command(args, config)
    if ran is None:
        ran = run_worktree_command(args, config)
    if ran is not None:
        return ran
    if args.command == "bundles":
        from workbench.frontends.cli.headless import list_bundles, show_bundle

        if args.bundles_command == "ls":
            return asyncio.run(list_bundles(config))
        return asyncio.run(show_bundle(config, args.id))

    start = _session_start(args, config)
    if start is False:
        return 1
    from workbench.frontends.tui.app import run_app

    gc.freeze()
    gc.enable()
    return run_app(config, script=args.script, start=start or None, trust_gate=True)


def _session_start(args: argparse.Namespace, config: Config) -> SessionStart | None | Literal[False]:
    """What the app opens: a session resumed or attached to, a new one in the daemon, or (None) a new one
    here. False: it cannot, and the reason was printed."""
    from workbench.frontends.tui.session_start import DaemonSession, ResumedSession

    if args.command == "attach":
        from workbench.engine.engine import store_for
        from workbench.frontends.cli.daemon import live_session_or_exit

        session = live_session_or_exit(config, args.session)
        return DaemonSession(store_for(config).root, session) if session else False
    if args.continue_latest or args.resume is not None:
        from workbench.frontends.cli.headless import session_to_resume

        session_id = session_to_resume(config, args.resume or None)
        return ResumedSession(session_id) if session_id else False
    if config.engine == "daemon" or config.cluster.url:  # a cluster's coordinator is the daemon
        from workbench.engine.engine import store_for

        return DaemonSession(store_for(config).root)
    return None
