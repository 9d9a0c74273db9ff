"""Hooks: every event fires with the JSON Claude Code sends; exit 2 blocks; failures only report."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from pathlib import Path

import pytest

from workbench.engine.policy.hooks import (
    HOOK_EVENTS,
    HookConfigError,
    HookPayload,
    HookRunner,
    HooksConfig,
    PostToolUsePayload,
    PreCompactPayload,
    PreToolUsePayload,
    SessionStartPayload,
    StopPayload,
    SubagentStopPayload,
    UserPromptSubmitPayload,
    load_hooks,
)

BASH_INPUT = {"command": "rm -rf build"}
PAYLOADS: list[HookPayload] = [
    PreToolUsePayload(tool_name="Bash", tool_input=BASH_INPUT, tool_use_id="toolu_1", agent_id="primary"),
    PostToolUsePayload(
        tool_name="Bash",
        tool_input=BASH_INPUT,
        tool_response={"content": "ok", "is_error": False},
        tool_use_id="toolu_1",
    ),
    UserPromptSubmitPayload(prompt="fix the bug"),
    StopPayload(stop_hook_active=False, agent_id="primary"),
    SubagentStopPayload(stop_hook_active=True, agent_id="a1"),
    PreCompactPayload(trigger="auto", custom_instructions="keep the plan"),
    SessionStartPayload(source="startup"),
]


def hooks(**events: list[dict]) -> HooksConfig:
    return HooksConfig.model_validate(events)


def command(text: str, timeout: float | None = None) -> dict:
    return {"type": "command", "command": text, **({"timeout": timeout} if timeout else {})}


def runner(tmp_path: Path, config: HooksConfig) -> HookRunner:
    return HookRunner(
        config, cwd=tmp_path, session_id="20260101T000000Z-abcd", transcript_path=tmp_path / "events.jsonl"
    )


async def test_every_event_fires_with_the_right_json_on_stdin(tmp_path: Path) -> None:
    record = 'cat > "$WORKBENCH_PROJECT_DIR/$(basename "$CLAUDE_PROJECT_DIR")-stdin-{event}.json"'
    config = hooks(**{event: [{"hooks": [command(record.format(event=event))]}] for event in HOOK_EVENTS})
    run = runner(tmp_path, config)
    for payload in PAYLOADS:
        outcome = await run.run(payload)
        assert not outcome.blocked and outcome.errors == []
        event = payload.hook_event_name
        sent = json.loads((tmp_path / f"{tmp_path.name}-stdin-{event}.json").read_text())
        assert sent["hook_event_name"] == event
        assert sent["session_id"] == "20260101T000000Z-abcd"
        assert sent["transcript_path"] == str(tmp_path / "events.jsonl")
        assert sent["cwd"] == str(tmp_path)
        assert sent == json.loads(payload.model_dump_json()) | {
            "session_id": sent["session_id"],
            "transcript_path": sent["transcript_path"],
            "cwd": sent["cwd"],
        }
    by_event = {
        p.hook_event_name: json.loads((tmp_path / f"{tmp_path.name}-stdin-{p.hook_event_name}.json").read_text())
        for p in PAYLOADS
    }
    assert by_event["PreToolUse"]["tool_name"] == "Bash" and by_event["PreToolUse"]["tool_input"] == BASH_INPUT
    assert by_event["PostToolUse"]["tool_response"] == {"content": "ok", "is_error": False}
    assert by_event["UserPromptSubmit"]["prompt"] == "fix the bug"
    assert by_event["SubagentStop"]["stop_hook_active"] is True
    assert (
        by_event["PreCompact"]["trigger"] == "auto" and by_event["PreCompact"]["custom_instructions"] == "keep the plan"
    )
    assert by_event["SessionStart"]["source"] == "startup"
    assert len(set(HOOK_EVENTS)) == len(PAYLOADS) == 7


async def test_exit_2_blocks_a_tool_call_with_stderr_as_the_reason(tmp_path: Path) -> None:
    guard = "grep -q 'rm -rf' && { echo 'rm -rf is not allowed here' >&2; exit 2; }; exit 0"
    run = runner(tmp_path, hooks(PreToolUse=[{"matcher": "Bash", "hooks": [command(guard)]}]))
    outcome = await run.run(PAYLOADS[0])
    assert outcome.blocked and outcome.reason == "rm -rf is not allowed here" and outcome.errors == []
    harmless = PreToolUsePayload(tool_name="Bash", tool_input={"command": "ls"})
    assert not (await run.run(harmless)).blocked


async def test_matchers_are_exact_names_regexes_or_everything(tmp_path: Path) -> None:
    config = hooks(
        PreToolUse=[
            {"matcher": "Edit", "hooks": [command("echo exact")]},
            {"matcher": "Edit|Write", "hooks": [command("echo either")]},
            {"matcher": "mcp__demo__.*", "hooks": [command("echo mcp")]},
            {"matcher": "*", "hooks": [command("echo all")]},
            {"hooks": [command("echo all")]},  # the same command runs once
        ]
    )
    run = runner(tmp_path, config)

    def ran(tool: str) -> list[str]:
        return [h.command.removeprefix("echo ") for h in run.commands(PreToolUsePayload(tool_name=tool, tool_input={}))]

    assert ran("Edit") == ["exact", "either", "all"]
    assert ran("Write") == ["either", "all"]
    assert ran("EditNotebook") == ["all"]  # a plain name matches exactly, not as a prefix
    assert ran("mcp__demo__add") == ["mcp", "all"]
    compact = hooks(PreCompact=[{"matcher": "manual", "hooks": [command("true")]}])
    assert runner(tmp_path, compact).commands(PreCompactPayload(trigger="auto")) == []


async def test_a_hook_that_hangs_is_stopped_at_its_timeout_and_blocks_nothing(tmp_path: Path) -> None:
    config = hooks(PreToolUse=[{"hooks": [command("sleep 30", timeout=0.3), command("echo fine")]}])
    loop = asyncio.get_running_loop()
    started = loop.time()
    outcome = await runner(tmp_path, config).run(PAYLOADS[0])
    assert loop.time() - started < 5
    assert not outcome.blocked
    assert outcome.errors == ["PreToolUse hook `sleep 30` timed out after 0.3 s and was stopped"]
    assert outcome.context == "fine"


async def test_crashing_hooks_are_reported_and_block_nothing(tmp_path: Path) -> None:
    crash = f"{shlex.quote(sys.executable)} -c \"raise SystemExit('hook broke')\""
    config = hooks(Stop=[{"hooks": [command(crash), command("kill -SEGV $$"), command("no-such-hook-command")]}])
    outcome = await runner(tmp_path, config).run(StopPayload())
    assert not outcome.blocked
    errors = outcome.errors
    assert len(errors) == 3
    assert any("failed with exit code 1: hook broke" in e for e in errors)
    assert any("killed by signal 11" in e for e in errors)
    assert any("exit code 127" in e and "not found" in e for e in errors)


async def test_exit_2_where_nothing_can_be_blocked_is_an_error(tmp_path: Path) -> None:
    config = hooks(SessionStart=[{"hooks": [command("echo nope >&2; exit 2")]}])
    outcome = await runner(tmp_path, config).run(SessionStartPayload())
    assert not outcome.blocked
    assert outcome.errors == [
        "SessionStart hook `echo nope >&2; exit 2` exited with 2, but SessionStart cannot be blocked: nope"
    ]


async def test_stdout_of_succeeding_hooks_is_the_context(tmp_path: Path) -> None:
    config = hooks(UserPromptSubmit=[{"hooks": [command("echo 'branch: main'"), command("exit 1")]}])
    outcome = await runner(tmp_path, config).run(UserPromptSubmitPayload(prompt="hi"))
    assert outcome.context == "branch: main" and len(outcome.errors) == 1


async def test_no_matching_hook_runs_nothing(tmp_path: Path) -> None:
    outcome = await runner(tmp_path, HooksConfig()).run(PAYLOADS[0])
    assert outcome.runs == [] and not outcome.blocked


def test_hooks_load_from_claude_and_workbench_settings_then_config(tmp_path: Path) -> None:
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".workbench").mkdir()
    (tmp_path / ".claude" / "settings.json").write_text(
        json.dumps(
            {
                "permissions": {"allow": ["Bash(ls:*)"]},
                "hooks": {
                    "PreToolUse": [
                        {"matcher": "Bash", "hooks": [command("claude-check")]},
                        {"matcher": "Edit", "hooks": [{"type": "prompt", "prompt": "is this ok?"}]},
                    ],
                    "Notification": [{"hooks": [command("notify-send hi")]}],  # a Claude Code event we do not run
                },
            }
        )
    )
    (tmp_path / ".workbench" / "settings.json").write_text(
        json.dumps({"hooks": {"PreToolUse": [{"hooks": [command("wb-check")]}]}})
    )
    configured = HooksConfig.model_validate({"Stop": [{"hooks": [command("say done")]}]})
    loaded = load_hooks(tmp_path, configured)
    assert [m.hooks[0].command for m in loaded.root["PreToolUse"]] == ["claude-check", "wb-check"]
    assert [m.hooks[0].command for m in loaded.root["Stop"]] == ["say done"]
    assert set(loaded.root) == {"PreToolUse", "Stop"}


def test_bad_hook_settings_name_the_file_and_key(tmp_path: Path) -> None:
    (tmp_path / ".workbench").mkdir()
    settings = tmp_path / ".workbench" / "settings.json"
    settings.write_text(json.dumps({"hooks": {"PreToolUse": [{"matcher": "Bash(", "hooks": [command("x")]}]}}))
    with pytest.raises(HookConfigError, match=r"settings.json: hooks.PreToolUse.0.matcher: .*regular expression"):
        load_hooks(tmp_path)
    settings.write_text(
        json.dumps({"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "x", "timeout": -1}]}]}})
    )
    with pytest.raises(HookConfigError, match=r"hooks.Stop.0.hooks.0.timeout"):
        load_hooks(tmp_path)
    settings.write_text("{")
    with pytest.raises(HookConfigError, match="cannot be read"):
        load_hooks(tmp_path)
    with pytest.raises(ValueError):
        HooksConfig.model_validate({"PostCompact": []})  # in config.toml an unknown event is a mistake
