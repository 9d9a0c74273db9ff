"""``workbench serve``, ``ps``, ``run --detach``, and the sessions the TUI attaches to."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

from workbench.engine.config import Config
from workbench.engine.engine import SessionInfo, store_for
from workbench.engine.transports import wire
from workbench.engine.transports.cluster.connection import ClusterError
from workbench.engine.transports.cluster.coordinator import Coordinator
from workbench.engine.transports.daemon import Daemon, DaemonRunning, config_for
from workbench.engine.transports.daemon_client import DaemonRefused, DaemonUnavailable, connect
from workbench.frontends.cli.cluster import print_workers
from workbench.protocol.commands import Outcome, Spawn


async def serve(config: Config, err: TextIO = sys.stderr) -> int:
    """Run the daemon in the foreground until SIGTERM, SIGINT or ``shutdown``; with ``[cluster] url``,
    as the cluster's coordinator."""
    logging.basicConfig(level=logging.INFO, stream=err, format="%(asctime)s %(levelname)s %(message)s")
    coordinator = Coordinator(config.cluster) if config.cluster.url else None
    daemon = Daemon(config, store_for(config).root, configs=config_for, coordinator=coordinator)
    try:
        await daemon.start()
    except DaemonRunning as exc:
        print(f"workbench: {exc}", file=err)
        return 1
    except ClusterError as exc:
        print(f"workbench: {exc}", file=err)
        await daemon.stop()
        return 1
    print(f"workbench daemon serving {daemon.store.root} on {daemon.socket}", file=err, flush=True)
    if coordinator is not None:
        print(f"coordinating the cluster at {coordinator.url}", file=err, flush=True)
    resumed = ", ".join(daemon.sessions) or "none"
    print(f"sessions resumed: {resumed}", file=err, flush=True)
    await daemon.serve_forever()
    return 0


async def ps(config: Config, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Every live session of the store's daemon, with its agents and their states."""
    try:
        connection, _ = await connect(store_for(config).root)
    except DaemonUnavailable as exc:
        print(f"workbench: {exc}", file=err)
        return 1
    try:
        sessions = await connection.request(wire.ListSessions())
        cluster = await connection.request(wire.ListWorkers())
    finally:
        await connection.close()
    if not sessions:
        print("no live sessions", file=out)
    print_sessions(sessions, out)
    print_workers(cluster, out)
    return 0


def print_sessions(sessions: list[dict[str, Any]], out: TextIO) -> None:
    for session in sessions:
        watchers = session["clients"]
        watched = f"{watchers} screen{'s' if watchers != 1 else ''} attached" if watchers else "no screen attached"
        title = f"  {session['title']}" if session["title"] else ""
        print(f"{session['session']}{title}  ({session['cwd']}; {watched}; cost {session['cost']})", file=out)
        for agent in session["agents"]:
            indent = "  " * agent["level"]
            state = agent["state"].replace("_", " ")
            spent = agent["cost"]
            if agent["cost_with_descendants"] != spent:
                spent += f" ({agent['cost_with_descendants']} with its sub-agents)"
            where = f"@{agent['worker']}" if agent.get("worker") else ""
            line = f"{indent}{agent['id']:<10} {state:<18} {agent['mode']:<10} {where:<12} {spent:<10} {agent['name']}"
            print(line, file=out)


async def run_detached(config: Config, task: str, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """A new session in the daemon (started if none runs) with ``task`` as a background agent; returns at once."""
    try:
        connection, _ = await connect(store_for(config).root, start=True)
    except DaemonUnavailable as exc:
        print(f"workbench: {exc}", file=err)
        return 1
    try:
        info = SessionInfo.model_validate(
            await connection.request(wire.OpenSession(cwd=str(Path.cwd()), title=task[:80]))
        )
        spawn = Spawn(mode="background", task=task)
        outcome = Outcome.model_validate(await connection.request(wire.Submit(session=info.session_id, command=spawn)))
    except (DaemonRefused, DaemonUnavailable) as exc:
        print(f"workbench: {exc}", file=err)
        return 1
    finally:
        await connection.close()
    if not outcome.ok:
        print(f"workbench: {outcome.message}", file=err)
        return 1
    print(f"session {info.session_id}: {outcome.agent} runs in the background", file=out)
    print(f"watch it: workbench attach {info.session_id} · list: workbench ps", file=out)
    return 0


async def latest_live_session(config: Config) -> str | None:
    """The daemon's live session opened last (ids sort by time), if it runs any."""
    connection, _ = await connect(store_for(config).root)
    try:
        sessions = await connection.request(wire.ListSessions())
    finally:
        await connection.close()
    return max((s["session"] for s in sessions), default=None)


def live_session_or_exit(config: Config, session: str | None, err: TextIO = sys.stderr) -> str | None:
    """The session ``workbench attach`` opens: the one named, or the daemon's latest; None after saying why not."""
    if session:
        return session
    try:
        found = asyncio.run(latest_live_session(config))
    except DaemonUnavailable as exc:
        print(f"workbench: {exc}", file=err)
        return None
    if found is None:
        print("workbench: the daemon runs no session; start one: workbench run --detach TASK", file=err)
    return found
