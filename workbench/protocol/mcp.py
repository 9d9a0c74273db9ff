"""What a screen is told of the session's MCP servers: each one's state, how it is reached, its tools."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

McpState = Literal["stopped", "starting", "ready", "failed"]


class McpToolInfo(BaseModel):
    name: str  # as agents see it: mcp__server__tool
    kind: str  # "read" (the server says it only reads) or "exec"
    description: str = ""


class McpServerInfo(BaseModel):
    name: str
    state: McpState = "stopped"
    transport: Literal["stdio", "http"] | None = None
    source: str = ""  # the file that declares it, or "config"
    launch: str = ""  # its command line, or its URL
    error: str = ""  # why it failed; while ready, what went wrong with the last call that failed
    tool_names: list[str] = Field(default_factory=list)  # the server's own names for its tools
    tools: list[McpToolInfo] = Field(default_factory=list)  # what agents are offered
    fixable: str = ""  # why it cannot start until its entry is fixed ('' when it can)


class McpReport(BaseModel):
    servers: list[McpServerInfo] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)  # config files that could not be read at all
