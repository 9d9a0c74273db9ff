"""Read: a file of the workspace, as Claude Code shows it.

Text comes numbered as Claude Code numbers it (``     1→line``) and is streamed:
only the lines asked for are kept, so a gigabyte log read with ``limit`` costs
a window's memory, not the file's. Images (PNG, JPEG, GIF, WebP) come back as
image content the model sees; PDFs as text, page by page; notebooks cell by
cell with their outputs. Any other binary file is refused with a clear message.
Every file is opened through the workspace sandbox (no symlink leads out).
"""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict, Field

from workbench.protocol.content import ImageBlock, ImageSource
from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput
from workbench.tools.notebooks import NOTEBOOK_SUFFIX, parse_notebook, render_notebook
from workbench.tools.sandbox import Opened, WorkspacePath, open_file

DEFAULT_LIMIT = 2000
BINARY_SNIFF_BYTES = 8192
MAX_LINE_CHARS = 2000  # longer lines are cut, as Claude Code cuts them
MAX_LINE_BYTES = MAX_LINE_CHARS * 4  # the most UTF-8 bytes those characters can take
# the rest of a file is counted in lines only when it is this small; beyond, it is left unread
COUNT_REST_BYTES = 4 << 20
MAX_IMAGE_BYTES = 3_750_000  # 5 MB once base64-encoded: the Messages API's limit for one image
MAX_NOTEBOOK_BYTES = 20 << 20
MAX_PDF_PAGES = 20  # pages one call returns
LINE_MARK = "→"

_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


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


def numbered(number: int, line: str) -> str:
    """One line as the Read tool shows it."""
    return f"{number:6}{LINE_MARK}{line}"


def image_type(head: bytes) -> str | None:
    """The media type of an image the model can be shown, from its first bytes."""
    for magic, media_type in _IMAGE_MAGIC:
        if head.startswith(magic):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


class ReadInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_path: WorkspacePath = Field(
        description="The file to read: relative to the workspace, or an absolute path inside it"
    )
    offset: int | None = Field(
        default=None, ge=1, description="The line number to start reading from (1-based); omit to start at the top"
    )
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, description="How many lines to read at most")
    pages: str | None = Field(
        default=None,
        description=f'PDF files only: the pages to read, e.g. "3" or "1-5" (at most {MAX_PDF_PAGES} per call)',
    )


class Read(Tool[ReadInput]):
    name = "Read"
    description = (
        "Read a file of the workspace. Text comes with line numbers (`     1→first line`), starting at 1; "
        f"up to {DEFAULT_LIMIT} lines by default, and lines longer than {MAX_LINE_CHARS} characters are cut. "
        "Use offset and limit to read a long file in parts: only those lines are read. Images (PNG, JPEG, "
        "GIF, WebP) are shown to you as images; PDFs come as text page by page (use pages for a long one); "
        "Jupyter notebooks (.ipynb) come cell by cell with their outputs. Other binary files are refused."
    )
    Input = ReadInput
    kind = "read"

    def subject(self, params: ReadInput) -> str:
        return params.file_path

    async def run(self, params: ReadInput, ctx: ToolContext) -> ToolOutput:
        return await asyncio.to_thread(_read, ctx.workspace, params)


def _read(workspace: Path, params: ReadInput) -> ToolOutput:
    with open_file(workspace, params.file_path) as opened:
        head = os.pread(opened.fd, BINARY_SNIFF_BYTES, 0)
        media_type = image_type(head)
        if media_type is not None:
            return _image(opened, media_type)
        if head.startswith(b"%PDF-"):
            return _pdf(opened, params.pages)
        if opened.shown.lower().endswith(NOTEBOOK_SUFFIX):
            return _notebook(opened)
        if looks_binary(head):
            raise ToolFailure(
                f"{opened.shown} is a binary file ({opened.size:,} bytes) and not an image, PDF or notebook; "
                "Read shows text, images, PDFs and notebooks only"
            )
        return _text(opened, params)


def _text(opened: Opened, params: ReadInput) -> ToolOutput:
    if opened.size == 0:
        return ToolOutput(content=f"({opened.shown} is empty)")
    start = (params.offset or 1) - 1
    with os.fdopen(os.dup(opened.fd), "rb", buffering=1 << 16) as stream:
        stream.seek(0)
        for skipped in range(start):
            if _line(stream) is None:
                raise ToolFailure(f"{opened.shown} has {skipped} lines; offset {params.offset} is past the end")
        lines: list[str] = []
        while len(lines) < params.limit and (line := _line(stream)) is not None:
            lines.append(numbered(start + len(lines) + 1, line))
        if not lines:
            raise ToolFailure(f"{opened.shown} has {start} lines; offset {params.offset} is past the end")
        text = "\n".join(lines)
        rest = opened.size - stream.tell()
        if rest > 0:
            next_offset = start + len(lines) + 1
            text += f"\n\n[{_unread(stream, rest)}; call Read with offset={next_offset} to continue]"
    return ToolOutput(content=text)


