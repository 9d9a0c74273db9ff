"""Which MCP servers to run: the ``[mcp]`` config section and a project's ``.mcp.json``.

``.mcp.json`` has the shape Claude Code uses::

    {"mcpServers": {
        "files": {"command": "npx", "args": ["-y", "some-server"], "env": {"TOKEN": "${TOKEN}"}},
        "remote": {"type": "http", "url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ${KEY}"}}}}

``${VAR}`` and ``${VAR:-default}`` are expanded from the environment when the
server starts. A bad entry is kept as a server that failed, with the reason, so
one typo never hides the others.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, ValidationError, field_validator

PROJECT_FILE = ".mcp.json"


class McpConfigError(ValueError):
    """A config file that cannot be read at all; the message names it."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StdioServerConfig(_Entry):
    """A server run as a subprocess, spoken to over its stdin and stdout."""

    type: Literal["stdio"] = "stdio"
    command: str = Field(min_length=1)
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: Path | None = None  # relative to the project; default: the project folder


class HttpServerConfig(_Entry):
    """A server reached over streamable HTTP."""

    type: Literal["http"] = "http"
    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)


def _transport(value: Any) -> str:
    if isinstance(value, dict):
        return value.get("type") or ("http" if "url" in value else "stdio")
    return getattr(value, "type", "stdio")


McpServerConfig = Annotated[
    Union[Annotated[StdioServerConfig, Tag("stdio")], Annotated[HttpServerConfig, Tag("http")]],
    Discriminator(
        _transport,
        custom_error_type="mcp_transport",
        custom_error_message="type must be 'stdio' (command) or 'http' (url)",
    ),
]
_SERVER: TypeAdapter[StdioServerConfig | HttpServerConfig] = TypeAdapter(McpServerConfig)


def server_config(raw: Any) -> StdioServerConfig | HttpServerConfig:
    """One server's entry, as ``.mcp.json`` or ``[mcp.servers]`` writes it; raises ValidationError."""
    return _SERVER.validate_python(raw)


class McpSettings(BaseModel):
    """The ``[mcp]`` section of ``config.toml``."""

    model_config = ConfigDict(extra="forbid")

    servers: dict[str, McpServerConfig] = Field(default_factory=dict)
    startup_timeout_s: float = Field(default=30.0, gt=0)
    call_timeout_s: float = Field(default=120.0, gt=0)
    # tools the user vouches change nothing (mcp__server__tool, mcp__server__* or mcp__server): they run in
    # plan mode and unasked like Read. A server's own readOnlyHint is only a hint and counts for nothing.
    read_only: list[str] = Field(default_factory=list)

    @field_validator("read_only")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not re.fullmatch(r"mcp__[\w-]+(?:__(?:[\w-]+|\*))?", name):
                raise ValueError(
                    f"{name!r} is not an MCP tool name: write mcp__server__tool, mcp__server__* or mcp__server"
                )
        return names

    def marks_read_only(self, tool: str) -> bool:
        """Whether the user's ``read_only`` list names ``tool`` (an ``mcp__server__tool`` name)."""
        for name in self.read_only:
            if tool == name or (name.endswith("__*") and tool.startswith(name[:-1])):
                return True
            if name.count("__") == 1 and tool.startswith(name + "__"):
                return True
        return False


class McpServerEntry(BaseModel):
    """One configured server, where it was configured, and why it cannot run if it cannot."""

    name: str
    source: str  # "config" or the path of a .mcp.json
    config: StdioServerConfig | HttpServerConfig | None = None
    problem: str = ""


def project_entries(cwd: Path) -> list[McpServerEntry]:
    """The servers of ``cwd/.mcp.json`` (none when there is no such file)."""
    path = cwd / PROJECT_FILE
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise McpConfigError(f"{path}: cannot be read: {exc}") from None
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise McpConfigError(f'{path}: expected an object with "mcpServers": {{name: server}}')
    entries = []
    for name, raw in servers.items():
        try:
            entries.append(McpServerEntry(name=name, source=str(path), config=server_config(raw)))
        except ValidationError as exc:
            entries.append(McpServerEntry(name=name, source=str(path), problem=_explain(exc)))
    return entries


def merge_entries(project: list[McpServerEntry], settings: McpSettings) -> list[McpServerEntry]:
    """``.mcp.json`` servers, then ``[mcp.servers]`` ones; a config server replaces a same-named one."""
    by_name = {entry.name: entry for entry in project}
    for name, config in settings.servers.items():
        by_name[name] = McpServerEntry(name=name, source="config", config=config)
    return list(by_name.values())


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(text: str, environ: Mapping[str, str]) -> str:
    """``${VAR}`` and ``${VAR:-default}`` from ``environ``; an unset variable without default is an error."""

    def value(match: re.Match[str]) -> str:
        name, default = match[1], match[2]
        if name in environ:
            return environ[name]
        if default is None:
            raise McpConfigError(f"the environment variable {name} is not set")
        return default

    return _VARIABLE.sub(value, text)


def expanded(
    config: StdioServerConfig | HttpServerConfig, environ: Mapping[str, str]
) -> StdioServerConfig | HttpServerConfig:
    """The config with every variable of its strings expanded."""
    if isinstance(config, StdioServerConfig):
        return config.model_copy(
            update={
                "command": expand(config.command, environ),
                "args": [expand(arg, environ) for arg in config.args],
                "env": {key: expand(val, environ) for key, val in config.env.items()},
            }
        )
    return config.model_copy(
        update={
            "url": expand(config.url, environ),
            "headers": {key: expand(val, environ) for key, val in config.headers.items()},
        }
    )


def _explain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"] if part not in ("stdio", "http"))
    message = "unknown setting" if first["type"] == "extra_forbidden" else first["msg"]
    return f"{where}: {message}" if where else message
