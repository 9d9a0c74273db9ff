"""Hooks: shell commands run at points of an agent's life, configured as in Claude Code.

::

    {"hooks": {"PreToolUse": [{"matcher": "Bash|Edit",
                               "hooks": [{"type": "command", "command": "./check.sh", "timeout": 30}]}]}}

A hook gets the event as JSON on stdin. Exit 0 is success (its stdout is
kept: UserPromptSubmit and SessionStart add it to the context); exit 2 blocks
what can be blocked, with stderr as the reason; any other exit, a timeout or a
command that cannot run is an error that is reported and blocks nothing.
Matching hooks run in parallel.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator

HookEventName = Literal[
    "PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop", "SubagentStop", "PreCompact", "SessionStart"
]
HOOK_EVENTS: tuple[str, ...] = get_args(HookEventName)
# where exit code 2 stops something; elsewhere it is reported like any failure
BLOCKING_EVENTS = frozenset({"PreToolUse", "PostToolUse", "UserPromptSubmit", "Stop", "SubagentStop"})
DEFAULT_TIMEOUT_S = 60.0
BLOCK_EXIT_CODE = 2
# project files read for hooks, in this order; their other settings are not ours
SETTINGS_FILES = (
    ".claude/settings.json",
    ".claude/settings.local.json",
    ".workbench/settings.json",
    ".workbench/settings.local.json",
)


class HookConfigError(ValueError):
    """Hooks that cannot be understood; the message names the file and the key."""


# --- configuration ---------------------------------------------------------------------------


class HookCommand(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["command"] = "command"
    command: str = Field(min_length=1)
    timeout: float | None = Field(default=None, gt=0)  # seconds


class HookMatcher(BaseModel):
    """Hooks for the tool names (or sources, triggers) the matcher matches: a regex; "" or "*" for all."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    matcher: str = ""
    hooks: list[HookCommand]

    @field_validator("matcher")
    @classmethod
    def _compiles(cls, matcher: str) -> str:
        if matcher not in ("", "*"):
            try:
                re.compile(matcher)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return matcher

    def matches(self, value: str | None) -> bool:
        if value is None or self.matcher in ("", "*"):
            return True
        return re.fullmatch(self.matcher, value) is not None


class HooksConfig(RootModel[dict[HookEventName, list[HookMatcher]]]):
    """The ``hooks`` object of a settings file, or ``[hooks]`` of config.toml."""

    root: dict[HookEventName, list[HookMatcher]] = Field(default_factory=dict)

    def merged(self, other: HooksConfig) -> HooksConfig:
        events = {event: [*self.root.get(event, []), *other.root.get(event, [])] for event in {*self.root, *other.root}}
        return HooksConfig(events)


def load_hooks(cwd: Path, configured: HooksConfig | None = None, *, project: bool = True) -> HooksConfig:
    """The hooks of the project's settings files (unless ``project`` is False: an untrusted folder), then
    ``configured`` (from config.toml).

    Settings files are Claude Code's too: events and hook types Workbench does
    not run are skipped there, not refused.
    """
    hooks = HooksConfig()
    for name in SETTINGS_FILES if project else ():
        path = cwd / name
        if path.is_file():
            hooks = hooks.merged(read_settings(path))
    return hooks.merged(configured) if configured is not None else hooks


def read_settings(path: Path) -> HooksConfig:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HookConfigError(f"{path}: cannot be read: {exc}") from None
    raw = data.get("hooks", {}) if isinstance(data, dict) else None
    if not isinstance(raw, dict):
        raise HookConfigError(f'{path}: "hooks" must be an object of events')
    ours = {event: _command_hooks(matchers) for event, matchers in raw.items() if event in HOOK_EVENTS}
    try:
        return HooksConfig.model_validate(ours)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise HookConfigError(f"{path}: hooks.{where}: {first['msg']}") from None


def _command_hooks(matchers: Any) -> Any:
    """Drop hooks of other types (Claude Code's "prompt" hooks); leave anything malformed for validation."""
    if not isinstance(matchers, list):
        return matchers
    kept = []
    for matcher in matchers:
        if isinstance(matcher, dict) and isinstance(matcher.get("hooks"), list):
            commands = [h for h in matcher["hooks"] if not isinstance(h, dict) or h.get("type", "command") == "command"]
            if not commands:
                continue
            matcher = {**matcher, "hooks": commands}
        kept.append(matcher)
    return kept


# --- what a hook reads on stdin --------------------------------------------------------------


class _Payload(BaseModel):
    session_id: str = ""  # the runner fills in these three
    transcript_path: str = ""  # the session's events.jsonl
    cwd: str = ""
    agent_id: str = ""


class PreToolUsePayload(_Payload):
    hook_event_name: Literal["PreToolUse"] = "PreToolUse"
    tool_name: str
    tool_input: dict[str, Any]
    tool_use_id: str = ""


class PostToolUsePayload(_Payload):
    hook_event_name: Literal["PostToolUse"] = "PostToolUse"
    tool_name: str
    tool_input: dict[str, Any]
    tool_response: dict[str, Any]  # {"content": ..., "is_error": ...}
    tool_use_id: str = ""


class UserPromptSubmitPayload(_Payload):
    hook_event_name: Literal["UserPromptSubmit"] = "UserPromptSubmit"
    prompt: str


class StopPayload(_Payload):
    hook_event_name: Literal["Stop"] = "Stop"
    stop_hook_active: bool = False  # the agent is already going on because a Stop hook blocked


class SubagentStopPayload(_Payload):
    hook_event_name: Literal["SubagentStop"] = "SubagentStop"
    stop_hook_active: bool = False


