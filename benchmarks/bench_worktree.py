"""Worktrees and the blob store: what a worktree per agent and rewind cost.

Prints JSON lines (see ../shared/BENCHMARKS.md). ``--quick`` runs a small version.

- create: a repository of 10,000 files (about 1 KiB each, in 140 folders) with a few uncommitted
  changes and untracked files; the time until an agent's worktree is ready (carried-over changes
  committed with a scratch index, ``git worktree add``), and to remove it again. Medians of several
  runs, with the repository's objects packed (``seconds``: as a clone or ``git gc`` leaves them) and
  loose (``loose_s``: all 10,000 just committed); ``cpu_s`` is the CPU time of the process and its git
  children (what a busy machine does not blur). Also one scan of the worktree, as a Bash call pays twice.
- blobs: a session of 1,000 Edit calls (the real tool, through the recorder that keeps each file's
  bytes before and after) on 50 source files of a few KiB. ``changed_bytes`` is what the edits wrote:
  the sum of the sizes of the files each edit produced (the versions a rewind must be able to give
  back); ``store_bytes`` the size of the blob pack (headers included). ``overhead_ms_per_edit``:
  the recorder's cost per edit over the bare tool's, same edits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workbench.engine.workspaces.recorder import FileRecorder  # noqa: E402
from workbench.engine.workspaces.worktrees import create_worktree, remove_worktree  # noqa: E402
from workbench.log.blobs import BlobStore  # noqa: E402
from workbench.protocol.events import Event  # noqa: E402
from workbench.tools.base import ToolContext  # noqa: E402
from workbench.tools.edit import Edit, EditInput  # noqa: E402

WORDS = "agent budget bundle context delegate event fold primer reduce session stream token tool".split()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def source_text(rng: random.Random, lines: int) -> str:
    body = []
    for n in range(lines):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9)))
        body.append(f"    value_{n} = compute('{words}')  # {rng.choice(WORDS)}")
    return "def generated():\n" + "\n".join(body) + "\n    return value_0\n"


def make_repo(root: Path, files: int) -> Path:
    rng = random.Random(7)
    repo = root / "repo"
    for n in range(files):
        folder = repo / f"pkg{n % 20}" / f"mod{n % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file_{n}.py").write_text(source_text(rng, 18))
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "-c", "user.name=Bench", "-c", "user.email=bench@localhost", "add", "--all")
    git(repo, "-c", "user.name=Bench", "-c", "user.email=bench@localhost", "commit", "--quiet", "-m", "files")
    for n in range(0, 100, 10):  # the user's uncommitted work, carried over into every worktree
        path = repo / f"pkg{n % 20}" / f"mod{n % 7}" / f"file_{n}.py"
        path.write_text(path.read_text() + "# edited, not committed\n")
    for n in range(5):
        (repo / f"untracked_{n}.txt").write_text("new and untracked\n")
    return repo


def _cpu() -> float:
    """CPU seconds of this process and the git processes it waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def create_case(root: Path, files: int, runs: int) -> dict[str, object]:
    log(f"create: a repository of {files:,} files")
    repo = make_repo(root, files)
    worktrees = root / "worktrees"
    figures: dict[str, list[float]] = {}
    # first as just committed (10,000 loose objects), then packed, as a clone or git gc leaves a repository
    for layout in ("loose", "packed"):
        if layout == "packed":
            git(repo, "repack", "-a", "-d", "-q")
        for run in range(runs):
            start, used = time.perf_counter(), _cpu()
            created = create_worktree(repo, worktrees, "bench", f"{layout}-{run}")
            figures.setdefault(f"{layout}_ready", []).append(time.perf_counter() - start)
            figures.setdefault(f"{layout}_cpu", []).append(_cpu() - used)
            start = time.perf_counter()
            scan = FileRecorder(BlobStore(root))._scan(Path(created.workspace), True)
            figures.setdefault("scan", []).append(time.perf_counter() - start)
            start = time.perf_counter()
            remove_worktree(Path(created.path), repo, delete_branch=created.branch)
            figures.setdefault("remove", []).append(time.perf_counter() - start)
            ready = figures[f"{layout}_ready"][-1]
            log(f"  {layout} {run + 1}: ready in {ready:.3f} s ({len(scan.files):,} files)")

    def median(key: str) -> float:
        return round(statistics.median(figures[key]), 3)

    return {
        "bench": "worktree",
        "case": "create",
        "files": files,
        "runs": runs,
        "seconds": median("packed_ready"),
        "max_s": round(max(figures["packed_ready"]), 3),
        "cpu_s": median("packed_cpu"),
        "loose_s": median("loose_ready"),
        "loose_cpu_s": median("loose_cpu"),
        "remove_s": median("remove"),
        "bash_scan_ms": round(median("scan") * 1000, 1),
        "target_s": 1.0,
    }


