"""An MCP server's tool as a workbench tool: ``mcp__SERVER__TOOL``, with the server's own schema."""

from __future__ import annotations

import json
import re

import mcp_types
from pydantic import BaseModel, ConfigDict

from workbench.protocol.brain_io import ToolSpec
from workbench.tools.base import Tool, ToolContext, ToolKind, ToolOutput
from workbench.tools.mcp.server import McpServer

MAX_NAME = 64  # the Messages API's limit on tool names
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def tool_name(server: str, tool: str) -> str:
    """``mcp__server__tool``, with characters the API does not allow in names replaced by ``_``."""
    return f"mcp__{_UNSAFE.sub('_', server)}__{_UNSAFE.sub('_', tool)}"[:MAX_NAME]


class McpInput(BaseModel):
    """Any JSON object: the server checks the arguments against its schema and says what is wrong."""

    model_config = ConfigDict(extra="allow")


class McpTool(Tool[McpInput]):
    Input = McpInput

    def __init__(self, server: McpServer, remote: mcp_types.Tool, *, read_only: bool = False) -> None:
        """``read_only``: the user marked the tool read-only. The server's ``readOnlyHint`` is its own claim
        and counts for nothing: a tool is ``exec`` (asks, and is refused in plan mode) unless the user says."""
        self.server = server
        self.read_only = read_only
        self.update(remote)

    def update(self, remote: mcp_types.Tool) -> None:
        """Take the server's current definition (it may change when the server restarts)."""
        self.remote = remote
        # per-instance: every MCP tool has its own name, description and kind
        self.name = tool_name(self.server.name, remote.name)  # type: ignore[misc]
        self.description = remote.description or f"The {remote.name} tool of the MCP server {self.server.name}."  # type: ignore[misc]
        self.kind: ToolKind = "read" if self.read_only else "exec"  # type: ignore[misc]

    @property
    def claims_read_only(self) -> bool:
        """What the server says of the tool (shown to the user, never acted on)."""
        return bool(self.remote.annotations is not None and self.remote.annotations.read_only_hint)

    def spec(self) -> ToolSpec:
        schema = dict(self.remote.input_schema) or {"type": "object", "properties": {}}
        return ToolSpec(name=self.name, description=self.description, input_schema=schema)

    async def run(self, params: McpInput, ctx: ToolContext) -> ToolOutput:
        return output_of(await self.server.call(self.remote.name, params.model_dump()))


def output_of(result: mcp_types.CallToolResult) -> ToolOutput:
    """The result as text for the model; what text cannot carry is described."""
    parts = [_text_of(block) for block in result.content]
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return ToolOutput(content="\n".join(parts) or "(no output)", is_error=bool(result.is_error))


def _text_of(block: mcp_types.ContentBlock) -> str:
    if isinstance(block, mcp_types.TextContent):
        return block.text
    if isinstance(block, (mcp_types.ImageContent, mcp_types.AudioContent)):
        return f"[{block.type}: {block.mime_type}, {len(block.data) * 3 // 4:,} bytes, not shown]"
    if isinstance(block, mcp_types.ResourceLink):
        return f"[resource: {block.uri}]"
    resource = block.resource
    if isinstance(resource, mcp_types.TextResourceContents):
        return resource.text
    return f"[resource: {resource.uri} ({resource.mime_type or 'binary'}), not shown]"
