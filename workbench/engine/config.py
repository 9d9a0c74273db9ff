"""Configuration: defaults, then the user's file, then the project's, each validated.

A bad value is a :class:`ConfigError` naming the file, the key and what was
expected, never a traceback.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from workbench.brains.base import MAX_ATTEMPTS, REQUEST_TIMEOUT_S, STALL_TIMEOUT_S
from workbench.engine.policy.guardrails import GuardrailName, Guardrails
from workbench.engine.policy.hooks import HooksConfig
from workbench.engine.policy.permissions import PermissionRuleError, Rule
from workbench.engine.policy.session_policy import SessionPolicy
from workbench.engine.pricing import ModelPrice
from workbench.protocol.commands import Isolation
from workbench.protocol.modes import PermissionMode
from workbench.tools.mcp.config import McpSettings

if TYPE_CHECKING:  # the brains' models load with the engine, not with the config
    from workbench.protocol.brain_io import ThinkingConfig, WebSearchTool

FsyncPolicy = Literal["always", "interval", "never"]
BrainChoice = Literal["auto", "scripted", "anthropic"]


class ConfigError(Exception):
    pass


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PermissionsConfig(_Section):
    mode: PermissionMode = "default"
    allow: list[str] = Field(default_factory=list)
    ask: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)
    # the git guardrails this user lifts, by name (no rule or mode lifts them)
    lift_guardrails: list[GuardrailName] = Field(default_factory=list)

    @field_validator("allow", "ask", "deny")
    @classmethod
    def _rules_parse(cls, rules: list[str]) -> list[str]:
        for text in rules:
            try:
                Rule.parse(text)
            except PermissionRuleError as exc:
                raise ValueError(str(exc)) from None
        return rules


class WebSettings(_Section):
    # networks (CIDR, or one address) WebFetch may reach although they are not public: loopback, private …
    allow_networks: list[str] = Field(default_factory=list)
    max_bytes: int = Field(default=5 << 20, ge=1024)  # of one page
    small_model: str = "claude-haiku-4-5"  # answers the question about a fetched page
    # the API's web search (a Claude brain only): searches per request, 0 = not offered; one of the domain lists
    search_max_uses: int = Field(default=5, ge=0)
    search_allowed_domains: list[str] = Field(default_factory=list)
    search_blocked_domains: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_domain_list(self) -> WebSettings:
        if self.search_allowed_domains and self.search_blocked_domains:
            raise ValueError("give search_allowed_domains or search_blocked_domains, not both (the API takes one)")
        return self

    def search_tool(self) -> WebSearchTool | None:
        """The web search the agents' requests offer, or None."""
        from workbench.protocol.brain_io import WebSearchTool

        if not self.search_max_uses:
            return None
        return WebSearchTool(
            max_uses=self.search_max_uses,
            allowed_domains=self.search_allowed_domains,
            blocked_domains=self.search_blocked_domains,
        )

    @field_validator("allow_networks")
    @classmethod
    def _networks_parse(cls, networks: list[str]) -> list[str]:
        import ipaddress

        for text in networks:
            try:
                ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise ValueError(f"{text!r} is not a network (write 127.0.0.0/8, 10.0.0.5 or ::1)") from None
        return networks


class ThresholdsConfig(_Section):
    delegate: float = Field(default=0.30, gt=0, le=1)
    auto_compact: float = Field(default=0.80, gt=0, le=1)


class LimitsConfig(_Section):
    children_per_agent: int = Field(default=3, ge=1)
    concurrency: int = Field(default=20, ge=1)
    depth: int = Field(default=3, ge=1, le=3)
    # spending caps in USD: the whole session's, and each background agent's (with what it starts)
    max_budget_usd: float | None = Field(default=None, gt=0)
    max_budget_usd_background: float | None = Field(default=None, gt=0)


CacheTtl = Literal["5m", "1h"]


class CacheSettings(_Section):
    """Prompt caching: on, and how long an agent's cache entries live (foreground, background and delegated)."""

    enabled: bool = True
    ttl_foreground: CacheTtl = "5m"
    # a background agent may wait long on an approval or a pause; an hour's entry (written at 2x) outlives that
    ttl_background: CacheTtl = "1h"
    # a delegated agent's requests follow each other while its parent waits: five minutes (written at 1.25x) do
    ttl_delegated: CacheTtl = "5m"


