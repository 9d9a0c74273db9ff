"""Workspace trust: what a project folder could run or widen, and whether the user let it.

A cloned repository is someone else's text. Before any of it applies, the
folder is surveyed for everything that runs code or widens access — hooks
(``.claude/settings.json``, ``.workbench/settings.json`` and their ``.local``
forms, ``[hooks]`` of ``.workbench/config.toml``), MCP servers (``.mcp.json``,
``[mcp.servers]``), primers whose ``!`command``` lines would run (and the
``Bash(...)`` approvals they give themselves), a permission mode or allow
rules wider than the user's own, the API server, model and brain, the bundle
store — each listed as exactly what would run or change.

The user trusts the folder or opens it restricted, where none of it applies
(:func:`workbench.engine.config.load_config` with ``trusted=False``). The
decision is remembered per folder and per hash of the files the survey read:
change one, and the question comes again. A folder with nothing to list is
never asked about.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from workbench.engine.config import RESTRICTED_KEYS, base_url_allowed, project_config_path, user_config_path
from workbench.engine.policy.hooks import SETTINGS_FILES, HookConfigError, HooksConfig, read_settings
from workbench.engine.priming.primers import PrimerError, load_primer, primer_dirs, primer_files
from workbench.engine.priming.syntax import segments
from workbench.tools.mcp.config import (
    HttpServerConfig,
    McpConfigError,
    StdioServerConfig,
    project_entries,
    server_config,
)

Decision = Literal["trusted", "restricted"]
TRUST_FILE = "trust.json"
# how far the mode goes, from the most careful
_MODE_RANK = {"plan": 0, "default": 1, "acceptEdits": 2, "bypass": 3}
_MCP_FILE = ".mcp.json"


class TrustItem(BaseModel):
    """One thing the project would do: where it is written, and what exactly would run or change."""

    source: str  # workspace-relative file
    what: str


class ProjectSurvey(BaseModel):
    workspace: str  # the folder's real path
    items: list[TrustItem] = Field(default_factory=list)
    # workspace-relative path → sha256 of each file the items come from
    files: dict[str, str] = Field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for path, sha in sorted(self.files.items()):
            digest.update(f"{path}\0{sha}\n".encode())
        return digest.hexdigest()

    @property
    def needs_decision(self) -> bool:
        return bool(self.items)

    def lines(self) -> list[str]:
        """The items as the trust screen and the CLI print them."""
        return [f"{item.source}: {item.what}" for item in self.items]


def survey(workspace: Path, environ: dict[str, str] | None = None) -> ProjectSurvey:
    """Everything in ``workspace`` that can run code or widen access, as it would apply if trusted."""
    found = _Survey(workspace, environ)
    found.config()
    found.settings_files()
    found.mcp_file()
    found.primers()
    return ProjectSurvey(workspace=str(workspace.resolve()), items=found.items, files=found.files)


class _Survey:
    def __init__(self, workspace: Path, environ: dict[str, str] | None) -> None:
        self.workspace = workspace
        self.environ = environ
        self.items: list[TrustItem] = []
        self.files: dict[str, str] = {}

    def add(self, path: Path, what: str) -> None:
        source = path.relative_to(self.workspace).as_posix()
        if source not in self.files:
            try:
                self.files[source] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                self.files[source] = "unreadable"
        self.items.append(TrustItem(source=source, what=what))

    # -- .workbench/config.toml

    def config(self) -> None:
        path = project_config_path(self.workspace)
        if not path.is_file():
            return
        try:
            project = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            self.add(path, f"cannot be read ({exc}); none of it applies unless trusted")
            return
        user = _user_config(self.environ)
        user_permissions = user.get("permissions", {}) if isinstance(user.get("permissions"), dict) else {}
        permissions = project.get("permissions", {})
        if isinstance(permissions, dict):
            mode = permissions.get("mode")
            theirs = user_permissions.get("mode", "default")
            if isinstance(mode, str) and _MODE_RANK.get(mode, 0) > _MODE_RANK.get(theirs, 1):
                self.add(path, f"sets the permission mode to {mode} (yours: {theirs})")
            mine = set(user_permissions.get("allow", []) or [])
            for rule in permissions.get("allow", []) or []:
                if rule not in mine:
                    self.add(path, f"allows {rule} without asking")
            lifted = set(user_permissions.get("lift_guardrails", []) or [])
            for name in permissions.get("lift_guardrails", []) or []:
                if name not in lifted:
                    self.add(path, f"lifts the git guardrail {name}")
        for key in ("brain", "model", "max_tokens", "thinking", "models"):
            if key in project:
                self.add(path, f"sets {key} = {_short(project[key])}")
        if "base_url" in project:
            url = str(project["base_url"])
            if base_url_allowed(url, user.get("api_hosts", [])):
                self.add(path, f"sends your requests and API key to {url} (its host is in your api_hosts)")
            else:
                self.add(path, f"names the API server {url}: ignored — your key goes only where you configure")
        if "bundles" in project:
            self.add(path, f"keeps your session logs in {project['bundles']}")
        if "api_hosts" in project:
            self.add(path, "lists api_hosts: ignored — only your own config can allow a server")
        mcp = project.get("mcp", {})
        if isinstance(mcp, dict):
            for name, server in (mcp.get("servers") or {}).items():
                self.add(path, _describe_server(name, server))
            for tool in mcp.get("read_only", []) or []:
                self.add(path, f"marks the MCP tool {tool} read-only (runs in plan mode, unasked)")
        if "hooks" in project:
            try:
                hooks = HooksConfig.model_validate(project["hooks"])
            except ValidationError as exc:
                self.add(path, f"has hooks that cannot be read ({exc.errors()[0]['msg']})")
            else:
                self._hooks(path, hooks)
        unknown = set(project) - RESTRICTED_KEYS - {
            "permissions", "brain", "model", "max_tokens", "thinking", "models", "base_url", "bundles",
            "api_hosts", "mcp", "hooks",
        }  # fmt: skip
        for key in sorted(unknown):
            self.add(path, f"sets {key} = {_short(project[key])}")

    # -- hooks in settings files

    def settings_files(self) -> None:
        for name in SETTINGS_FILES:
            path = self.workspace / name
            if not path.is_file():
                continue
            try:
                hooks = read_settings(path)
            except HookConfigError as exc:
                self.add(path, f"has hooks that cannot be read ({exc})")
                continue
            self._hooks(path, hooks)

    def _hooks(self, path: Path, hooks: HooksConfig) -> None:
        for event, matchers in hooks.root.items():
            for matcher in matchers:
                when = f"{event}" + (f" ({matcher.matcher})" if matcher.matcher not in ("", "*") else "")
                for hook in matcher.hooks:
                    self.add(path, f"runs `{hook.command}` on {when}")

    # -- .mcp.json

    def mcp_file(self) -> None:
        path = self.workspace / _MCP_FILE
        if not path.is_file():
            return
        try:
            entries = project_entries(self.workspace)
        except McpConfigError as exc:
            self.add(path, f"cannot be read ({exc})")
            return
        for entry in entries:
            if entry.config is None:
                self.add(path, f"configures the MCP server {entry.name}, which cannot start ({entry.problem})")
            else:
                self.add(path, _describe_server(entry.name, entry.config))

    # -- primers that run commands

    def primers(self) -> None:
        dirs = [d for d in primer_dirs(self.workspace, self.environ) if d.origin in ("project", "claude")]
        for file in primer_files(dirs):
            try:
                primer = load_primer(file)
            except (PrimerError, OSError, UnicodeDecodeError):
                continue
            commands = [piece.value for piece in segments(primer.body) if piece.kind == "command"]
            if not commands:
                continue
            approved = [rule.text for rule in primer.command_rules()]
            shown = ", ".join(f"`{command}`" for command in commands)
            note = f"; its own tools approve {', '.join(approved)} without asking" if approved else ""
            self.add(file.path, f"primer {primer.name} runs {shown} when used{note}")


def _describe_server(name: str, server: Any) -> str:
    if isinstance(server, dict):
        try:
            server = server_config(server)
        except ValidationError:
            return f"configures the MCP server {name} (malformed)"
    if isinstance(server, StdioServerConfig):
        command = shlex.join([server.command, *server.args])
        env = f" with {', '.join(server.env)} set" if server.env else ""
        return f"starts the MCP server {name}: `{command}`{env}"
    if isinstance(server, HttpServerConfig):
        headers = f", sending {', '.join(server.headers)}" if server.headers else ""
        return f"connects to the MCP server {name} at {server.url}{headers}"
    return f"configures the MCP server {name}"


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _user_config(environ: dict[str, str] | None) -> dict[str, Any]:
    path = user_config_path(environ)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


# --- remembered decisions -----------------------------------------------------------------------


class _Remembered(BaseModel):
    decision: Decision
    fingerprint: str
    decided: datetime
    files: dict[str, str] = Field(default_factory=dict)


def trust_store_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    data_home = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "workbench" / TRUST_FILE


class TrustStore:
    """Decisions per folder, each valid for the exact files it was made on."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def decision(self, found: ProjectSurvey) -> Decision | None:
        """The remembered decision for this folder as it is now; None when never asked or a file changed."""
        if not found.needs_decision:
            return "trusted"
        remembered = self._read().get(found.workspace)
        if remembered is None or remembered.fingerprint != found.fingerprint:
            return None
        return remembered.decision

    def remember(self, found: ProjectSurvey, decision: Decision) -> None:
        entries = self._read()
        entries[found.workspace] = _Remembered(
            decision=decision, fingerprint=found.fingerprint, decided=datetime.now(UTC), files=found.files
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({path: entry.model_dump(mode="json") for path, entry in entries.items()}, f, indent=2)
        os.replace(tmp, self.path)

    def _read(self) -> dict[str, _Remembered]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        entries = {}
        for path, entry in raw.items() if isinstance(raw, dict) else ():
            try:
                entries[path] = _Remembered.model_validate(entry)
            except ValidationError:
                continue  # a damaged entry: that folder is asked about again
        return entries
