"""``workbench mcp ls``: each configured MCP server, whether it starts, and its tools."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from workbench.tools.mcp.config import McpSettings
from workbench.tools.mcp.manager import McpManager

NO_SERVERS = "No MCP servers configured: add them to .mcp.json or under [mcp.servers] in .workbench/config.toml."


async def list_servers(settings: McpSettings, cwd: Path, out: TextIO = sys.stdout, *, project: bool = True) -> int:
    """Start every server (a project's ``.mcp.json`` ones only when ``project``: a trusted folder), print what
    each offers, stop them. 1 when any could not be used."""
    manager = McpManager.from_settings(settings, cwd, project=project)
    for problem in manager.problems:
        print(f"! {problem}", file=out)
    if not manager.servers:
        print(NO_SERVERS, file=out)
        return 1 if manager.problems else 0
    manager.start()
    try:
        await manager.settled()
        _print(manager, out)
    finally:
        await manager.close()
    failed = any(status.state == "failed" for status in manager.statuses())
    return 1 if failed or manager.problems else 0


def _print(manager: McpManager, out: TextIO) -> None:
    for status in manager.statuses():
        source = "config" if status.source == "config" else Path(status.source).name
        print(f"{status.name}  {status.state}  {status.transport or '?'}  ({source})", file=out)
        for line in status.error.splitlines():
            print(f"    {line}", file=out)
        for tool in manager.tools(status.name):
            summary = next(iter(tool.description.strip().splitlines()), "")
            print(f"  {tool.name}  {summary}".rstrip(), file=out)
