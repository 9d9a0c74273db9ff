"""Read beyond plain text: streaming a huge file, images, PDFs page by page, notebooks, binary refused."""

from __future__ import annotations

import base64
import struct
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.engine_driver import ask
from tests.fake_api import FakeAnthropicServer, Reply
from tests.fake_api import ToolCall as FakeToolCall
from workbench.brains.anthropic import AnthropicBrain
from workbench.engine.config import Config
from workbench.engine.engine import Engine
from workbench.protocol.events import ToolResult
from workbench.tools.base import ToolContext, ToolOutput
from workbench.tools.read import Read, ReadInput
from workbench.tools.registry import ToolRegistry


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return workspace


async def read(ws: Path, **raw: Any) -> ToolOutput:
    """Read as the agent loop calls it: refusals come back as error results."""
    tool = Read()
    return await ToolRegistry([tool]).invoke(tool, ReadInput.model_validate(raw), ToolContext(workspace=ws))


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG: red pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\xff\0\0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def pdf(pages: list[str]) -> bytes:
    """A real PDF whose pages each show one line of text in Helvetica."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        page_number = len(objects) + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_number + 1} 0 R "
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode()}\nendstream")
        kids.append(f"{page_number} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


async def test_a_gigabyte_sparse_file_read_with_a_limit_costs_only_the_window(ws: Path) -> None:
    path = ws / "huge.log"
    with path.open("wb") as f:
        f.write(b"".join(b"event %05d happened\n" % n for n in range(1, 2001)))
        f.truncate(1 << 30)  # a gigabyte: the rest is a hole the file system never stored
    tracemalloc.start()
    try:
        out = await read(ws, file_path="huge.log", offset=101, limit=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    lines = out.content.splitlines()
    assert lines[0] == "   101→event 00101 happened"
    assert lines[9] == "   110→event 00110 happened"
    assert "call Read with offset=111 to continue" in out.content
    assert "the file goes on for 1,073,7" in out.content  # said in bytes: the rest is not read to count it
    assert peak < 2 << 20, f"reading 10 lines of a 1 GiB file peaked at {peak:,} bytes"


async def test_a_line_longer_than_the_cap_is_cut_without_being_kept_whole(ws: Path) -> None:
    (ws / "wide.txt").write_bytes(b"a" * 5_000_000 + b"\nnext\n")
    out = await read(ws, file_path="wide.txt")
    first, second = out.content.splitlines()
    assert first == "     1→" + "a" * 2000 + "… [line cut]"
    assert second == "     2→next"


async def test_png_and_other_images_come_back_as_image_content(ws: Path) -> None:
    data = png()
    (ws / "dot.png").write_bytes(data)
    (ws / "anim.gif").write_bytes(b"GIF89a" + b"\x01\x00\x01\x00\x00\x00\x00;")
    (ws / "photo.webp").write_bytes(b"RIFF\x1a\x00\x00\x00WEBPVP8 " + b"\0" * 14)
    (ws / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 20)
    out = await read(ws, file_path="dot.png")
    assert not out.is_error
    assert [image.source.media_type for image in out.images] == ["image/png"]
    assert base64.b64decode(out.images[0].source.data) == data
    for name, media_type in (("anim.gif", "image/gif"), ("photo.webp", "image/webp"), ("photo.jpg", "image/jpeg")):
        assert (await read(ws, file_path=name)).images[0].source.media_type == media_type


async def test_the_model_is_shown_an_image_it_read(ws: Path, tmp_path: Path) -> None:
    (ws / "chart.png").write_bytes(png())
    replies = [
        Reply(text="Looking.", tool_calls=[FakeToolCall(name="Read", input={"file_path": "chart.png"})]),
        Reply(text="A red square."),
    ]
    async with FakeAnthropicServer(*replies) as server:
        brain = AnthropicBrain("claude-sonnet-4-6", base_url=server.base_url, api_key="k")
        engine = await Engine.open(Config(bundles=tmp_path / "bundles", fsync="never"), ws, brain)
        assert await ask(engine, "what is in chart.png?") == "A red square."
        await engine.close()
        sent = server.message_requests[-1].body["messages"]
    result = next(b for b in sent[-1]["content"] if b["type"] == "tool_result")
    image = next(part for part in result["content"] if part["type"] == "image")
    assert image["source"]["media_type"] == "image/png"
    logged = next(e for e in engine.events if isinstance(e, ToolResult))
    assert logged.images and logged.images[0].source.data == image["source"]["data"]


async def test_pdf_pages_come_as_text_page_by_page(ws: Path) -> None:
    (ws / "report.pdf").write_bytes(pdf([f"Finding number {n}" for n in range(1, 26)]))
    out = await read(ws, file_path="report.pdf")
    assert out.content.startswith("report.pdf: PDF, 25 pages")
    assert "--- page 1 of 25 ---\nFinding number 1" in out.content
    assert "--- page 20 of 25 ---\nFinding number 20" in out.content
    assert "page 21 of 25" not in out.content
    assert 'call Read with pages="21-25"' in out.content
    later = await read(ws, file_path="report.pdf", pages="24-25")
    assert "--- page 24 of 25 ---\nFinding number 24" in later.content
    assert "page 23 " not in later.content


@pytest.mark.parametrize(
    ("pages", "message"),
    [("30", "has 25 pages; pages '30' is past the end"), ("a-b", "pages must be a page or a range"),
     ("1-40", "At most 20 pages per call")],
)  # fmt: skip
async def test_bad_page_ranges_are_explained(ws: Path, pages: str, message: str) -> None:
    (ws / "report.pdf").write_bytes(pdf([f"p{n}" for n in range(25)]))
    out = await read(ws, file_path="report.pdf", pages=pages)
    assert out.is_error and message in out.content


async def test_a_broken_pdf_is_refused_clearly(ws: Path) -> None:
    (ws / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really\n")
    out = await read(ws, file_path="broken.pdf")
    assert out.is_error and "broken.pdf cannot be read as a PDF" in out.content


async def test_a_notebook_reads_cell_by_cell_with_outputs(ws: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Sales", id="intro"),
        nbformat.v4.new_code_cell(
            "print(sum([1, 2]))",
            id="total",
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="3\n")],
        ),
        nbformat.v4.new_code_cell(
            "plot()",
            id="chart",
            outputs=[
                nbformat.v4.new_output(
                    "display_data",
                    data={"image/png": base64.b64encode(png()).decode(), "text/plain": "<Figure>"},
                )
            ],
        ),
        nbformat.v4.new_code_cell(
            "1/0",
            id="oops",
            outputs=[
                nbformat.v4.new_output(
                    "error",
                    ename="ZeroDivisionError",
                    evalue="division by zero",
                    traceback=["\x1b[31mTraceback\x1b[0m"],
                )
            ],
        ),
    ]
    (ws / "sales.ipynb").write_text(nbformat.writes(notebook))
    out = await read(ws, file_path="sales.ipynb")
    assert out.content.startswith("sales.ipynb: a Jupyter notebook, 4 cells (python)")
    assert '<cell id="intro" type="markdown">\n# Sales\n</cell>' in out.content
    assert (
        '<cell id="total" type="code">\nprint(sum([1, 2]))\n</cell>\n<outputs>\n[stdout] 3\n</outputs>' in out.content
    )
    assert "[image/png image]\n<Figure>" in out.content
    assert "[error] ZeroDivisionError: division by zero\nTraceback" in out.content
    assert [image.source.media_type for image in out.images] == ["image/png"]


async def test_other_binary_files_are_refused_with_what_read_can_show(ws: Path) -> None:
    (ws / "app.bin").write_bytes(b"\x7fELF\x02\x01\x01\0\0\0" + b"\0" * 100)
    out = await read(ws, file_path="app.bin")
    assert out.is_error
    assert out.content == (
        "app.bin is a binary file (110 bytes) and not an image, PDF or notebook; "
        "Read shows text, images, PDFs and notebooks only"
    )
