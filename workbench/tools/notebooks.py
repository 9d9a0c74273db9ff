"""Jupyter notebooks (``.ipynb``), read and changed through nbformat: validated before a write, shown
cell by cell with their outputs.

A cell is named by its ``id`` (nbformat 4.5 and later) or, in a notebook whose cells have none, by
``cell-N`` (its index from 0), as Claude Code names them.
"""

from __future__ import annotations

import base64
import re
import warnings
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbformat.validator import ValidationError as NotebookInvalid

from workbench.protocol.content import ImageBlock, ImageSource
from workbench.tools.base import ToolFailure

NOTEBOOK_SUFFIX = ".ipynb"
MAX_OUTPUT_CHARS = 2000  # of each cell output's text
MAX_OUTPUT_IMAGES = 5  # images of outputs shown to the model, per read
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_OUTPUT_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def parse_notebook(data: bytes, shown: str) -> NotebookNode:
    """The notebook in ``data`` as nbformat version 4; a clear failure when it is not one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nbformat warns about missing cell ids: we name those cells ourselves
            notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    except UnicodeDecodeError:
        raise ToolFailure(f"{shown} is not a notebook: it is not UTF-8 text") from None
    except Exception as exc:  # nbformat raises JSON, reader and validation errors of several kinds
        raise ToolFailure(f"{shown} is not a valid notebook: {_first_line(exc)}") from None
    return notebook


def notebook_bytes(notebook: NotebookNode, shown: str) -> bytes:
    """The notebook serialised as Jupyter writes it, after validating it (nothing invalid is written)."""
    try:
        nbformat.validate(notebook)
    except NotebookInvalid as exc:
        raise ToolFailure(f"The change would leave {shown} an invalid notebook: {_first_line(exc)}") from None
    return (nbformat.writes(notebook) + "\n").encode("utf-8")


def cell_name(cell: NotebookNode, index: int) -> str:
    return str(cell.get("id") or f"cell-{index}")


def find_cell(notebook: NotebookNode, cell_id: str, shown: str) -> int:
    """The index of the cell ``cell_id`` names (its id, or ``cell-N``)."""
    for index, cell in enumerate(notebook.cells):
        if cell.get("id") == cell_id:
            return index
    found = re.fullmatch(r"cell-(\d+)", cell_id)
    if found and int(found[1]) < len(notebook.cells):
        return int(found[1])
    names = ", ".join(cell_name(c, i) for i, c in enumerate(notebook.cells[:20])) or "none"
    raise ToolFailure(f"{shown} has no cell {cell_id!r}; its cells are: {names}")


def render_notebook(notebook: NotebookNode, shown: str) -> tuple[str, list[ImageBlock]]:
    """Every cell with its source and outputs, as text; the images its outputs hold (a few)."""
    language = notebook.get("metadata", {}).get("kernelspec", {}).get("language") or "python"
    parts = [f"{shown}: a Jupyter notebook, {len(notebook.cells)} cells ({language})"]
    images: list[ImageBlock] = []
    for index, cell in enumerate(notebook.cells):
        head = f'<cell id="{cell_name(cell, index)}" type="{cell.cell_type}">'
        parts.append(f"{head}\n{cell.source}\n</cell>")
        outputs = [_output_text(output, images) for output in cell.get("outputs", [])]
        if outputs:
            parts.append("<outputs>\n" + "\n".join(o for o in outputs if o) + "\n</outputs>")
    return "\n".join(parts), images


def _output_text(output: NotebookNode, images: list[ImageBlock]) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return _clip(f"[{output.get('name', 'stdout')}] {output.get('text', '')}")
    if kind == "error":
        trace = _ANSI.sub("", "\n".join(output.get("traceback", [])))
        return _clip(f"[error] {output.get('ename', '')}: {output.get('evalue', '')}\n{trace}")
    if kind in ("execute_result", "display_data"):
        data: dict[str, Any] = output.get("data", {})
        shown = []
        for media_type in _OUTPUT_IMAGE_TYPES:
            if media_type in data and len(images) < MAX_OUTPUT_IMAGES:
                payload = "".join(data[media_type]) if isinstance(data[media_type], list) else data[media_type]
                if _is_base64(payload):
                    images.append(ImageBlock(source=ImageSource(media_type=media_type, data=payload.strip())))
                    shown.append(f"[{media_type} image]")
                break
        if "text/plain" in data:
            shown.append(_clip(str(data["text/plain"])))
        return "\n".join(shown)
    return ""


def _is_base64(text: object) -> bool:
    if not isinstance(text, str) or not text.strip():
        return False
    try:
        base64.b64decode(text.strip()[:4096] + "=" * (-len(text.strip()[:4096]) % 4), validate=True)
    except ValueError:
        return False
    return True


def _clip(text: str) -> str:
    text = text.rstrip("\n")
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"… [{len(text) - MAX_OUTPUT_CHARS:,} more characters of output]"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
