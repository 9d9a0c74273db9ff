"""One MCP server: its connection's lifetime, its status, and calls to its tools.

The SDK's client is entered and left by one runner task per start (anyio scopes
must nest within a task); tool calls from agents' tasks go through the live
session meanwhile. Whatever goes wrong — the command is missing, the server
exits, it does not answer in time — ends up in ``status`` and, for a call, as a
:class:`~workbench.tools.base.ToolFailure` the model reads; it never propagates.
"""

from __future__ import annotations

import asyncio
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from pathlib import Path
from typing import Any, Literal, TextIO, cast

import anyio
import httpx2
import mcp_types
from mcp import Client, MCPError, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from pydantic import BaseModel, Field

from workbench import __version__
from workbench.tools.base import ToolFailure
from workbench.tools.mcp.config import HttpServerConfig, McpServerEntry, StdioServerConfig, expanded

McpState = Literal["stopped", "starting", "ready", "failed"]
STDERR_TAIL_CHARS = 600


class McpServerStatus(BaseModel):
    name: str
    state: McpState = "stopped"
    transport: Literal["stdio", "http"] | None = None
    source: str = ""
    # why it failed; while ready, what went wrong with the last call that failed
    error: str = ""
    tools: list[str] = Field(default_factory=list)  # the server's own tool names


class McpCallFailed(ToolFailure):
    """A call that did not get a result: the message is written for the model."""


