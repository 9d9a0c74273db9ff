"""Glob: find files of the workspace by name pattern; also the glob matching the other tools share."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput
from workbench.tools.sandbox import resolve_in_workspace, workspace_relative

SKIP_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__"})
MAX_GLOB_RESULTS = 100


def compile_glob(pattern: str, *, anywhere: bool = False) -> re.Pattern[str]:
    """A regex that fullmatches the '/'-separated relative paths ``pattern`` describes.

    ``*`` and ``?`` stay within one folder, ``**`` crosses folders, ``[a-z]``
    is a class, ``\\x`` escapes, and ``dir/**`` also matches ``dir`` itself.
    With ``anywhere`` the pattern may match at any depth (``*.md`` matches
    ``docs/a.md``), as gitignore does for patterns without a slash.
    """
    prefix = "(?:.*/)?" if anywhere else ""
    return re.compile(prefix + _translate(pattern), re.DOTALL)


def _translate(pattern: str) -> str:
    if pattern.endswith("/**"):
        return _translate(pattern[:-3]) + "(?:/.*)?"
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if pattern.startswith("**/", i) and (i == 0 or pattern[i - 1] == "/"):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif char == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            if body[0] in "!^":
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def walk_files(root: Path) -> Iterator[Path]:
    """Every file under ``root``, skipping VCS, virtualenv and cache folders; symlinked folders are not entered."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            yield Path(folder, name)


class GlobInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(description='The glob to match, relative to path, e.g. "**/*.py" or "src/**/test_*.ts"')
    path: str | None = Field(
        default=None, description="The folder to search in, relative to the workspace; omit for the workspace root"
    )


class Glob(Tool[GlobInput]):
    name = "Glob"
    description = (
        "Find files by name pattern (`*` within a folder, `**` across folders). Returns paths relative to the "
        f"workspace, most recently modified first, at most {MAX_GLOB_RESULTS}. "
        "Skips .git, .venv, node_modules and __pycache__."
    )
    Input = GlobInput
    kind = "read"

    def subject(self, params: GlobInput) -> str:
        return params.path or "."

    async def run(self, params: GlobInput, ctx: ToolContext) -> ToolOutput:
        pattern = params.pattern.removeprefix("./")
        if pattern.startswith("/"):
            raise ToolFailure(f"The pattern {params.pattern!r} is absolute; give a relative pattern and set path")
        root = resolve_in_workspace(ctx.workspace, params.path or ".")
        if not root.is_dir():
            raise ToolFailure(f"{params.path} is not a folder")
        found = await asyncio.to_thread(_find, root, compile_glob(pattern))
        if not found:
            return ToolOutput(content=f"No files match {params.pattern!r}")
        shown = [workspace_relative(ctx.workspace, path) for path in found[:MAX_GLOB_RESULTS]]
        if len(found) > MAX_GLOB_RESULTS:
            shown.append(
                f"\n[showing the {MAX_GLOB_RESULTS} newest of {len(found)} matches; narrow the pattern or the path]"
            )
        return ToolOutput(content="\n".join(shown))


def _find(root: Path, regex: re.Pattern[str]) -> list[Path]:
    matches = [path for path in walk_files(root) if regex.fullmatch(path.relative_to(root).as_posix())]
    return sorted(matches, key=lambda path: (-_mtime(path), path.as_posix()))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # a dangling symlink
        return 0.0