async def edit_session(folder: Path, edits: int, recorder: FileRecorder | None) -> tuple[float, int]:
    """``edits`` Edit calls on the files of ``folder``: (seconds, bytes the edits wrote)."""
    rng = random.Random(11)
    names = sorted(p.name for p in folder.iterdir())
    tool, ctx = Edit(), ToolContext(workspace=folder)
    history: list[Event] = []
    written = 0
    start = time.perf_counter()
    for n in range(edits):
        name = rng.choice(names)
        text = (folder / name).read_text()
        lines = text.splitlines()
        old = lines[rng.randrange(1, len(lines) - 1)]
        new = old.replace("compute", f"compute_{n}", 1)
        params = EditInput(file_path=name, old_string=old, new_string=new)
        if recorder is None:
            await tool.run(params, ctx)
        else:
            _, event = await recorder.run("Edit", name, folder, history, lambda p=params: tool.run(p, ctx))
            if event is not None:
                history.append(event.model_copy(update={"seq": n + 1}))
        written += (folder / name).stat().st_size
    return time.perf_counter() - start, written


def blobs_case(root: Path, edits: int) -> dict[str, object]:
    log(f"blobs: {edits:,} edits on 50 files")
    rng = random.Random(3)
    originals = {f"module_{n}.py": source_text(rng, rng.randint(60, 140)) for n in range(50)}
    timings = {}
    for label in ("bare", "recorded"):
        folder = root / label
        folder.mkdir(parents=True)
        for name, text in originals.items():
            (folder / name).write_text(text)
        store = BlobStore(root / f"{label}-blobs") if label == "recorded" else None
        if store is not None:
            store.path.parent.mkdir(parents=True)
        recorder = FileRecorder(store) if store is not None else None
        seconds, written = asyncio.run(edit_session(folder, edits, recorder))
        timings[label] = (seconds, written, store.size if store is not None else 0)
        log(f"  {label}: {seconds:.2f} s")
    seconds, changed, store_bytes = timings["recorded"]
    return {
        "bench": "worktree",
        "case": "blobs",
        "edits": edits,
        "seconds": round(seconds, 3),
        "ms_per_edit": round(seconds / edits * 1000, 3),
        "overhead_ms_per_edit": round((seconds - timings["bare"][0]) / edits * 1000, 3),
        "store_bytes": store_bytes,
        "changed_bytes": changed,
        "ratio": round(store_bytes / changed, 3),
        "target_ratio": 1.2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs and edits (under a minute)")
    args = parser.parse_args()
    if shutil.which("git") is None:
        sys.exit("bench_worktree: git is not installed")
    with tempfile.TemporaryDirectory(prefix="bench-worktree-") as folder:
        root = Path(folder)
        print(json.dumps(create_case(root / "create", 10_000, 3 if args.quick else 7)), flush=True)
        print(json.dumps(blobs_case(root / "blobs", 300 if args.quick else 1_000)), flush=True)
    version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    summary = {"bench": "worktree", "case": "summary", "cpus": os.cpu_count(), "python": platform.python_version()}
    print(json.dumps({**summary, "git": version}), flush=True)


if __name__ == "__main__":
    main()
