"""Importing Codex CLI rollouts: every line kind, both formats, garbage lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.messages_api import assert_valid_messages
from workbench.engine.context.fold import fold
from workbench.log.bundle import BundleStore
from workbench.log.importers import detect, import_file
from workbench.log.interruption import interruption
from workbench.protocol.events import (
    AgentSpawned,
    AssistantMessage,
    Compaction,
    SessionStarted,
    Status,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
)


class Rollout:
    def __init__(self) -> None:
        self.lines: list[Any] = []

    def add(self, kind: str, payload: dict[str, Any]) -> None:
        second = len(self.lines)
        self.lines.append(
            {"timestamp": f"2025-10-29T00:{second // 60:02d}:{second % 60:02d}.317Z", "type": kind, "payload": payload}
        )

    def item(self, **payload: Any) -> None:
        self.add("response_item", payload)

    def message(self, role: str, text: str) -> None:
        part = "output_text" if role == "assistant" else "input_text"
        self.item(type="message", role=role, content=[{"type": part, "text": text}])

    def event(self, **payload: Any) -> None:
        self.add("event_msg", payload)

    def write(self, path: Path, extra: str = "") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in self.lines) + "\n" + extra)
        return path


def tokens(inp: int, cached: int, out: int, reasoning: int = 0) -> dict[str, Any]:
    usage = {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }
    return {"type": "token_count", "info": {"total_token_usage": usage, "last_token_usage": usage}}


def full_rollout() -> Rollout:
    r = Rollout()
    r.add(
        "session_meta",
        {
            "id": "019a2d7a-41c4-78b1-b7cc-a45d62a89cd5",
            "timestamp": "2025-10-29T00:59:38.308Z",
            "cwd": "/home/me/proj",
            "originator": "codex_cli_rs",
            "cli_version": "0.46.0",
            "instructions": "Be careful with tests.",
            "git": {},
        },
    )
    r.message("user", "<environment_context>\n  <cwd>/home/me/proj</cwd>\n</environment_context>")
    r.message("user", "<user_instructions>\nUse pytest.\n</user_instructions>")
    r.message("developer", "<permissions instructions>sandboxed</permissions instructions>")
    r.add(
        "turn_context",
        {
            "cwd": "/home/me/proj",
            "approval_policy": "on-request",
            "model": "gpt-5-codex",
            "effort": "high",
            "summary": "auto",
        },
    )
    r.message("user", "fix the failing test")
    r.event(type="user_message", message="fix the failing test", kind="plain")
    r.event(type="task_started", turn_id="t1")
    r.event(type="agent_reasoning", text="**Looking at tests**")
    r.item(
        type="reasoning",
        summary=[{"type": "summary_text", "text": "**Looking at tests**"}],
        encrypted_content="gAAAAB…",
    )
    r.message("assistant", "I'll run the tests first.")
    r.item(type="function_call", name="shell", arguments='{"command":["bash","-lc","pytest -q"]}', call_id="call_1")
    r.item(type="function_call", name="read", arguments="not json", call_id="call_2")
    r.event(**tokens(5000, 4000, 120, 30))
    r.item(
        type="function_call_output",
        call_id="call_1",
        output='{"output":"1 failed","metadata":{"exit_code":1,"duration_seconds":0.5}}',
    )
    r.item(type="function_call_output", call_id="call_2", output="plain text")
    r.item(type="custom_tool_call", name="apply_patch", input="*** Begin Patch\n*** End Patch", call_id="call_3")
    r.item(type="custom_tool_call_output", call_id="call_3", output="Success. Updated 1 file.")
    r.item(
        type="local_shell_call",
        call_id="call_4",
        status="completed",
        action={"type": "exec", "command": ["pytest", "-q"]},
    )
    r.item(type="function_call_output", call_id="call_4", output={"content": "2 passed", "success": True})
    r.item(type="web_search_call", action={"query": "pytest"})
    r.message("assistant", "Fixed: the test passes now.")
    r.event(type="agent_message", message="Fixed: the test passes now.")
    r.event(type="token_count", info=None)
    r.add("compacted", {"message": "The failing test was fixed by a patch.", "replacement_history": []})
    r.message("user", "now refactor it")
    r.item(type="reasoning", summary=[{"type": "summary_text", "text": "Planning the refactor"}])
    r.message("assistant", "Starting the refactor")
    r.event(type="turn_aborted", reason="interrupted")
    r.message("user", "never mind, stop")
    r.message("assistant", "Stopped.")
    r.lines += ["not json at all", "42"]
    return r


@pytest.fixture
def store(tmp_path: Path) -> BundleStore:
    return BundleStore(tmp_path / "bundles")


async def imported(store: BundleStore, path: Path):
    report = await import_file(store, path)
    assert report.session_id is not None, report
    return report, (await store.read(report.session_id)).events


async def test_every_line_kind_becomes_the_right_events(tmp_path: Path, store: BundleStore) -> None:
    path = full_rollout().write(
        tmp_path / "sessions" / "2025" / "10" / "29" / "rollout-2025-10-29T00-59-38-x.jsonl",
        extra='{"timestamp":"2025-10-29T01:00:00.000Z","type":"resp',
    )
    assert detect(path) == "codex"
    report, events = await imported(store, path)

    started, spawned = events[0], events[1]
    assert isinstance(started, SessionStarted) and isinstance(spawned, AgentSpawned)
    assert (started.cwd, started.brain, started.model) == ("/home/me/proj", "codex", "gpt-5-codex")
    assert started.ts.isoformat().startswith("2025-10-29T00:00:00")
    assert "Be careful with tests." in spawned.system and "Use pytest." in spawned.system
    assert "sandboxed" in spawned.system and "environment_context" not in spawned.system

    said = [e.text for e in events if isinstance(e, UserMessage)]
    assert said == ["fix the failing test", "now refactor it", "never mind, stop"]

    replies = [e for e in events if isinstance(e, AssistantMessage)]
    first = replies[0]
    assert [b.type for b in first.content] == ["thinking", "text", "tool_use", "tool_use"]
    assert first.content[0].thinking == "**Looking at tests**" and first.model == "gpt-5-codex"
    assert first.content[2].input == {"command": ["bash", "-lc", "pytest -q"]}
    assert first.content[3].input == {"input": "not json"}
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert [(c.tool_use_id, c.name) for c in calls] == [
        ("call_1", "shell"),
        ("call_2", "read"),
        ("call_3", "apply_patch"),
        ("call_4", "local_shell"),
    ]
    assert calls[2].input == {"input": "*** Begin Patch\n*** End Patch"}
    assert calls[3].input == {"type": "exec", "command": ["pytest", "-q"]}

    results = {e.tool_use_id: e for e in events if isinstance(e, ToolResult)}
    assert (results["call_1"].content, results["call_1"].is_error, results["call_1"].name) == (
        "1 failed",
        True,
        "shell",
    )
    assert (results["call_2"].content, results["call_2"].is_error) == ("plain text", False)
    assert results["call_3"].content == "Success. Updated 1 file."
    assert (results["call_4"].content, results["call_4"].is_error) == ("2 passed", False)

    usage = next(e for e in events if isinstance(e, Usage))
    assert (usage.input_tokens, usage.cache_read_input_tokens, usage.output_tokens) == (1000, 4000, 150)
    assert usage.seq > first.seq  # after the reply it accounts for

    compaction = next(e for e in events if isinstance(e, Compaction))
    assert compaction.summary.startswith("The failing test was fixed") and compaction.from_seq == 3
    aborted = next(e for e in replies if e.interrupted)
    assert [b.type for b in aborted.content] == ["thinking", "text"]
    assert any(isinstance(e, Status) and e.detail == "interrupted" for e in events)

    assert report.skipped["environment context messages"] == 1
    assert report.skipped["prompts recorded twice (as a response item and as an event)"] == 1
    assert report.skipped["web_search_call items"] == 1
    assert report.skipped["token counts without usage"] == 1
    assert len(report.problems) == 3  # two garbage lines and the torn tail


async def test_the_import_folds_to_a_valid_context_at_rest(tmp_path: Path, store: BundleStore) -> None:
    _, events = await imported(store, full_rollout().write(tmp_path / "rollout-x.jsonl"))
    context = fold(events, agent="primary")
    assert_valid_messages(context.messages)
    assert "<conversation-summary>" in context.messages[0]["content"][0]["text"]
    assert "pytest -q" not in json.dumps(context.messages)  # compacted away
    assert context.messages[-1] == {"role": "assistant", "content": [{"type": "text", "text": "Stopped."}]}
    assert interruption(events) is None


async def test_a_rollout_ending_mid_call_is_interrupted(tmp_path: Path, store: BundleStore) -> None:
    r = Rollout()
    r.add("session_meta", {"id": "x", "cwd": "/p"})
    r.message("user", "run it")
    r.item(type="function_call", name="shell", arguments='{"command":["make"]}', call_id="call_9")
    _, events = await imported(store, r.write(tmp_path / "rollout-y.jsonl"))
    stopped = interruption(events)
    assert stopped is not None and "shell" in stopped.agents[0].reason
    assert_valid_messages(fold(events).messages)


async def test_the_early_format_without_payloads_imports_too(tmp_path: Path, store: BundleStore) -> None:
    lines = [
        {"id": "abc", "timestamp": "2025-05-01T10:00:00.000Z", "instructions": "Old instructions."},
        {"record_type": "state"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello there"}]},
        {"type": "function_call", "name": "shell", "arguments": '{"command":["ls"]}', "call_id": "c1"},
        {"type": "function_call_output", "call_id": "c1", "output": '{"output":"a.py","metadata":{"exit_code":0}}'},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "One file: a.py"}]},
    ]
    path = tmp_path / "rollout-2025-05-01-abc.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert detect(path) == "codex"
    report, events = await imported(store, path)
    assert next(e for e in events if isinstance(e, AgentSpawned)).system == "Old instructions."
    assert [e.kind for e in events if e.kind in ("user_message", "assistant_message", "tool_result")] == [
        "user_message",
        "assistant_message",
        "tool_result",
        "assistant_message",
    ]
    assert report.skipped == {"state lines": 1}
    assert_valid_messages(fold(events).messages)


async def test_an_empty_or_unknown_file(tmp_path: Path, store: BundleStore) -> None:
    path = tmp_path / "rollout-empty.jsonl"
    Rollout().write(path, extra="garbage\n")
    report = await import_file(store, path, "codex")
    assert report.session_id is None and report.problems
    unknown = tmp_path / "x.jsonl"
    unknown.write_text('{"hello": "world"}\n')
    assert detect(unknown) is None
    with pytest.raises(ValueError, match="not a Workbench bundle"):
        await import_file(store, unknown)


def meta(r: Rollout, **extra: Any) -> None:
    r.add("session_meta", {"id": "019a-test", "cwd": "/home/me/proj", "cli_version": "0.135.0", **extra})


async def test_a_prompt_only_in_an_event_msg_is_kept_and_the_model_comes_from_a_later_turn_context(
    tmp_path: Path, store: BundleStore
) -> None:
    r = Rollout()
    meta(r)
    r.event(type="user_message", message="list the python files", images=[])
    r.add("turn_context", {"cwd": "/home/me/proj", "model": "gpt-5.1-codex", "approval_policy": "never"})
    r.item(type="function_call", name="shell", arguments='{"command":["ls"]}', call_id="c1")
    # newer Codex gives a tool output as content items, an image among them
    r.item(
        type="function_call_output",
        call_id="c1",
        output=[
            {"type": "input_text", "text": "a.py\nb.py"},
            {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo="},
        ],
    )
    r.message("assistant", "Two files.")
    r.event(type="user_message", message="thanks")
    report, events = await imported(store, r.write(tmp_path / "rollout-2026-01-01T00-00-00-019a-test.jsonl"))
    started = events[0]
    assert isinstance(started, SessionStarted) and started.model == "gpt-5.1-codex"
    assert started.title == "list the python files" and started.source == "codex:019a-test"
    assert [e.text for e in events if isinstance(e, UserMessage)] == ["list the python files", "thanks"]
    result = next(e for e in events if isinstance(e, ToolResult))
    assert result.content == "a.py\nb.py" and result.images[0].source.media_type == "image/png"
    assert report.kept["prompts"] == 2 and report.kept["tool calls"] == 1 and report.kept["images"] == 1
    assert_valid_messages(fold(events).messages)
    again = await import_file(store, tmp_path / "rollout-2026-01-01T00-00-00-019a-test.jsonl")
    assert (again.outcome, again.session_id) == ("unchanged", report.session_id) and len(store.session_ids()) == 1


async def test_a_legacy_rollout_without_instructions_is_recognised(tmp_path: Path, store: BundleStore) -> None:
    # Codex wrote {id, timestamp} and left "instructions" out when there were none
    lines = [
        {"id": "5973b6c0-94b8-487b-a530-2aeb6098ae0e", "timestamp": "2025-05-07T17:24:21.123Z"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "what is in here?"}]},
        {"record_type": "state"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Two scripts."}]},
    ]
    path = tmp_path / "rollout-2025-05-07T17-24-21-5973b6c0-94b8-487b-a530-2aeb6098ae0e.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert detect(path) == "codex"
    elsewhere = tmp_path / "renamed.jsonl"
    elsewhere.write_text(path.read_text())
    assert detect(elsewhere) == "codex"  # the bare items tell it, whatever the file's name
    _, events = await imported(store, path)
    assert [e.text for e in events if isinstance(e, UserMessage)] == ["what is in here?"]
    assert next(e for e in events if isinstance(e, AgentSpawned)).system == ""
