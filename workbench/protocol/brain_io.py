"""What goes between the agent loop and a brain: the request, the streamed events, the error."""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from workbench.protocol.content import ContentBlock
from workbench.protocol.events import CacheCreation


class ToolSpec(BaseModel):
    """A tool as the model sees it: the Messages API's tool definition."""

    name: str
    description: str
    input_schema: dict[str, Any]


class ThinkingConfig(BaseModel):
    enabled: bool = False
    budget_tokens: int = 4096


class PromptCache(BaseModel):
    """Prompt caching for a request: how long its cache entries live, and what every request of its agent repeats.

    ``standing_blocks``: the leading content blocks of the first message that stand for the whole
    session (the memory files): a breakpoint after them is a prefix that agents share.
    """

    model_config = ConfigDict(frozen=True)

    ttl: Literal["5m", "1h"] = "5m"
    standing_blocks: int = 0


class WebSearchTool(BaseModel):
    """The Messages API's server-side web search, offered with a request (a Claude brain runs it; others
    leave it out). Domains as the API takes them: ``example.com``, ``docs.example.com``."""

    model_config = ConfigDict(frozen=True)

    max_uses: int = 5
    allowed_domains: list[str] = Field(default_factory=list)
    blocked_domains: list[str] = Field(default_factory=list)

    def api_tool(self) -> dict[str, Any]:
        """The tool definition the API takes (``web_search_20250305``)."""
        tool: dict[str, Any] = {"type": "web_search_20250305", "name": "web_search", "max_uses": self.max_uses}
        if self.allowed_domains:  # the API takes one of the two lists, not both
            tool["allowed_domains"] = self.allowed_domains
        elif self.blocked_domains:
            tool["blocked_domains"] = self.blocked_domains
        return tool


class BrainRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: str
    system: str = ""
    messages: list[dict[str, Any]]
    tools: list[ToolSpec] = Field(default_factory=list)
    max_tokens: int = 8192
    thinking: ThinkingConfig = Field(default_factory=ThinkingConfig)
    # who is asking: lets rule-based brains tell a primary from a tertiary
    agent_level: int = 1
    # None: no prompt caching
    cache: PromptCache | None = None
    # None: the model may not search the web
    web_search: WebSearchTool | None = None


class TextDelta(BaseModel):
    type: Literal["text_delta"] = "text_delta"
    text: str


class ThinkingDelta(BaseModel):
    type: Literal["thinking_delta"] = "thinking_delta"
    thinking: str


class ToolUseStarted(BaseModel):
    """The model began a tool call; its input is still streaming."""

    type: Literal["tool_use_started"] = "tool_use_started"
    id: str
    name: str


class UsageReport(BaseModel):
    type: Literal["usage"] = "usage"
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation: CacheCreation | None = None
    web_search_requests: int = 0  # searches the API ran for the reply (each one is charged)
    model: str = ""
    source: Literal["api", "scripted"] = "api"


class MessageDone(BaseModel):
    """The reply is complete: its final content blocks and why it stopped."""

    type: Literal["message_done"] = "message_done"
    content: list[ContentBlock]
    stop_reason: str | None = None


class RetryNotice(BaseModel):
    """A retryable failure happened; the brain waits and tries again."""

    type: Literal["retry"] = "retry"
    message: str
    attempt: int
    delay_s: float


BrainEvent = Union[TextDelta, ThinkingDelta, ToolUseStarted, UsageReport, MessageDone, RetryNotice]


class BrainError(Exception):
    """A failure the agent records as an ``error`` event (after any retries)."""

    def __init__(self, message: str, *, error_type: str = "error", retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type
        self.retryable = retryable