class PreCompactPayload(_Payload):
    hook_event_name: Literal["PreCompact"] = "PreCompact"
    trigger: Literal["manual", "auto"]
    custom_instructions: str = ""


class SessionStartPayload(_Payload):
    hook_event_name: Literal["SessionStart"] = "SessionStart"
    source: Literal["startup", "resume", "clear", "compact"] = "startup"


HookPayload = Annotated[
    Union[
        PreToolUsePayload,
        PostToolUsePayload,
        UserPromptSubmitPayload,
        StopPayload,
        SubagentStopPayload,
        PreCompactPayload,
        SessionStartPayload,
    ],
    Field(discriminator="hook_event_name"),
]


def _match_value(payload: HookPayload) -> str | None:
    """What a matcher is compared with; None: the event takes no matcher."""
    if isinstance(payload, (PreToolUsePayload, PostToolUsePayload)):
        return payload.tool_name
    if isinstance(payload, PreCompactPayload):
        return payload.trigger
    if isinstance(payload, SessionStartPayload):
        return payload.source
    return None


# --- outcome ---------------------------------------------------------------------------------


class HookRun(BaseModel):
    """One command's run."""

    command: str
    exit_code: int | None = None  # None: it timed out or never started
    stdout: str = ""
    stderr: str = ""
    error: str = ""  # set when the hook failed (a block is not a failure)


class HookOutcome(BaseModel):
    event: HookEventName
    runs: list[HookRun] = Field(default_factory=list)
    blocked: bool = False
    reason: str = ""  # the stderr of the blocking hooks: what the model (or the user) is told

    @property
    def errors(self) -> list[str]:
        """One line per failed hook, to record as ``error`` events."""
        return [f"{self.event} hook `{run.command}` {run.error}" for run in self.runs if run.error]

    @property
    def context(self) -> str:
        """The stdout of the hooks that succeeded (UserPromptSubmit and SessionStart add it to the context)."""
        return "\n".join(run.stdout.strip() for run in self.runs if run.exit_code == 0 and run.stdout.strip())


# --- running ---------------------------------------------------------------------------------


class HookRunner:
    def __init__(
        self,
        hooks: HooksConfig,
        *,
        cwd: Path,
        session_id: str = "",
        transcript_path: Path | str = "",
        default_timeout_s: float = DEFAULT_TIMEOUT_S,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.hooks = hooks
        self.cwd = cwd
        self.session_id = session_id
        self.transcript_path = str(transcript_path)
        self.default_timeout_s = default_timeout_s
        base = dict(os.environ if environ is None else environ)
        # CLAUDE_PROJECT_DIR too, so hooks written for Claude Code find their scripts
        self.environ = base | {"WORKBENCH_PROJECT_DIR": str(cwd), "CLAUDE_PROJECT_DIR": str(cwd)}

    def commands(self, payload: HookPayload) -> list[HookCommand]:
        """The hooks ``payload`` triggers, each command once."""
        value = _match_value(payload)
        found: dict[str, HookCommand] = {}
        for matcher in self.hooks.root.get(payload.hook_event_name, []):
            if matcher.matches(value):
                for hook in matcher.hooks:
                    found.setdefault(hook.command, hook)
        return list(found.values())

    async def run(self, payload: HookPayload) -> HookOutcome:
        """Run every matching hook (in parallel); never raises for a hook's failure."""
        event = payload.hook_event_name
        commands = self.commands(payload)
        if not commands:
            return HookOutcome(event=event)
        full = payload.model_copy(
            update={"session_id": self.session_id, "transcript_path": self.transcript_path, "cwd": str(self.cwd)}
        )
        stdin = full.model_dump_json().encode()
        runs = list(await asyncio.gather(*(self._run_one(hook, stdin) for hook in commands)))
        blockers = [run for run in runs if run.exit_code == BLOCK_EXIT_CODE and event in BLOCKING_EVENTS]
        for run in runs:
            if run.exit_code == BLOCK_EXIT_CODE and event not in BLOCKING_EVENTS:
                run.error = f"exited with 2, but {event} cannot be blocked: {_tail(run.stderr)}"
        reason = "\n".join(run.stderr.strip() or f"blocked by `{run.command}`" for run in blockers)
        return HookOutcome(event=event, runs=runs, blocked=bool(blockers), reason=reason)

    async def _run_one(self, hook: HookCommand, stdin: bytes) -> HookRun:
        timeout = hook.timeout or self.default_timeout_s
        try:
            process = await asyncio.create_subprocess_shell(
                hook.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=self.cwd,
                env=self.environ,
                start_new_session=True,  # its own process group, so a timeout kills what it started too
            )
        except OSError as exc:
            return HookRun(command=hook.command, error=f"could not start: {exc}")
        try:
            out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
        except TimeoutError:
            await _kill(process)
            return HookRun(command=hook.command, error=f"timed out after {timeout:g} s and was stopped")
        except asyncio.CancelledError:
            await _kill(process)
            raise
        run = HookRun(
            command=hook.command,
            exit_code=process.returncode,
            stdout=out.decode("utf-8", errors="replace"),
            stderr=err.decode("utf-8", errors="replace"),
        )
        code = process.returncode
        if code is not None and code < 0:
            run.error = f"was killed by signal {-code} ({signal.strsignal(-code)})"
        elif code not in (0, BLOCK_EXIT_CODE):
            run.error = f"failed with exit code {code}" + (f": {_tail(run.stderr)}" if run.stderr.strip() else "")
        return run


async def _kill(process: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    await process.wait()


def _tail(text: str, limit: int = 300) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]
