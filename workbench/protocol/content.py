"""Content blocks of assistant messages, in the Messages API's own shape."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class _Block(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TextBlock(_Block):
    type: Literal["text"] = "text"
    text: str


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
        raise ImageError("an image without encoded")
    try:
        base64.b64decode(encoded[:4096] + "=" * (-len(encoded[:4096]) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("image encoded that is not base64") from None
    return ImageBlock(source=ImageSource(media_type=str(source.get("media_type") or ""), encoded=encoded))


ContentBlock = Annotated[
    Union[TextBlock, ToolUseBlock, ThinkingBlock, RedactedThinkingBlock],
    Field(discriminator="type"),
]


def text_of(blocks: list[ContentBlock]) -> str:
    """The visible text of a reply (thinking and tool calls left out)."""
    return "".join(b.text for b in blocks if isinstance(b, TextBlock))


def tool_uses(blocks: list[ContentBlock]) -> list[ToolUseBlock]:
    return [b for b in blocks if isinstance(b, ToolUseBlock)]
