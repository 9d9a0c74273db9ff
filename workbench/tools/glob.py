"""Glob: find files of the workspace by name pattern; also the glob matching the other tools share."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput
from workbench.tools.sandbox import WorkspacePath, open_folder, walk_files

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


class GlobInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(description='The glob to match, relative to path, e.g. "**/*.py" or "src/**/test_*.ts"')
    path: WorkspacePath | None = Field(
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
        found = await asyncio.to_thread(_find, ctx.workspace, params.path or ".", compile_glob(pattern))
        if not found:
            return ToolOutput(content=f"No files match {params.pattern!r}")
        shown = found[:MAX_GLOB_RESULTS]
        if len(found) > MAX_GLOB_RESULTS:
            shown.append(
                f"\n[showing the {MAX_GLOB_RESULTS} newest of {len(found)} matches; narrow the pattern or the path]"
            )
        return ToolOutput(content="\n".join(shown))


def _find(workspace: Path, folder: str, regex: re.Pattern[str]) -> list[str]:
    """Workspace-relative paths of the matching files, newest first."""
    matches: list[tuple[float, str]] = []
    with open_folder(workspace, folder) as (fd, shown_root):
        for found in walk_files(fd):
            if regex.fullmatch(found.relative):
                try:  # a link's own time: nothing outside the workspace is looked at
                    mtime = os.stat(found.name, dir_fd=found.dir_fd, follow_symlinks=False).st_mtime
                except OSError:
                    mtime = 0.0
                matches.append((mtime, f"{shown_root}/{found.relative}" if shown_root else found.relative))
    return [shown for _, shown in sorted(matches, key=lambda item: (-item[0], item[1]))]