class McpServer:
    def __init__(
        self,
        entry: McpServerEntry,
        *,
        cwd: Path,
        startup_timeout_s: float,
        call_timeout_s: float,
        environ: Mapping[str, str] | None = None,
        on_change: Callable[[McpServer], None] | None = None,
    ) -> None:
        self.entry = entry
        self.name = entry.name
        self.cwd = cwd
        self.startup_timeout_s = startup_timeout_s
        self.call_timeout_s = call_timeout_s
        self.environ = os.environ if environ is None else environ
        self.on_change = on_change
        self.tools: list[mcp_types.Tool] = []
        self.status = McpServerStatus(
            name=entry.name,
            transport=entry.config.type if entry.config is not None else None,
            source=entry.source,
        )
        if entry.problem:
            self.status = self.status.model_copy(update={"state": "failed", "error": entry.problem})
        self._client: Client | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._settled = asyncio.Event()
        self._stderr: _StderrLog | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Begin connecting in the background; a running or misconfigured server is left as it is."""
        if self.entry.config is None or (self._runner is not None and not self._runner.done()):
            return
        self._stop = asyncio.Event()
        self._settled = asyncio.Event()
        self._set(state="starting", error="", tools=[])
        self._runner = asyncio.create_task(self._run(self.entry.config), name=f"mcp-{self.name}")

    async def stop(self) -> None:
        self._stop.set()
        if self._runner is not None:
            if self.status.state == "starting":  # a handshake in progress is not waited for
                self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        if self.status.state in ("starting", "ready"):
            self._set(state="stopped")

    async def restart(self) -> None:
        await self.stop()
        self.start()

    async def settled(self) -> None:
        """Wait until a start has ended in ready or failed (at once when not starting)."""
        if self.status.state == "starting":
            await self._settled.wait()

    async def _run(self, config: StdioServerConfig | HttpServerConfig) -> None:
        try:
            with anyio.move_on_after(self.startup_timeout_s) as deadline:
                async with AsyncExitStack() as stack:
                    transport = await self._transport(expanded(config, self.environ), stack)
                    client = await stack.enter_async_context(
                        Client(transport, client_info=mcp_types.Implementation(name="workbench", version=__version__))
                    )
                    self.tools = await _list_tools(client)
                    deadline.deadline = math.inf  # started: from now on only ``stop`` ends it
                    self._client = client
                    self._set(state="ready", tools=[tool.name for tool in self.tools])
                    self._settled.set()
                    await self._stop.wait()
            if deadline.cancelled_caught:
                self._fail(f"did not start within {self.startup_timeout_s:g} s")
        except Exception as exc:  # the SDK raises anything from OSError to exception groups
            if not self._stop.is_set():  # not a failure while stopping, nor one already reported
                self._fail(_reason(exc))
        finally:
            self._client = None
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None
            self._settled.set()

    async def _transport(
        self, config: StdioServerConfig | HttpServerConfig, stack: AsyncExitStack
    ) -> AbstractAsyncContextManager[Any]:
        if isinstance(config, StdioServerConfig):
            self._stderr = _StderrLog()
            params = StdioServerParameters(
                command=config.command,
                args=config.args,
                env=config.env or None,
                cwd=self.cwd / config.cwd if config.cwd is not None else self.cwd,
            )
            return stdio_client(params, errlog=self._stderr.file)
        http = await stack.enter_async_context(
            httpx2.AsyncClient(headers=config.headers, timeout=httpx2.Timeout(30.0, read=300.0))
        )
        return streamable_http_client(config.url, http_client=http)

    # ---------------------------------------------------------------- calls

    async def call(self, tool: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        """Call one of the server's tools; raises McpCallFailed when no result came back."""
        client = self._client
        if client is None or self.status.state != "ready":
            raise McpCallFailed(self._unavailable())
        try:
            return await client.call_tool(tool, arguments, read_timeout_seconds=self.call_timeout_s)
        except MCPError as exc:
            if exc.code == mcp_types.REQUEST_TIMEOUT:
                problem = f"{tool} did not answer within {self.call_timeout_s:g} s"
                self._set(error=problem)
                raise McpCallFailed(f"The MCP server {self.name} timed out: {problem}.") from None
            if exc.code == mcp_types.CONNECTION_CLOSED and client is self._client:
                self._fail(_reason(exc))
                raise McpCallFailed(self._unavailable()) from None
            raise McpCallFailed(f"The MCP server {self.name} answered {tool} with an error: {exc}") from None
        except Exception as exc:  # a malformed result, say: the connection itself may be fine
            problem = f"{tool} failed: {_reason(exc)}"
            self._set(error=problem)
            raise McpCallFailed(f"The MCP server {self.name} could not complete the call: {problem}") from None

    def _unavailable(self) -> str:
        why = f": {self.status.error}" if self.status.error else f" ({self.status.state})"
        return f"The MCP server {self.name} is not available{why}. Its tools cannot be used until it is restarted."

    # ---------------------------------------------------------------- status

    def _fail(self, reason: str) -> None:
        tail = self._stderr.tail() if self._stderr is not None else ""
        self._set(state="failed", error=f"{reason}\n{tail}" if tail else reason)
        self._stop.set()
        self._settled.set()

    def _set(self, **changes: Any) -> None:
        self.status = self.status.model_copy(update=changes)
        if self.on_change is not None:
            self.on_change(self)


async def _list_tools(client: Client) -> list[mcp_types.Tool]:
    tools: list[mcp_types.Tool] = []
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor)
        tools += page.tools
        cursor = page.next_cursor
        if cursor is None:
            return tools


class _StderrLog:
    """A stdio server's stderr, kept in a temporary file so a failure can quote its end."""

    def __init__(self) -> None:
        self.file = cast(TextIO, tempfile.TemporaryFile("w+", encoding="utf-8"))

    def tail(self) -> str:
        fd = self.file.fileno()
        size = os.fstat(fd).st_size
        # pread leaves the offset the server's writes share untouched
        data = os.pread(fd, STDERR_TAIL_CHARS, max(0, size - STDERR_TAIL_CHARS))
        return data.decode("utf-8", errors="replace").strip()

    def close(self) -> None:
        self.file.close()


def _reason(exc: BaseException) -> str:
    """The innermost useful message of an exception (exception groups unwrapped)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    if isinstance(exc, MCPError) and exc.code == mcp_types.CONNECTION_CLOSED:
        return "the server closed the connection (did it exit?)"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