def _line(stream: BinaryIO) -> str | None:
    """The next line (cut to MAX_LINE_CHARS), None at the end. A longer line is skipped in bounded reads."""
    raw = stream.readline(MAX_LINE_BYTES)
    if not raw:
        return None
    cut = not raw.endswith(b"\n") and len(raw) == MAX_LINE_BYTES
    while cut and (more := stream.readline(1 << 16)):
        if more.endswith(b"\n"):
            break
    text = raw.decode("utf-8", errors="replace").rstrip("\n").removesuffix("\r")
    if cut or len(text) > MAX_LINE_CHARS:
        return text[:MAX_LINE_CHARS] + "… [line cut]"
    return text


def _unread(stream: BinaryIO, rest: int) -> str:
    """What is left after the window: its lines when that is cheap to count, else its size."""
    if rest > COUNT_REST_BYTES:
        return f"the file goes on for {rest:,} more bytes"
    count, last = 0, b"\n"
    while chunk := stream.read(1 << 16):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    count += last != b"\n"
    return f"{count} more line{'s' if count != 1 else ''}"


def _image(opened: Opened, media_type: str) -> ToolOutput:
    if opened.size > MAX_IMAGE_BYTES:
        raise ToolFailure(
            f"{opened.shown} is an image of {opened.size:,} bytes, more than the {MAX_IMAGE_BYTES:,} "
            "one request can carry; make a smaller copy (e.g. with Bash) and read that"
        )
    data = base64.b64encode(opened.read()).decode("ascii")
    image = ImageBlock(source=ImageSource(media_type=media_type, data=data))
    return ToolOutput(content=f"{opened.shown}: {media_type}, {opened.size:,} bytes", images=[image])


def _pdf(opened: Opened, pages: str | None) -> ToolOutput:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    with os.fdopen(os.dup(opened.fd), "rb") as stream:
        try:
            reader = PdfReader(stream)
            if reader.is_encrypted and not reader.decrypt(""):
                raise ToolFailure(f"{opened.shown} is an encrypted PDF; it cannot be read without its password")
            total = len(reader.pages)
            first, last = _page_range(pages, total, opened.shown)
            parts = [f"{opened.shown}: PDF, {total} page{'s' if total != 1 else ''}"]
            for number in range(first, last + 1):
                text = reader.pages[number - 1].extract_text() or "(no text on this page: it may be an image)"
                parts.append(f"--- page {number} of {total} ---\n{text.strip()}")
        except (PdfReadError, ValueError, KeyError) as exc:
            raise ToolFailure(f"{opened.shown} cannot be read as a PDF: {exc}") from None
    if last < total:
        parts.append(
            f'[pages {last + 1}-{total} not shown; call Read with pages="{last + 1}-{min(total, last + MAX_PDF_PAGES)}"]'
        )
    return ToolOutput(content="\n\n".join(parts))


def _page_range(pages: str | None, total: int, shown: str) -> tuple[int, int]:
    if total == 0:
        raise ToolFailure(f"{shown} is a PDF without pages")
    if not pages:
        return 1, min(total, MAX_PDF_PAGES)
    low, _, high = pages.strip().partition("-")
    try:
        first, last = int(low), int(high or low)
    except ValueError:
        raise ToolFailure(f'pages must be a page or a range like "1-5", not {pages!r}') from None
    if not 1 <= first <= last:
        raise ToolFailure(f'pages {pages!r} is not a range of pages (they count from 1, like "1-5")')
    if first > total:
        raise ToolFailure(f"{shown} has {total} pages; pages {pages!r} is past the end")
    if last - first + 1 > MAX_PDF_PAGES:
        raise ToolFailure(f"At most {MAX_PDF_PAGES} pages per call; ask for {first}-{first + MAX_PDF_PAGES - 1}")
    return first, min(last, total)


def _notebook(opened: Opened) -> ToolOutput:
    if opened.size > MAX_NOTEBOOK_BYTES:
        raise ToolFailure(f"{opened.shown} is a notebook of {opened.size:,} bytes, too large to show")
    text, images = render_notebook(parse_notebook(opened.read(), opened.shown), opened.shown)
    return ToolOutput(content=text, images=images)
