"""A small MCP server for the tests, written with the SDK the client uses.

``python demo.py`` serves over stdio; ``--http`` serves streamable HTTP on
127.0.0.1 at a free port and prints ``listening on <url>`` once it accepts.
``--hang-on-start`` never answers the handshake; ``--crash-on-start`` exits at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys

from mcp.server import MCPServer
from mcp_types import ToolAnnotations

server = MCPServer("demo", log_level="CRITICAL")  # quiet: rich tracebacks on stderr are slow


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def fail(message: str) -> str:
    """Always raises, with the given message."""
    raise ValueError(message)


@server.tool()
async def sleep(seconds: float) -> str:
    """Sleep, then say so (for timeouts)."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool()
def die() -> str:
    """Exit the server process at once, mid-call."""
    os._exit(3)


async def serve_http() -> None:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = server.streamable_http_app()
    config = uvicorn.Config(app, log_level="warning")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve(sockets=[sock]))
    while not uv.started:
        await asyncio.sleep(0.01)
    print(f"listening on http://127.0.0.1:{port}/mcp", flush=True)
    await task


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--hang-on-start", action="store_true")
    parser.add_argument("--crash-on-start", action="store_true")
    args = parser.parse_args()
    if args.crash_on_start:
        sys.exit("demo: cannot start (as asked)")
    if args.hang_on_start:
        sys.stdin.read()
        return
    if args.http:
        asyncio.run(serve_http())
    else:
        server.run()


if __name__ == "__main__":
    main()
