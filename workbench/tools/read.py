"""Read: a text file of the workspace, numbered like ``cat -n``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput
from workbench.tools.sandbox import WorkspacePath, open_file

DEFAULT_LIMIT = 2000
BINARY_SNIFF_BYTES = 8192


def looks_binary(data: bytes) -> bool:
    """A NUL byte near the start marks a binary file (the heuristic git and grep use)."""
    return b"\0" in data[:BINARY_SNIFF_BYTES]


def split_lines(text: str) -> list[str]:
    """Lines as editors count them: split on newlines only, without a trailing empty one."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def read_file_bytes(workspace: Path, file_path: str, *, verb: str) -> tuple[str, bytes]:
    """The workspace-relative name and bytes of a text file, refusing missing files, folders, special
    files and binary files."""
    with open_file(workspace, file_path) as opened:
        data = opened.read()
    check_text(opened.shown, data, verb)
    return opened.shown, data


def check_text(shown: str, data: bytes, verb: str) -> None:
    if looks_binary(data):
        raise ToolFailure(f"{shown} looks like a binary file ({len(data):,} bytes); {verb} only handles text files")


class ReadInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_path: WorkspacePath = Field(
        description="The file to read: relative to the workspace, or an absolute path inside it"
    )
    offset: int | None = Field(
        default=None, ge=1, description="The line number to start reading from (1-based); omit to start at the top"
    )
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, description="How many lines to read at most")


class Read(Tool[ReadInput]):
    name = "Read"
    description = (
        "Read a text file of the workspace. Lines come numbered like `cat -n`, starting at 1. "
        f"Reads up to {DEFAULT_LIMIT} lines by default; use offset and limit to read a long file in parts."
    )
    Input = ReadInput
    kind = "read"

    def subject(self, params: ReadInput) -> str:
        return params.file_path

    async def run(self, params: ReadInput, ctx: ToolContext) -> ToolOutput:
        shown, data = await asyncio.to_thread(read_file_bytes, ctx.workspace, params.file_path, verb="Read")
        lines = split_lines(data.decode("utf-8", errors="replace"))
        if not lines:
            return ToolOutput(content=f"({shown} is empty)")
        start = (params.offset or 1) - 1
        if start >= len(lines):
            raise ToolFailure(f"{shown} has {len(lines)} lines; offset {params.offset} is past the end")
        window = lines[start : start + params.limit]
        numbered = "\n".join(f"{n:6}\t{line}" for n, line in enumerate(window, start=start + 1))
        remaining = len(lines) - start - len(window)
        if remaining:
            next_offset = start + len(window) + 1
            numbered += f"\n\n[{remaining} more lines; call Read with offset={next_offset} to continue]"
        return ToolOutput(content=numbered)