class MemorySettings(_Section):
    """The memory files (CLAUDE.md, AGENTS.md) loaded at session start as a standing primer."""

    enabled: bool = True
    # more than this (the files and their imports together) and none is loaded, with a message saying so
    max_tokens: int = Field(default=20_000, ge=1)


class ApiConfig(_Section):
    """How long a reply from the Messages API may keep an agent waiting."""

    request_timeout_s: float = Field(default=REQUEST_TIMEOUT_S, gt=0)
    stall_timeout_s: float = Field(default=STALL_TIMEOUT_S, gt=0)
    max_attempts: int = Field(default=MAX_ATTEMPTS, ge=1)


class ClusterConfig(_Section):
    """Where background and delegated agents run when they outgrow this machine: a NATS JetStream
    server or cluster (``workbench serve --cluster``, ``workbench worker``)."""

    # nats://[user:password@|token@]host:4222, or tls://… for TLS
    url: str | None = None
    creds: Path | None = None  # a NATS credentials file (a user JWT and its nkey seed)
    nkey: Path | None = None  # a file holding an nkey seed (nkey authentication without a JWT)
    tls_ca: Path | None = None  # the certificate authority to trust (a private one)
    tls_cert: Path | None = None  # a client certificate, when the server asks for one
    tls_key: Path | None = None
    # a worker that stops answering for this long loses its runs to the other workers
    ack_wait_s: float = Field(default=30.0, ge=1)
    heartbeat_s: float = Field(default=2.0, gt=0)

    @field_validator("url")
    @classmethod
    def _url_names_a_server(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parsed = urlsplit(url if "://" in url else f"nats://{url}")
        if parsed.scheme not in ("nats", "tls") or not parsed.hostname:
            raise ValueError("expected nats://HOST:PORT or tls://HOST:PORT (credentials may come before the host)")
        return parsed.geturl()


class ThinkingSettings(_Section):
    enabled: bool = False
    budget_tokens: int = Field(default=4096, ge=1024)  # the API's minimum


class ModelSettings(_Section):
    thinking: ThinkingSettings | None = None


class Config(_Section):
    brain: BrainChoice = "auto"
    # embedded: the app runs its agents itself; daemon: `workbench` opens its sessions in the store's daemon
    # (started when none runs), and quitting the app leaves them running
    engine: Literal["embedded", "daemon"] = "embedded"
    model: str = "claude-sonnet-4-6"
    max_tokens: int = Field(default=8192, ge=1)
    base_url: str | None = None
    api: ApiConfig = Field(default_factory=ApiConfig)
    window: int = Field(default=200_000, ge=1000)
    bundles: Path | None = None
    fsync: FsyncPolicy = "interval"
    theme: str = "workbench-dark"
    keys: dict[str, str] = Field(default_factory=dict)
    permissions: PermissionsConfig = Field(default_factory=PermissionsConfig)
    thresholds: ThresholdsConfig = Field(default_factory=ThresholdsConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    auto_delegate: bool = False
    # where background and delegated agents that may write work (the primary and read-only types: shared)
    isolation: Isolation = "worktree"
    bell: bool = True
    # pace of the offline brain's streaming, so the tour reads like a live reply
    scripted_delay_s: float = Field(default=0.015, ge=0)
    # the panes that show many agents (agents, log, session figures) redraw at most this often; the
    # focused conversation streams as it comes
    pane_redraw_s: float = Field(default=0.2, ge=0)
    thinking: ThinkingSettings = Field(default_factory=ThinkingSettings)
    models: dict[str, ModelSettings] = Field(default_factory=dict)  # [models."claude-opus-4-1".thinking]
    mcp: McpSettings = Field(default_factory=McpSettings)
    hooks: HooksConfig = Field(default_factory=HooksConfig)
    web: WebSettings = Field(default_factory=WebSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    aliases: dict[str, str] = Field(default_factory=dict)  # [aliases] opus = "claude-opus-4-8"
    prices: dict[str, ModelPrice] = Field(default_factory=dict)  # [prices."claude-x"] input = 3.0, USD per MTok
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    # hosts (host or host:port) a project's base_url may name and still get your API key; read from your
    # own config only
    api_hosts: list[str] = Field(default_factory=list)
    # whether the project's own files apply (hooks, .mcp.json, primer approvals, wider settings): set by
    # load_config from the trust decision, never by a file
    _project_trusted: bool = PrivateAttr(default=True)

    @property
    def project_trusted(self) -> bool:
        return self._project_trusted

    def policy(self, workspace: Path) -> SessionPolicy:
        """The permission policy this configuration starts a session with in ``workspace``: the git guardrails
        first (less those lifted), then the rules and the mode."""
        rules = self.permissions
        return SessionPolicy(
            mode=rules.mode,
            allow=rules.allow,
            ask=rules.ask,
            deny=rules.deny,
            workspace=workspace,
            guardrails=Guardrails(rules.lift_guardrails),
        )

    def thinking_for(self, model: str) -> ThinkingConfig:
        from workbench.protocol.brain_io import ThinkingConfig

        chosen = self._thinking_settings(model)
        return ThinkingConfig(enabled=chosen.enabled, budget_tokens=chosen.budget_tokens)

    def _thinking_settings(self, model: str) -> ThinkingSettings:
        own = self.models.get(model)
        return own.thinking if own is not None and own.thinking is not None else self.thinking

    @model_validator(mode="after")
    def _thinking_fits(self) -> Config:
        thinking = self._thinking_settings(self.model)
        if thinking.enabled and thinking.budget_tokens >= self.max_tokens:
            raise ValueError(
                f"thinking.budget_tokens ({thinking.budget_tokens}) must be below max_tokens ({self.max_tokens})"
            )
        return self


def user_config_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "workbench" / "config.toml"


def project_config_path(cwd: Path) -> Path:
    return cwd / ".workbench" / "config.toml"


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def _explain(path: Path, exc: ValidationError) -> ConfigError:
    lines = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"])
        got = error.get("input")
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown setting"
        lines.append(f"{path}: {key}: {message}" + (f" (got {got!r})" if error["type"] != "extra_forbidden" else ""))
    return ConfigError("\n".join(lines))


# what a project's config.toml may set in restricted mode: nothing that runs code, widens access or says
# where requests (and your key) go
RESTRICTED_KEYS = frozenset(
    {
        "theme",
        "keys",
        "thresholds",
        "limits",
        "fsync",
        "window",
        "bell",
        "auto_delegate",
        "scripted_delay_s",
        "pane_redraw_s",
    }
)
# what a project may only ever narrow, trusted or not
NARROWING_RULES = ("ask", "deny")


def load_config(cwd: Path, environ: dict[str, str] | None = None, *, trusted: bool = True) -> Config:
    """Defaults ← user file ← project file. Each file is checked on its own so errors name it.

    Untrusted (``trusted=False``), the project file only adds ask and deny rules and the harmless
    settings of :data:`RESTRICTED_KEYS`. Trusted or not, it never names the API server your key goes to
    unless ``api_hosts`` in your own file allows that host.
    """
    user_path, project_path = user_config_path(environ), project_config_path(cwd)
    user = _checked(user_path) if user_path.is_file() else {}
    project = _checked(project_path) if project_path.is_file() else {}
    project = project_layer(project, user, trusted=trusted)
    config = Config.model_validate(_merge(user, project))
    config._project_trusted = trusted
    return config


def _checked(path: Path) -> dict[str, Any]:
    data = _read_toml(path)
    try:
        Config.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc) from None
    return data


def project_layer(project: dict[str, Any], user: dict[str, Any], *, trusted: bool) -> dict[str, Any]:
    """What of a project's config.toml applies on top of the user's."""
    layer = {key: value for key, value in project.items() if trusted or key in RESTRICTED_KEYS}
    layer.pop("api_hosts", None)  # a project cannot allow its own server
    layer.pop("cluster", None)  # nor send its agents' work to a server of its choosing
    if "base_url" in layer and not base_url_allowed(str(layer["base_url"]), user.get("api_hosts", [])):
        del layer["base_url"]
    permissions = project.get("permissions")
    if not trusted and isinstance(permissions, dict):
        narrowing = {key: permissions[key] for key in NARROWING_RULES if key in permissions}
        if narrowing:
            layer["permissions"] = narrowing
    return layer


def base_url_allowed(url: str, api_hosts: list[str]) -> bool:
    """Whether a project's ``base_url`` names a host the user's ``api_hosts`` lists."""
    parsed = urlsplit(url)
    host = parsed.hostname or ""
    with_port = f"{host}:{parsed.port}" if parsed.port else host
    return bool(host) and (host in api_hosts or with_port in api_hosts)
