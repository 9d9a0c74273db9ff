"""NotebookEdit: replace, insert or delete one cell of a Jupyter notebook, in Claude Code's shape.

The notebook is read and written through nbformat and validated before it is
written, so an edit can never leave a notebook Jupyter cannot open. A replaced
code cell loses its outputs and execution count (they belonged to the old
source), as in Jupyter.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

import nbformat
from pydantic import BaseModel, ConfigDict, Field, model_validator

from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput
from workbench.tools.notebooks import NOTEBOOK_SUFFIX, cell_name, find_cell, notebook_bytes, parse_notebook
from workbench.tools.sandbox import WorkspacePath, open_file


class NotebookEditInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notebook_path: WorkspacePath = Field(
        description="The .ipynb file: relative to the workspace, or absolute inside it"
    )
    new_source: str = Field(description="The new source of the cell (ignored when deleting)")
    cell_id: str | None = Field(
        default=None,
        description="The cell to change (its id, or cell-N as Read shows it); with insert, the new cell goes "
        "after it (at the top when omitted)",
    )
    cell_type: Literal["code", "markdown"] | None = Field(
        default=None, description="The type of the cell: required for insert; for replace, keeps the cell's own"
    )
    edit_mode: Literal["replace", "insert", "delete"] = Field(default="replace", description="What to do")

    @model_validator(mode="after")
    def _complete(self) -> NotebookEditInput:
        if self.edit_mode == "insert" and self.cell_type is None:
            raise ValueError("insert needs cell_type (code or markdown)")
        if self.edit_mode in ("replace", "delete") and self.cell_id is None:
            raise ValueError(f"{self.edit_mode} needs cell_id: the cell to {self.edit_mode}")
        return self


class NotebookEdit(Tool[NotebookEditInput]):
    name = "NotebookEdit"
    description = (
        "Change one cell of a Jupyter notebook (.ipynb): replace its source, insert a new cell after a given "
        "one, or delete it. Cells are named by their id as Read shows them (or cell-N, counted from 0). "
        "The notebook is validated before it is written."
    )
    Input = NotebookEditInput
    kind = "write"

    def subject(self, params: NotebookEditInput) -> str:
        return params.notebook_path

    async def run(self, params: NotebookEditInput, ctx: ToolContext) -> ToolOutput:
        return ToolOutput(content=await asyncio.to_thread(_edit, ctx.workspace, params))


def _edit(workspace: Path, params: NotebookEditInput) -> str:
    if not params.notebook_path.lower().endswith(NOTEBOOK_SUFFIX):
        raise ToolFailure(f"{params.notebook_path} is not a notebook (.ipynb); use Edit for other files")
    with open_file(workspace, params.notebook_path, write=True) as opened:
        notebook = parse_notebook(opened.read(), opened.shown)
        said = _apply(notebook, params, opened.shown)
        opened.replace_content(notebook_bytes(notebook, opened.shown))
    return said


def _apply(notebook: nbformat.NotebookNode, params: NotebookEditInput, shown: str) -> str:
    cells = notebook.cells
    if params.edit_mode == "insert":
        at = find_cell(notebook, params.cell_id, shown) + 1 if params.cell_id else 0
        make = nbformat.v4.new_code_cell if params.cell_type == "code" else nbformat.v4.new_markdown_cell
        cell = make(params.new_source)
        if not _has_ids(notebook):
            del cell["id"]  # a notebook older than cell ids stays valid as its own version
        cells.insert(at, cell)
        return f"Inserted a {params.cell_type} cell {cell_name(cell, at)} at position {at} of {shown}"
    assert params.cell_id is not None
    index = find_cell(notebook, params.cell_id, shown)
    name = cell_name(cells[index], index)
    if params.edit_mode == "delete":
        del cells[index]
        return f"Deleted cell {name} of {shown} ({len(cells)} cells left)"
    cell = cells[index]
    if params.cell_type is not None and params.cell_type != cell.cell_type:
        replacement = (nbformat.v4.new_code_cell if params.cell_type == "code" else nbformat.v4.new_markdown_cell)(
            params.new_source
        )
        if "id" in cell:
            replacement["id"] = cell["id"]
        else:
            del replacement["id"]
        cells[index] = replacement
    else:
        cell.source = params.new_source
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return f"Updated cell {name} of {shown}"


def _has_ids(notebook: nbformat.NotebookNode) -> bool:
    return (notebook.nbformat, notebook.nbformat_minor) >= (4, 5)
