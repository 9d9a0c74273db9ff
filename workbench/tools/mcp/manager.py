"""McpManager: every configured MCP server of a session, started on request, tools registered when ready."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from workbench.protocol.mcp import McpReport, McpServerInfo, McpToolInfo
from workbench.tools.mcp.config import McpConfigError, McpServerEntry, McpSettings, merge_entries, project_entries
from workbench.tools.mcp.server import McpServer, McpServerStatus
from workbench.tools.mcp.tool import McpTool, tool_name
from workbench.tools.registry import ToolRegistry

log = logging.getLogger(__name__)


class McpManager:
    """Starting is explicit (``start()``), so the first screen never waits for a server."""

    def __init__(
        self,
        entries: list[McpServerEntry],
        *,
        cwd: Path,
        startup_timeout_s: float = 30.0,
        call_timeout_s: float = 120.0,
        registry: ToolRegistry | None = None,
        environ: Mapping[str, str] | None = None,
        on_change: Callable[[McpServerStatus], None] | None = None,
        problems: list[str] | None = None,
        read_only: Callable[[str], bool] | None = None,
    ) -> None:
        """``read_only``: whether the user marked a tool (by its ``mcp__server__tool`` name) read-only."""
        self.registry = registry
        self.read_only = read_only or (lambda name: False)
        self.on_change = on_change
        self.problems = problems or []  # config files that could not be read at all
        self.servers: dict[str, McpServer] = {
            entry.name: McpServer(
                entry,
                cwd=cwd,
                startup_timeout_s=startup_timeout_s,
                call_timeout_s=call_timeout_s,
                environ=environ,
                on_change=self._changed,
            )
            for entry in entries
        }
        self._tools: dict[str, McpTool] = {}

    @classmethod
    def from_settings(
        cls,
        settings: McpSettings,
        cwd: Path,
        *,
        registry: ToolRegistry | None = None,
        on_change: Callable[[McpServerStatus], None] | None = None,
        project: bool = True,
    ) -> McpManager:
        """The servers of ``.mcp.json`` (unless ``project`` is False: an untrusted folder) and of ``settings``;
        an unreadable ``.mcp.json`` becomes a problem."""
        problems: list[str] = []
        try:
            entries = project_entries(cwd) if project else []
        except McpConfigError as exc:
            problems.append(str(exc))
            entries = []
        return cls(
            merge_entries(entries, settings),
            cwd=cwd,
            startup_timeout_s=settings.startup_timeout_s,
            call_timeout_s=settings.call_timeout_s,
            registry=registry,
            on_change=on_change,
            problems=problems,
            read_only=settings.marks_read_only,
        )

    # ---------------------------------------------------------------- commands

    def start(self) -> None:
        for server in self.servers.values():
            server.start()

    async def settled(self) -> None:
        """Wait until every server that is starting is ready or has failed."""
        await asyncio.gather(*(server.settled() for server in self.servers.values()))

    async def restart(self, name: str) -> McpServerStatus:
        server = self.servers[name]
        await server.restart()
        await server.settled()
        return server.status

    async def close(self) -> None:
        await asyncio.gather(*(server.stop() for server in self.servers.values()))

    # ---------------------------------------------------------------- views

    def statuses(self) -> list[McpServerStatus]:
        return [server.status for server in self.servers.values()]

    def report(self) -> McpReport:
        """What the screens show of every server."""
        return McpReport(servers=[self._info(server) for server in self.servers.values()], problems=self.problems)

    def _info(self, server: McpServer) -> McpServerInfo:
        status, config = server.status, server.entry.config
        launch = ""
        if config is not None:
            if config.type == "http":
                launch = config.url
            else:
                program = Path(config.command).name if "/" in config.command else config.command
                launch = " ".join([program, *config.args])
        return McpServerInfo(
            name=status.name,
            state=status.state,
            transport=status.transport,
            source=status.source,
            launch=launch,
            error=status.error,
            tool_names=list(status.tools),
            tools=[
                McpToolInfo(name=tool.name, kind=tool.kind, description=tool.description)
                for tool in self.tools(status.name)
            ],
            fixable="" if config is not None else server.entry.problem or "its entry is not valid",
        )

    def tools(self, server: str | None = None) -> list[McpTool]:
        return [tool for tool in self._tools.values() if server is None or tool.server.name == server]

    def _changed(self, server: McpServer) -> None:
        if server.status.state == "ready":
            for remote in server.tools:
                read_only = self.read_only(tool_name(server.name, remote.name))
                self._offer(McpTool(server, remote, read_only=read_only))
        if self.on_change is not None:
            self.on_change(server.status)

    def _offer(self, tool: McpTool) -> None:
        known = self._tools.get(tool.name)
        if known is not None and known.server is tool.server:
            known.update(tool.remote)  # a restarted server: same tool, maybe a new schema
            return
        if known is not None or (self.registry is not None and self.registry.get(tool.name) is not None):
            # server names that differ only in characters a tool name cannot hold
            log.warning("MCP tool %s of %s is named like another tool; left out", tool.remote.name, tool.server.name)
            return
        if self.registry is not None:
            self.registry.register(tool)
        self._tools[tool.name] = tool
