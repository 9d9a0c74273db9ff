"""The Tool protocol: a pydantic input model whose JSON schema is the tool definition."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel

from workbench.protocol.brain_io import ToolSpec
from workbench.protocol.content import ImageBlock

MAX_RESULT_CHARS = 30_000

# network: reaches outside the machine (WebFetch, WebSearch): asks unless a rule allows it, even in plan mode
ToolKind = Literal["read", "write", "exec", "agent", "interaction", "network"]

InputT = TypeVar("InputT", bound=BaseModel)


class ToolOutput(BaseModel):
    content: str
    is_error: bool = False
    truncated_chars: int = 0
    images: list[ImageBlock] = []  # shown to the model with the text (an image file read)


class ToolFailure(Exception):
    """A tool refused or failed with a message meant for the model."""


@dataclass
class ToolContext:
    """What a running tool may touch: the workspace, and hooks back into the engine."""

    workspace: Path
    agent_id: str = ""
    session_id: str = ""
    tool_use_id: str = ""  # the call being run
    # Task tool: spawn a delegated child and wait for its summary
    delegate: Callable[..., Awaitable[ToolOutput]] | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@functools.cache
def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of a tool's input, made once: every request of every agent sends it, and
    pydantic takes about a millisecond to generate it."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    return schema


class Tool(Generic[InputT]):
    """Base class of every tool. Subclasses set the class attributes and implement ``run``."""

    name: ClassVar[str]
    description: ClassVar[str]
    Input: ClassVar[type[BaseModel]]
    kind: ClassVar[ToolKind] = "read"

    def spec(self) -> ToolSpec:
        return ToolSpec(name=self.name, description=self.description, input_schema=input_schema(self.Input))

    def subject(self, params: InputT) -> str | None:
        """The part of a call that permission rules match on (a path, a command)."""
        return None

    async def run(self, params: InputT, ctx: ToolContext) -> ToolOutput:
        raise NotImplementedError


def truncate(text: str, limit: int = MAX_RESULT_CHARS) -> ToolOutput:
    """Cap a result, saying how much was cut so the model can ask for a range."""
    if len(text) <= limit:
        return ToolOutput(content=text)
    cut = len(text) - limit
    note = f"\n\n[output truncated: {cut:,} of {len(text):,} characters cut]"
    return ToolOutput(content=text[:limit] + note, truncated_chars=cut)
