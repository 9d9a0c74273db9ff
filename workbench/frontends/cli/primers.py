"""``workbench primers ls`` and ``workbench primers show NAME [ARGS] [--yes]``."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from workbench.engine.config import Config
from workbench.engine.context.tokens import TokenCounter, default_counter
from workbench.engine.priming.primers import PrimerError, find_primer, primer_catalog, primer_dirs, resolve
from workbench.engine.runtime.requests import Approvals

YES = "--yes"


def take_yes(args: Sequence[str]) -> tuple[bool, list[str]]:
    """``--yes`` wherever it is among a primer's arguments; after ``--`` every word is an argument."""
    words = list(args)
    end = words.index("--") if "--" in words else len(words)
    yes = YES in words[:end]
    kept = [w for w in words[:end] if w != YES] + words[end + 1 :]
    return yes, kept


async def list_primers(
    config: Config, cwd: Path, out: TextIO = sys.stdout, *, environ: dict[str, str] | None = None
) -> int:
    """Every primer by name, where it comes from, and what it does; shadowed files are named."""
    dirs = primer_dirs(cwd, environ)
    entries = primer_catalog(dirs)
    if not entries:
        print("no primers found; looked in:", file=out)
        for folder in dirs:
            print(f"  {folder.path}", file=out)
        return 0
    width = max(len(entry.file.name) for entry in entries)
    for entry in entries:
        if entry.primer is None:
            about = f"BROKEN: {entry.error}"
        else:
            hint = f"  {entry.primer.argument_hint}" if entry.primer.argument_hint else ""
            about = f"{entry.primer.description}{hint}"
        print(f"{entry.file.name:<{width}}  {entry.file.origin:<8}  {about}", file=out)
        for shadowed in entry.shadows:
            print(f"{'':<{width}}  {'':<8}  (shadows the {shadowed.origin} primer {shadowed.path})", file=out)
    return 0


async def show_primer(
    config: Config,
    cwd: Path,
    name: str,
    args: str | Sequence[str],
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    *,
    approver: Approvals | None = None,
    counter: TokenCounter | None = None,
    environ: dict[str, str] | None = None,
) -> int:
    """Print the primer's resolved text and its token count (what ``/prime-NAME ARGS`` would inject)."""
    arguments = args if isinstance(args, str) else shlex.join(args)
    policy = config.policy(cwd)
    try:
        primer = find_primer(name, primer_dirs(cwd, environ))
        resolved = await resolve(
            primer,
            arguments,
            cwd,
            policy,
            counter or default_counter(),
            budget_left=config.window,
            approver=approver,
            project_approvals=config.project_trusted,
        )
    except PrimerError as exc:
        print(f"workbench: {exc}", file=err)
        return 1
    print(resolved.text, file=out)
    for note in resolved.notes:
        print(f"workbench: note: {note}", file=err)
    print(
        f"\n-- primer {primer.name} ({primer.origin}: {primer.path}) · {resolved.tokens:,} tokens"
        f" · sha256 {resolved.sha256[:12]}",
        file=out,
    )
    return 0
