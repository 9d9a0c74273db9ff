"""Grep: search the text files of the workspace with a Python regular expression."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput
from workbench.tools.glob import compile_glob
from workbench.tools.read import looks_binary, split_lines
from workbench.tools.sandbox import NotAFolder, WorkspacePath, open_file, open_folder, read_found, walk_files

OutputMode = Literal["content", "files_with_matches", "count"]


class GrepInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(description=r'A Python regular expression to search for, e.g. "def \w+_test" or "TODO|FIXME"')
    path: WorkspacePath | None = Field(
        default=None, description="A file or folder to search, relative to the workspace; omit for the whole workspace"
    )
    glob: str | None = Field(
        default=None, description='Only search files matching this glob, e.g. "*.py" (any depth) or "src/**/*.ts"'
    )
    case_insensitive: bool = Field(default=False, description="Ignore case when matching")
    output_mode: OutputMode = Field(
        default="files_with_matches",
        description='"content": matching lines as path:line:text; "files_with_matches": the paths; '
        '"count": matching lines per file as path:count',
    )
    head_limit: int | None = Field(default=None, ge=1, description="Show only the first N lines of the result")


class Grep(Tool[GrepInput]):
    name = "Grep"
    description = (
        "Search file contents with a Python regular expression, line by line. Skips binary files and the "
        ".git, .venv, node_modules and __pycache__ folders. Paths in the result are relative to the workspace."
    )
    Input = GrepInput
    kind = "read"

    def subject(self, params: GrepInput) -> str:
        return params.path or "."

    async def run(self, params: GrepInput, ctx: ToolContext) -> ToolOutput:
        try:
            regex = re.compile(params.pattern, re.IGNORECASE if params.case_insensitive else 0)
        except re.error as exc:
            raise ToolFailure(f"Invalid regular expression {params.pattern!r}: {exc}") from exc
        file_filter = _file_filter(params.glob) if params.glob else None
        lines = await asyncio.to_thread(
            _search, ctx.workspace, params.path or ".", regex, file_filter, params.output_mode
        )
        if not lines:
            return ToolOutput(content=f"No matches for {params.pattern!r}")
        if params.head_limit is not None and len(lines) > params.head_limit:
            total = len(lines)
            lines = lines[: params.head_limit] + [f"\n[showing the first {params.head_limit} of {total} lines]"]
        return ToolOutput(content="\n".join(lines))


def _file_filter(glob: str) -> re.Pattern[str]:
    """Match files as ripgrep's --glob does: a glob without a slash matches names at any depth."""
    pattern = glob.removeprefix("./")
    return compile_glob(pattern, anywhere="/" not in pattern)


def _search(
    workspace: Path, path: str, regex: re.Pattern[str], file_filter: re.Pattern[str] | None, mode: OutputMode
) -> list[str]:
    out: list[str] = []
    for shown, data in _candidates(workspace, path, file_filter):
        hits = _matching_lines(data, regex)
        if not hits:
            continue
        if mode == "files_with_matches":
            out.append(shown)
        elif mode == "count":
            out.append(f"{shown}:{len(hits)}")
        else:
            out.extend(f"{shown}:{number}:{line}" for number, line in hits)
    return out


def _candidates(workspace: Path, path: str, file_filter: re.Pattern[str] | None) -> Iterator[tuple[str, bytes]]:
    """(workspace-relative name, bytes) of each file to search; special files and links out are skipped."""
    try:
        with open_folder(workspace, path) as (fd, shown_root):
            for found in walk_files(fd):
                if file_filter and not file_filter.fullmatch(found.relative):
                    continue
                shown = f"{shown_root}/{found.relative}" if shown_root else found.relative
                data = read_found(workspace, shown, found)
                if data is not None:
                    yield shown, data
            return
    except NotAFolder:
        pass
    with open_file(workspace, path) as opened:
        if file_filter is None or file_filter.fullmatch(opened.shown.rsplit("/", 1)[-1]):
            yield opened.shown, opened.read()


def _matching_lines(data: bytes, regex: re.Pattern[str]) -> list[tuple[int, str]]:
    if looks_binary(data):
        return []
    lines = split_lines(data.decode("utf-8", errors="replace"))
    return [(number, line) for number, line in enumerate(lines, start=1) if regex.search(line)]
