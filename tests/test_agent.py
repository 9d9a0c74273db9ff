"""The agent loop end to end: real tools, real bundle, scripted brain and the real SDK."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from tests.engine_driver import Answers, ask, next_event, next_published, run, spawn
from tests.fake_api import FakeAnthropicServer, Reply, rate_limited
from tests.fake_api import ToolCall as FakeToolCall
from tests.messages_api import assert_valid_messages, without_cache_control
from tests.processes import SAFETY_NET_S
from workbench.brains.anthropic import AnthropicBrain
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.context.fold import INTERRUPTED_NOTE, fold
from workbench.engine.engine import Engine
from workbench.log.bundle import BundleStore
from workbench.protocol.commands import Cancel, Interrupt, Send
from workbench.protocol.events import (
    AgentFinished,
    AssistantMessage,
    Error,
    PermissionDecision,
    Status,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
)
from workbench.protocol.signals import TextStreamed


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "README.md").write_text("# Demo\n\nThe demo project prints greetings.\n")
    return ws


async def open_bench(workspace: Path, brain, **kwargs) -> Engine:
    config = Config(bundles=workspace.parent / "bundles", fsync="never")
    return await Engine.open(config, workspace, brain, **kwargs)


async def reread(bench: Engine):
    return (await BundleStore(bench.session.store.root).read(bench.session.id)).events


async def test_two_step_tool_task_through_the_real_sdk_folds_back(workspace: Path) -> None:
    replies = [
        Reply(text="Let me read it.", tool_calls=[FakeToolCall(name="Read", input={"file_path": "README.md"})]),
        Reply(text="It prints greetings."),
    ]
    async with FakeAnthropicServer(*replies) as server:
        brain = AnthropicBrain("claude-sonnet-4-6", base_url=server.base_url, api_key="test-key")
        bench = await open_bench(workspace, brain)
        answer = await ask(bench, "what does README.md say?")
        await bench.close()
        sent = without_cache_control(server.message_requests[-1].body["messages"])
    assert answer == "It prints greetings."
    events = await reread(bench)
    result = next(e for e in events if isinstance(e, ToolResult))
    assert "prints greetings" in result.content and not result.is_error
    # what the model saw on its second request is exactly the fold of the log up to then
    final = fold(events, agent="primary").messages
    assert final[:-1] == sent
    assert final[-1] == {"role": "assistant", "content": [{"type": "text", "text": "It prints greetings."}]}
    usages = [e for e in events if isinstance(e, Usage)]
    assert len(usages) == 2 and all(u.context_tokens > u.output_tokens > 0 for u in usages)
    assert usages[1].cache_read_input_tokens > 0  # the second step read the first step's prefix from the cache


async def test_rate_limit_is_retried_then_succeeds(workspace: Path) -> None:
    async with FakeAnthropicServer(rate_limited(retry_after=0), Reply(text="fine now")) as server:
        brain = AnthropicBrain("claude-sonnet-4-6", base_url=server.base_url, api_key="k", backoff_base_s=0.01)
        bench = await open_bench(workspace, brain)
        assert await ask(bench, "hello") == "fine now"
        await bench.close()
        assert len(server.message_requests) == 2
    retries = [e for e in bench.events if isinstance(e, Error) and e.retryable]
    assert len(retries) == 1 and "429" in retries[0].message


async def test_cut_stream_ends_the_turn_with_a_clear_error_and_a_log_that_folds(workspace: Path) -> None:
    async with FakeAnthropicServer(Reply(text="one two three four five six", cut_after=6)) as server:
        brain = AnthropicBrain("claude-sonnet-4-6", base_url=server.base_url, api_key="k", max_attempts=1)
        bench = await open_bench(workspace, brain)
        await ask(bench, "talk")
        assert bench.primary.state == "idle"  # the primary is still usable
        await bench.close()
    events = await reread(bench)
    errors = [e for e in events if isinstance(e, Error)]
    assert errors and errors[-1].error_type == "stream_cut" and "mid-reply" in errors[-1].message
    partial = [e for e in events if isinstance(e, AssistantMessage)][-1]
    assert partial.interrupted
    assert_valid_messages(fold(events).messages)


async def test_scripted_read_and_summarise(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain())
    answer = await ask(bench, "read README.md and summarise it")
    await bench.close()
    calls = [e for e in bench.events if isinstance(e, ToolCall)]
    assert [c.name for c in calls] == ["Read"]
    assert "prints greetings" in answer


async def test_a_message_sent_mid_turn_is_injected_at_the_next_step(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain(delay_s=0.01))
    replying = next_published(bench, lambda e: isinstance(e, TextStreamed))
    await run(bench, Send(text="read README.md"))
    await replying  # the first turn is under way
    await run(bench, Send(text="list markdown files"))
    await bench.primary.settled()
    await bench.close()
    users = [e for e in bench.events if isinstance(e, UserMessage)]
    assert [u.text for u in users] == ["read README.md", "list markdown files"]
    assert not users[0].queued and users[1].queued
    assert "Glob" in [e.name for e in bench.events if isinstance(e, ToolCall)]


async def test_interrupt_mid_stream_leaves_a_log_that_folds(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain(delay_s=0.05))
    replying = next_published(bench, lambda e: isinstance(e, TextStreamed))
    await run(bench, Send(text="hello there"))
    await replying  # some of the reply has streamed; the rest is yet to come
    assert await run(bench, Interrupt(agent="primary"))
    await bench.primary.settled()
    await bench.close()
    reply = [e for e in bench.events if isinstance(e, AssistantMessage)][-1]
    assert reply.interrupted
    messages = fold(bench.events).messages
    assert_valid_messages(messages)
    assert messages[-1]["content"][-1]["text"] == INTERRUPTED_NOTE


async def test_interrupt_while_a_tool_runs_answers_the_dangling_call(workspace: Path) -> None:
    replies = [Reply(tool_calls=[FakeToolCall(name="Bash", input={"command": "sleep 30"})])]
    async with FakeAnthropicServer(*replies) as server:
        brain = AnthropicBrain("claude-sonnet-4-6", base_url=server.base_url, api_key="k")
        bench = await open_bench(workspace, brain)
        Answers(bench, "allow_once")
        running = next_event(bench, lambda e: isinstance(e, PermissionDecision) and e.decision == "allow")
        await run(bench, Send(text="sleep"))
        await running  # the approval is answered: the command runs
        await run(bench, Interrupt(agent="primary"))
        await bench.primary.settled()
        await bench.close()
    result = [e for e in bench.events if isinstance(e, ToolResult)][-1]
    assert result.is_error and "Cancelled" in result.content
    assert_valid_messages(fold(bench.events).messages)


async def test_permission_ask_goes_to_the_approver_and_is_logged(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain())
    asked = Answers(bench, "deny").asked
    await ask(bench, "run `echo hi`")
    await bench.close()
    assert asked and asked[0].tool == "Bash" and "echo hi" in (asked[0].subject or "")
    decision = [e for e in bench.events if isinstance(e, PermissionDecision)][-1]
    assert decision.decision == "deny" and decision.source == "user"
    result = [e for e in bench.events if isinstance(e, ToolResult)][-1]
    assert result.is_error and "denied" in result.content


async def test_allow_always_adds_a_rule_and_stops_asking(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain())
    asked = Answers(bench, "allow_always").asked
    await ask(bench, "run `echo hi`")
    await ask(bench, "run `echo hi`")
    await bench.close()
    assert len(asked) == 1
    decisions = [e for e in bench.events if isinstance(e, PermissionDecision)]
    assert decisions[0].remember and decisions[1].source == "rule"
    outputs = [e.content for e in bench.events if isinstance(e, ToolResult)]
    assert all("hi" in o for o in outputs)


async def test_a_tool_that_raises_becomes_an_error_result(workspace: Path, monkeypatch) -> None:
    from workbench.tools.read import Read

    async def broken(self, params, ctx):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Read, "run", broken)
    bench = await open_bench(workspace, ScriptedBrain())
    await ask(bench, "read README.md")
    assert bench.primary.state == "idle"
    await bench.close()
    result = [e for e in bench.events if isinstance(e, ToolResult)][0]
    assert result.is_error and "disk on fire" in result.content


async def test_every_state_change_is_a_status_event(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain())
    await ask(bench, "read README.md")
    await bench.close()
    states = [e.state for e in bench.events if isinstance(e, Status) and e.agent == "primary"]
    assert states == ["thinking", "tool", "thinking", "idle"]


async def test_delegation_through_the_task_tool_returns_only_the_summary(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain())
    answer = await ask(bench, "delegate: read README.md")
    await bench.close()
    children = [a for a in bench.supervisor.agents.values() if a.spec.parent == "primary"]
    assert len(children) == 1 and children[0].spec.level == 2 and children[0].state == "done"
    child_events = bench.session.events_of(children[0].id)
    assert any(isinstance(e, ToolCall) and e.name == "Read" for e in child_events)
    primary_calls = [e.name for e in bench.session.events_of("primary") if isinstance(e, ToolCall)]
    assert primary_calls == ["Task"]
    assert "prints greetings" in answer
    finished = [e for e in child_events if isinstance(e, AgentFinished)]
    assert finished and finished[0].state == "done"


async def test_a_crashing_agent_fails_alone(workspace: Path, monkeypatch) -> None:
    bench = await open_bench(workspace, ScriptedBrain())
    child = await spawn(bench, "background", "read README.md")

    def explode() -> None:
        raise RuntimeError("bug in the loop")

    monkeypatch.setattr(child, "request", explode)
    await bench.wait_all()
    answer = await ask(bench, "read README.md")
    await bench.close()
    assert child.state == "failed"
    errors = [e for e in bench.session.events_of(child.id) if isinstance(e, Error)]
    assert errors and "bug in the loop" in errors[0].message
    assert "prints greetings" in answer


async def test_close_during_a_streaming_turn_returns_and_cancel_ends_a_busy_agent(workspace: Path) -> None:
    bench = await open_bench(workspace, ScriptedBrain(delay_s=0.05))
    child_replying = next_published(bench, lambda e: isinstance(e, TextStreamed) and e.agent != "primary")
    primary_replying = next_published(bench, lambda e: isinstance(e, TextStreamed) and e.agent == "primary")
    child = await spawn(bench, "background", "read README.md")
    await run(bench, Send(text="hello there"))
    await child_replying
    await primary_replying
    assert child.busy and bench.primary.busy
    await run(bench, Cancel(agent=child.id))
    await bench.wait_all()
    assert child.state == "cancelled"
    await asyncio.wait_for(bench.close(), timeout=SAFETY_NET_S)
    finished = [e for e in bench.session.events_of(child.id) if isinstance(e, AgentFinished)]
    assert finished and finished[0].state == "cancelled"


@pytest.mark.parametrize("how", ["a NUL byte in the path", "a permission check that raises"])
async def test_bad_tool_input_is_a_tool_error_never_an_agent_crash(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    from workbench.tools.read import Read

    path = "READ\x00ME.md" if how.startswith("a NUL") else "README.md"
    if how.startswith("a permission"):

        def subject(self, params):  # type: ignore[no-untyped-def]
            raise ValueError("the check itself broke")

        monkeypatch.setattr(Read, "subject", subject)
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump([{"tool_use": {"name": "Read", "input": {"file_path": path}}}, "still here"]))
    bench = await open_bench(workspace, ScriptedBrain(script))
    answer = await ask(bench, "read it")
    await bench.close()
    assert answer == "still here" and bench.primary.state == "idle"
    result = [e for e in bench.events if isinstance(e, ToolResult)][0]
    assert result.is_error
