"""Edit: replace an exact string in a file of the workspace."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput
from workbench.tools.read import check_text, read_file_bytes
from workbench.tools.sandbox import WorkspacePath, open_file
from workbench.tools.write import unified_diff


class EditInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_path: WorkspacePath = Field(
        description="The file to change: relative to the workspace, or an absolute path inside it"
    )
    old_string: str = Field(description="The exact text to replace, including whitespace and indentation")
    new_string: str = Field(description="The text to put in its place (must differ from old_string)")
    replace_all: bool = Field(
        default=False, description="Replace every occurrence of old_string; otherwise it must occur exactly once"
    )


class Edit(Tool[EditInput]):
    name = "Edit"
    description = (
        "Replace exact text in a file. old_string must match the file exactly and occur exactly once, "
        "unless replace_all is set. Include enough surrounding lines to make it unique."
    )
    Input = EditInput
    kind = "write"

    def subject(self, params: EditInput) -> str:
        return params.file_path

    def preview(self, params: EditInput, ctx: ToolContext) -> str | None:
        """The diff this call would make, or None when the call cannot go ahead."""
        try:
            shown, data = read_file_bytes(ctx.workspace, params.file_path, verb="Edit")
            before, after, _ = _plan(shown, data, params)
        except (ToolFailure, OSError):
            return None
        return unified_diff(before, after, shown)

    async def run(self, params: EditInput, ctx: ToolContext) -> ToolOutput:
        shown, count = await asyncio.to_thread(_edit, ctx.workspace, params)
        noun = "occurrence" if count == 1 else "occurrences"
        return ToolOutput(content=f"Replaced {count} {noun} in {shown}")


def _edit(workspace: Path, params: EditInput) -> tuple[str, int]:
    """Read, change and write back through one descriptor: the file changed is the file read."""
    with open_file(workspace, params.file_path, write=True) as opened:
        data = opened.read()
        check_text(opened.shown, data, "Edit")
        _, after, count = _plan(opened.shown, data, params)
        # the file's own line endings are kept: nothing is translated
        opened.replace_content(after.encode("utf-8"))
    return opened.shown, count


def _plan(shown: str, data: bytes, params: EditInput) -> tuple[str, str, int]:
    """Check the edit and compute it: (text before, text after, replacements)."""
    if params.old_string == params.new_string:
        raise ToolFailure("old_string and new_string are identical; there is nothing to change")
    if not params.old_string:
        raise ToolFailure("old_string is empty; use Write to create a file or replace its whole content")
    try:
        before = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolFailure(f"{shown} is not UTF-8 text ({exc.reason}); Edit only changes UTF-8 files") from exc
    count = before.count(params.old_string)
    if count == 0:
        raise ToolFailure(f"old_string was not found in {shown}; it must match the file exactly (Read it first)")
    if count > 1 and not params.replace_all:
        raise ToolFailure(
            f"old_string occurs {count} times in {shown}; add surrounding context to make it unique, "
            "or set replace_all to replace every occurrence"
        )
    after = before.replace(params.old_string, params.new_string, -1 if params.replace_all else 1)
    return before, after, count
