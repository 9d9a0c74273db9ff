"""Write: create or overwrite a file of the workspace."""

from __future__ import annotations

import asyncio
import difflib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput
from workbench.tools.read import looks_binary, split_lines
from workbench.tools.sandbox import FileMissing, WorkspacePath, open_file, resolve_in_workspace, workspace_relative


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

    file_path: WorkspacePath = Field(
        description="The file to write: relative to the workspace, or an absolute path inside it"
    )
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
            shown, before = _current_text(ctx.workspace, params.file_path)
        except (ToolFailure, OSError):
            return None
        return unified_diff(before, params.content, shown)

    async def run(self, params: WriteInput, ctx: ToolContext) -> ToolOutput:
        data = params.content.encode("utf-8")
        shown, existed = await asyncio.to_thread(_write, ctx.workspace, params.file_path, data)
        verb = "Updated" if existed else "Created"
        lines = len(split_lines(params.content))
        return ToolOutput(content=f"{verb} {shown} ({lines} lines, {len(data):,} bytes)")


def _current_text(workspace: Path, file_path: str) -> tuple[str, str]:
    """The file's name and text before the write ("" for a new file)."""
    try:
        with open_file(workspace, file_path) as opened:
            data = opened.read()
    except FileMissing:
        return workspace_relative(workspace, resolve_in_workspace(workspace, file_path)), ""
    if looks_binary(data):
        raise ToolFailure(f"{opened.shown} is a binary file")
    return opened.shown, data.decode("utf-8", errors="replace")


def _write(workspace: Path, file_path: str, data: bytes) -> tuple[str, bool]:
    # the bytes go as sent: the model's line endings are kept exactly
    with open_file(workspace, file_path, write=True, create=True) as opened:
        opened.replace_content(data)
    return opened.shown, not opened.created
