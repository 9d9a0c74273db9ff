"""Hooks wired into the agent loop: they see the right JSON, and exit 2 blocks."""

from __future__ import annotations

import json
from pathlib import Path

from tests.engine_driver import Answers, ask
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.engine import Engine
from workbench.protocol.events import Error, PermissionDecision, Primed, ToolCall, ToolResult, UserMessage


def settings(workspace: Path, hooks: dict) -> None:
    (workspace / ".claude").mkdir(parents=True, exist_ok=True)
    (workspace / ".claude" / "settings.json").write_text(json.dumps({"hooks": hooks}))


def command(matcher: str, script: str) -> list[dict]:
    return [{"matcher": matcher, "hooks": [{"type": "command", "command": script, "timeout": 5}]}]


async def open_bench(workspace: Path) -> Engine:
    engine = await Engine.open(Config(bundles=workspace.parent / "b", fsync="never"), workspace, ScriptedBrain())
    Answers(engine, "allow_once")
    return engine


async def test_pre_tool_use_hook_blocks_with_its_reason(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    settings(ws, {"PreToolUse": command("Bash", "cat > hook-input.json; echo 'no shell today' >&2; exit 2")})
    bench = await open_bench(ws)
    await ask(bench, "run `echo hi`")
    await bench.close()
    decision = next(e for e in bench.events if isinstance(e, PermissionDecision))
    assert decision.decision == "deny" and decision.source == "hook" and "no shell today" in decision.reason
    result = next(e for e in bench.events if isinstance(e, ToolResult))
    assert result.is_error and "Blocked by a PreToolUse hook: no shell today" in result.content
    payload = json.loads((ws / "hook-input.json").read_text())
    assert payload["hook_event_name"] == "PreToolUse" and payload["tool_name"] == "Bash"
    assert payload["tool_input"] == {"command": "echo hi"} and payload["session_id"] == bench.session.id
    assert payload["transcript_path"].endswith("events.jsonl") and payload["cwd"] == str(ws)


async def test_prompt_hook_adds_context_and_a_crashing_hook_is_logged_not_fatal(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "README.md").write_text("# Hi\n\nHello there.\n")
    settings(
        ws,
        {
            "UserPromptSubmit": command("", "echo 'Remember: the user prefers short answers.'"),
            "PostToolUse": command("Read", "exit 7"),
        },
    )
    bench = await open_bench(ws)
    answer = await ask(bench, "read README.md")
    await bench.close()
    primed = next(e for e in bench.events if isinstance(e, Primed))
    assert primed.primer == "hook:UserPromptSubmit" and "short answers" in primed.text
    errors = [e for e in bench.events if isinstance(e, Error) and e.error_type == "hook"]
    assert errors and "exit" in errors[0].message
    assert "README.md` has 3 lines" in answer


async def test_blocked_prompt_is_not_sent(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    settings(
        ws, {"UserPromptSubmit": command("", "grep -q secret && { echo 'contains a secret' >&2; exit 2; } || exit 0")}
    )
    bench = await open_bench(ws)
    await ask(bench, "my secret is 42")
    await ask(bench, "read nothing")
    await bench.close()
    texts = [e.text for e in bench.events if isinstance(e, UserMessage)]
    assert texts == ["read nothing"]
    assert any(isinstance(e, Error) and e.error_type == "hook_blocked" for e in bench.events)
    assert not any(isinstance(e, ToolCall) for e in bench.events)
