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

from workbench.frontends.cli.bundles import add_commands as add_bundle_commands
from workbench.frontends.cli.bundles import run_command as run_bundle_command
from workbench.frontends.cli.worktrees import add_commands as add_worktree_commands
from workbench.frontends.cli.worktrees import run_command as run_worktree_command


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
    parser.add_argument("--brain", choices=["auto", "scripted", "anthropic"], help="which brain to use")
    parser.add_argument("--script", type=Path, help="a script file for the scripted brain")
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", parents=[common], help="run the primary agent on a prompt, headless")
    run.add_argument("prompt")
    run.add_argument("--brain", choices=["auto", "scripted", "anthropic"])
    run.add_argument("--script", type=Path, help="a script file for the scripted brain")
    run.add_argument("--yes", action="store_true", help="allow every tool call that would ask")
    run.add_argument("--mode", choices=["default", "acceptEdits", "plan", "bypass"], help="permission mode")

    primers = sub.add_parser("primers", help="list and preview primers")
    primers_sub = primers.add_subparsers(dest="primers_command", required=True)
    primers_sub.add_parser("ls", help="every primer, in lookup order, with what it shadows")
    show_primer = primers_sub.add_parser("show", help="print a primer resolved, with its token count")
    show_primer.add_argument("--yes", action="store_true", help="allow the primer's commands without asking")
    show_primer.add_argument("name")
    show_primer.add_argument("args", nargs=argparse.REMAINDER, help="the primer's arguments")

    mcp = sub.add_parser("mcp", help="MCP servers")
    mcp_sub = mcp.add_subparsers(dest="mcp_command", required=True)
    mcp_sub.add_parser("ls", help="each configured server, its status and its tools")

    bundles = sub.add_parser("bundles", help="list and read session bundles")
    bundles_sub = bundles.add_subparsers(dest="bundles_command", required=True)
    bundles_sub.add_parser("ls", parents=[common], help="list sessions, newest first")
    show = bundles_sub.add_parser("show", parents=[common], help="print a session's transcript")
    show.add_argument("id", help="a session id or a unique prefix of one")
    add_bundle_commands(bundles_sub, sub, common)
    add_worktree_commands(bundles_sub, sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        # The app loads some 50k long-lived objects (modules, classes, schemas) before its first
        # screen; a collector left on walks them again and again as they arrive (about a tenth
        # of the time to the first screen). It runs again once they are loaded and frozen out
        # of every later collection, whose pauses on the event loop are the shorter for it.
        gc.disable()
    from workbench.engine.config import ConfigError, load_config

    try:
        config = load_config(Path.cwd())
    except ConfigError as exc:
        print(f"workbench: bad configuration\n{exc}", file=sys.stderr)
        return 2
    if getattr(args, "bundles", None):
        config = config.model_copy(update={"bundles": args.bundles})
    if getattr(args, "brain", None):
        config = config.model_copy(update={"brain": args.brain})

    if args.command == "run":
        from workbench.frontends.cli.headless import run_headless

        if args.mode:
            config.permissions.mode = args.mode
        return asyncio.run(run_headless(config, args.prompt, yes=args.yes, script=args.script))
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

        return asyncio.run(list_servers(config.mcp, Path.cwd()))
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

    from workbench.frontends.tui.app import run_app

    gc.freeze()
    gc.enable()
    return run_app(config, script=args.script)
