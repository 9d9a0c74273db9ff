"""Write: create or overwrite a file of the workspace."""

from __future__ import annotations

import asyncio
import difflib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput
from workbench.tools.read import looks_binary, split_lines
from workbench.tools.sandbox import resolve_in_workspace, workspace_relative


def unified_diff(before: str, after: str, shown: str) -> str:
    """The change as a unified diff, as the permission prompt shows it."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{shown}",
        tofile=f"b/{shown}",
    )
    # a last line without newline would run into the next hunk header
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


class WriteInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_path: str = Field(description="The file to write: relative to the workspace, or an absolute path inside it")
    content: str = Field(description="The complete new content of the file")


class Write(Tool[WriteInput]):
    name = "Write"
    description = (
        "Create a file, or replace the whole content of an existing one. Missing parent folders are created. "
        "To change part of a file, prefer Edit."
    )
    Input = WriteInput
    kind = "write"

    def subject(self, params: WriteInput) -> str:
        return params.file_path

    def preview(self, params: WriteInput, ctx: ToolContext) -> str | None:
        """The diff this call would make, or None when the call cannot go ahead."""
        try:
            real = resolve_in_workspace(ctx.workspace, params.file_path)
            before = _current_text(real)
        except (ToolFailure, OSError):
            return None
        return unified_diff(before, params.content, workspace_relative(ctx.workspace, real))

    async def run(self, params: WriteInput, ctx: ToolContext) -> ToolOutput:
        real = resolve_in_workspace(ctx.workspace, params.file_path)
        existed = await asyncio.to_thread(_write, real, params.content, params.file_path)
        verb = "Updated" if existed else "Created"
        lines = len(split_lines(params.content))
        size = len(params.content.encode("utf-8"))
        shown = workspace_relative(ctx.workspace, real)
        return ToolOutput(content=f"{verb} {shown} ({lines} lines, {size:,} bytes)")


def _current_text(real: Path) -> str:
    if not real.exists():
        return ""
    if real.is_dir():
        raise ToolFailure(f"{real} is a directory")
    data = real.read_bytes()
    if looks_binary(data):
        raise ToolFailure(f"{real} is a binary file")
    return data.decode("utf-8", errors="replace")


def _write(real: Path, content: str, given: str) -> bool:
    if real.is_dir():
        raise ToolFailure(f"{given} is a directory; give the path of a file inside it")
    existed = real.exists()
    real.parent.mkdir(parents=True, exist_ok=True)
    # newline="" keeps the model's line endings exactly as sent
    real.write_text(content, encoding="utf-8", newline="")
    return existed
