"""Content blocks of assistant messages, in the Messages API's own shape."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Block(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Citation(_Block):
    """A source a text block cites (a web search result's location …), kept exactly as the API sent it:
    the API takes it back only unchanged (its ``encrypted_index`` included)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str

    def _field(self, name: str) -> str:
        value = (self.model_extra or {}).get(name)
        return value if isinstance(value, str) else ""

    @property
    def url(self) -> str:
        return self._field("url")

    @property
    def title(self) -> str:
        return self._field("title")

    @property
    def cited_text(self) -> str:
        return self._field("cited_text")


class TextBlock(_Block):
    type: Literal["text"] = "text"
    text: str
    # None (and then not written at all): the text cites nothing
    citations: tuple[Citation, ...] | None = Field(default=None, exclude_if=lambda value: value is None)

    @field_validator("citations")
    @classmethod
    def _none_cited(cls, citations: tuple[Citation, ...] | None) -> tuple[Citation, ...] | None:
        return citations or None  # the API starts a text block with ``citations: []`` or none alike


class ToolUseBlock(_Block):
    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)


class ThinkingBlock(_Block):
    type: Literal["thinking"] = "thinking"
    thinking: str
    signature: str = ""


class RedactedThinkingBlock(_Block):
    type: Literal["redacted_thinking"] = "redacted_thinking"
    data: str


class ServerToolUseBlock(_Block):
    """A tool the API ran itself (``web_search``): the model's call, kept whole, to be sent back unchanged."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: Literal["server_tool_use"] = "server_tool_use"
    id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)


class WebSearchHit(BaseModel):
    """One result of a web search, as the conversation shows it."""

    title: str
    url: str
    page_age: str = ""


class WebSearchToolResultBlock(_Block):
    """What the API's web search found: results (with encrypted page content) or an error, kept whole,
    to be sent back unchanged."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: Literal["web_search_tool_result"] = "web_search_tool_result"
    tool_use_id: str
    content: list[dict[str, Any]] | dict[str, Any]

    @property
    def hits(self) -> list[WebSearchHit]:
        if not isinstance(self.content, list):
            return []
        return [
            WebSearchHit(
                title=str(r.get("title") or r.get("url", "")),
                url=str(r.get("url", "")),
                page_age=str(r.get("page_age") or ""),
            )
            for r in self.content
            if r.get("type") == "web_search_result"
        ]

    @property
    def error_code(self) -> str | None:
        """Why the search failed (``max_uses_exceeded``, ``too_many_requests`` …), or None."""
        if isinstance(self.content, dict):
            return str(self.content.get("error_code", "unknown"))
        return None


class ImageSource(_Block):
    """Where an image's bytes are: inline base64 (``data``) or a ``url``, as the Messages API takes them."""

    type: Literal["base64", "url"] = "base64"
    media_type: str = ""
    data: str = ""
    url: str = ""


class ImageBlock(_Block):
    """An image the model is shown: a user's pasted picture, or a tool's result (a screenshot, a read image)."""

    type: Literal["image"] = "image"
    source: ImageSource

    @property
    def size(self) -> int:
        """The image's size in bytes (0 when it is only a URL)."""
        data = self.source.data
        return len(data) * 3 // 4 - data[-2:].count("=") if data else 0

    def placeholder(self) -> str:
        """How a text view shows the image: ``[image image/png · 12.3 KB]``."""
        if self.source.type == "url":
            return f"[image {self.source.url}]"
        kind = self.source.media_type or "of unknown type"
        return f"[image {kind} · {_human_size(self.size)}]"

    def api_block(self) -> dict[str, Any]:
        """The block as the Messages API takes it."""
        if self.source.type == "url":
            return {"type": "image", "source": {"type": "url", "url": self.source.url}}
        source = {"type": "base64", "media_type": self.source.media_type, "data": self.source.data}
        return {"type": "image", "source": source}


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


class ImageError(ValueError):
    """An image block that cannot be carried: the message says why."""


def image_block(source: object) -> ImageBlock:
    """An image from a Messages-API ``source`` or a ``data:`` URL; raises :class:`ImageError` when unusable."""
    if isinstance(source, str):
        if not source.startswith("data:"):
            return ImageBlock(source=ImageSource(type="url", url=source))
        header, _, data = source.partition(",")
        if ";base64" not in header:
            raise ImageError("a data URL that is not base64")
        source = {"type": "base64", "media_type": header[5:].split(";")[0], "data": data}
    if not isinstance(source, dict):
        raise ImageError("no image source")
    url = source.get("url")
    if source.get("type") == "url" and isinstance(url, str):
        return ImageBlock(source=ImageSource(type="url", url=url))
    encoded = source.get("data")
    if not isinstance(encoded, str) or not encoded:
        raise ImageError("an image without data")
    try:
        base64.b64decode(encoded[:4096] + "=" * (-len(encoded[:4096]) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("image data that is not base64") from None
    return ImageBlock(source=ImageSource(media_type=str(source.get("media_type") or ""), data=encoded))


ContentBlock = Annotated[
    Union[TextBlock, ToolUseBlock, ThinkingBlock, RedactedThinkingBlock, ServerToolUseBlock, WebSearchToolResultBlock],
    Field(discriminator="type"),
]


def text_of(blocks: list[ContentBlock]) -> str:
    """The visible text of a reply (thinking and tool calls left out)."""
    return "".join(b.text for b in blocks if isinstance(b, TextBlock))


def tool_uses(blocks: list[ContentBlock]) -> list[ToolUseBlock]:
    return [b for b in blocks if isinstance(b, ToolUseBlock)]


def api_form(block: ServerToolUseBlock | WebSearchToolResultBlock | Citation) -> dict[str, Any]:
    """A block the API sent, as it takes it back: every field it held, nothing added."""
    return {"type": block.type, **block.model_dump(exclude_unset=True)}


class WebSearch(BaseModel):
    """One search the API ran during a reply: the model's query and what came back (None: no result yet)."""

    query: str
    result: WebSearchToolResultBlock | None = None


def web_searches(blocks: list[ContentBlock]) -> list[WebSearch]:
    """The web searches of a reply, in order, each with its result."""
    results = {b.tool_use_id: b for b in blocks if isinstance(b, WebSearchToolResultBlock)}
    return [
        WebSearch(query=str(b.input.get("query", "")), result=results.get(b.id))
        for b in blocks
        if isinstance(b, ServerToolUseBlock) and b.name == "web_search"
    ]


def citations_of(blocks: list[ContentBlock]) -> list[Citation]:
    """Every source the reply's text cites, first citation of each URL only, in order."""
    seen: dict[str, Citation] = {}
    for block in blocks:
        if isinstance(block, TextBlock):
            for citation in block.citations or ():
                seen.setdefault(citation.url or citation.cited_text, citation)
    return list(seen.values())
