"""Live signals: what the screen needs while it happens but the log does not keep.

The text of a reply while it streams, a retry countdown, an approval being
waited on, an MCP server's state. Logged events carry everything else.
"""

from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel


class Signal(BaseModel):
    agent: str


class TextStreamed(Signal):
    signal: Literal["text"] = "text"
    text: str


class ThinkingStreamed(Signal):
    signal: Literal["thinking"] = "thinking"
    text: str


class ToolInputStreaming(Signal):
    signal: Literal["tool_input"] = "tool_input"
    tool_use_id: str
    name: str


class Retrying(Signal):
    signal: Literal["retrying"] = "retrying"
    message: str
    attempt: int
    delay_s: float


class ApprovalPending(Signal):
    """An agent waits for a permission answer (the prompt itself goes to the approver)."""

    signal: Literal["approval"] = "approval"
    tool: str
    waiting: bool


class McpStatusChanged(Signal):
    """An MCP server started, failed or restarted (``agent`` is empty: it belongs to the session)."""

    signal: Literal["mcp"] = "mcp"
    server: str
    state: str
    error: str = ""


class ShellOutputGrew(Signal):
    """A background shell wrote more output: how much it has written so far (its file holds the text)."""

    signal: Literal["shell_output"] = "shell_output"
    shell_id: str
    output_bytes: int


Live = Union[
    TextStreamed, ThinkingStreamed, ToolInputStreaming, Retrying, ApprovalPending, McpStatusChanged, ShellOutputGrew
]
