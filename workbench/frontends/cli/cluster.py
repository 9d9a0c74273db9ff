"""``workbench worker``, ``workbench patch``, and the cluster's lines in ``workbench ps``."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from workbench.engine.config import Config
from workbench.engine.transports.cluster.connection import ClusterError, shown_url
from workbench.engine.transports.cluster.coordinator import patch_path
from workbench.engine.transports.cluster.heartbeat import WorkerBeat
from workbench.engine.transports.cluster.worker import Worker, default_name, default_workdir
from workbench.frontends.cli.headless import stored_session
from workbench.protocol.events import SessionStarted


def with_cluster(config: Config, url: str | None, creds: Path | None) -> Config:
    """The config with the cluster named on the command line in place of ``[cluster]``'s."""
    changes: dict[str, Any] = {}
    if url:
        changes["url"] = url
    if creds:
        changes["creds"] = creds
    if not changes:
        return config
    cluster = config.cluster.model_validate({**config.cluster.model_dump(), **changes})
    return config.model_copy(update={"cluster": cluster})


async def run_worker(
    config: Config, *, name: str | None, slots: int, workdir: Path | None, err: TextIO = sys.stderr
) -> int:
    """Take runs from the cluster until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, stream=err, format="%(asctime)s %(levelname)s %(message)s")
    name = name or default_name()
    worker = Worker(config, name=name, slots=slots, workdir=workdir or default_workdir(name))
    try:
        await worker.connect()
    except ClusterError as exc:
        print(f"workbench worker: {exc}", file=err, flush=True)
        return 1
    assert worker.brain is not None
    where = shown_url(worker.config.cluster.url or "")
    print(
        f"workbench worker {name}: {slots} slots on {where} ({worker.brain.label}); working in {worker.workdir}",
        file=err,
        flush=True,
    )
    await worker.serve()
    return 0


def print_workers(cluster: dict[str, Any] | None, out: TextIO) -> None:
    """The cluster section of ``workbench ps``."""
    if cluster is None:
        return
    beats = [WorkerBeat.model_validate(w) for w in cluster["workers"]]
    state = "connected" if cluster["connected"] else "unreachable"
    print(f"cluster {cluster['url']} ({state}): {len(beats)} worker{'s' if len(beats) != 1 else ''}", file=out)
    now = datetime.now(UTC)
    for beat in beats:
        print(
            f"  {beat.name:<16} {beat.host:<16} slots {beat.slots:<4} running {beat.running:<4} "
            f"load {beat.load:>4.0%}  heartbeat {beat.age_s(now):.1f} s ago",
            file=out,
        )


async def show_patch(
    config: Config, session: str, agent: str, *, apply: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Print what a cluster agent changed, or apply it to the session's folder (``git apply --3way``)."""
    found = await stored_session(config, session, err)
    if found is None:
        return 1
    folder, session_id, contents = found
    path = patch_path(folder, agent)
    if not path.is_file():
        print(f"workbench: {agent} of {session_id} left no patch (it changed nothing, or ran here)", file=err)
        return 1
    patch = path.read_bytes()
    if not apply:
        out.write(patch.decode(errors="replace"))
        return 0
    started = next((e for e in contents.events if isinstance(e, SessionStarted)), None)
    cwd = Path(started.cwd) if started is not None and started.cwd else Path.cwd()
    done = await asyncio.to_thread(
        subprocess.run, ["git", "apply", "--3way", "-"], input=patch, cwd=cwd, capture_output=True
    )
    if done.returncode != 0:
        print(f"workbench: the patch does not apply in {cwd}:\n{done.stderr.decode(errors='replace')}", file=err)
        return 1
    print(f"{agent}'s changes applied in {cwd} (staged; review them with git diff --cached)", file=out)
    return 0
