"""NotebookEdit on real notebooks: replace, insert and delete cells; Jupyter can still open the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

from workbench.tools.base import ToolContext, ToolOutput
from workbench.tools.notebook_edit import NotebookEdit
from workbench.tools.registry import InvalidToolCall, ToolRegistry


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Report", id="title"),
        nbformat.v4.new_code_cell(
            "x = 1\nprint(x)",
            id="compute",
            execution_count=3,
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="1\n")],
        ),
    ]
    (workspace / "report.ipynb").write_text(nbformat.writes(notebook))
    return workspace


async def edit(ws: Path, **raw: Any) -> ToolOutput:
    registry = ToolRegistry([NotebookEdit()])
    tool = registry.get("NotebookEdit")
    assert tool is not None
    return await registry.invoke(tool, registry.validate("NotebookEdit", raw), ToolContext(workspace=ws))


def reread(ws: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(ws / "report.ipynb", as_version=4)
    nbformat.validate(notebook)  # what Jupyter would check when opening it
    return notebook


async def test_replace_changes_the_source_and_drops_stale_outputs(ws: Path) -> None:
    out = await edit(ws, notebook_path="report.ipynb", cell_id="compute", new_source="x = 2\nprint(x * 2)")
    assert out.content == "Updated cell compute of report.ipynb"
    cell = reread(ws).cells[1]
    assert (cell.source, cell.outputs, cell.execution_count) == ("x = 2\nprint(x * 2)", [], None)


async def test_insert_after_a_cell_and_at_the_top(ws: Path) -> None:
    out = await edit(ws, notebook_path="report.ipynb", cell_id="title", new_source="Intro.", cell_type="markdown",
                     edit_mode="insert")  # fmt: skip
    assert out.content.startswith("Inserted a markdown cell ") and out.content.endswith(
        " at position 1 of report.ipynb"
    )
    await edit(ws, notebook_path="report.ipynb", new_source="import math", cell_type="code", edit_mode="insert")
    cells = reread(ws).cells
    assert [(c.cell_type, c.source) for c in cells] == [
        ("code", "import math"),
        ("markdown", "# Report"),
        ("markdown", "Intro."),
        ("code", "x = 1\nprint(x)"),
    ]


async def test_delete_by_id_or_by_position(ws: Path) -> None:
    out = await edit(ws, notebook_path="report.ipynb", cell_id="cell-0", new_source="", edit_mode="delete")
    assert out.content == "Deleted cell title of report.ipynb (1 cells left)"
    assert [c.id for c in reread(ws).cells] == ["compute"]


async def test_replace_may_change_the_cell_type(ws: Path) -> None:
    await edit(ws, notebook_path="report.ipynb", cell_id="compute", new_source="Now prose.", cell_type="markdown")
    cell = reread(ws).cells[1]
    assert (cell.id, cell.cell_type, cell.source) == ("compute", "markdown", "Now prose.")
    assert "outputs" not in cell


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"cell_id": "nope", "new_source": "x"}, "report.ipynb has no cell 'nope'; its cells are: title, compute"),
        ({"cell_id": "title", "new_source": "x", "edit_mode": "insert"}, "insert needs cell_type"),
        ({"new_source": "x"}, "replace needs cell_id"),
    ],
)
async def test_bad_edits_are_explained_and_change_nothing(ws: Path, raw: dict[str, Any], message: str) -> None:
    before = (ws / "report.ipynb").read_bytes()
    try:
        out = await edit(ws, notebook_path="report.ipynb", **raw)
        assert out.is_error and message in out.content
    except InvalidToolCall as exc:
        assert message in str(exc)
    assert (ws / "report.ipynb").read_bytes() == before


async def test_a_file_that_is_not_a_notebook_is_refused(ws: Path) -> None:
    (ws / "broken.ipynb").write_text("{not json")
    (ws / "notes.md").write_text("# notes\n")
    out = await edit(ws, notebook_path="broken.ipynb", cell_id="cell-0", new_source="x")
    assert out.is_error and out.content.startswith("broken.ipynb is not a valid notebook:")
    out = await edit(ws, notebook_path="notes.md", cell_id="cell-0", new_source="x")
    assert out.is_error and out.content == "notes.md is not a notebook (.ipynb); use Edit for other files"
