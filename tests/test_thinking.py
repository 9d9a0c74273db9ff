"""Extended thinking through the real SDK and the fake API: streamed, logged with its signature,
counted in the budget, and sent back exactly as the API requires on the next request."""

from __future__ import annotations

from pathlib import Path

from tests.engine_driver import ask
from tests.fake_api import FakeAnthropicServer, Reply
from tests.fake_api import ToolCall as FakeToolCall
from tests.messages_api import assert_valid_messages
from workbench.brains.anthropic import AnthropicBrain
from workbench.engine.config import Config
from workbench.engine.context.fold import fold
from workbench.engine.engine import Engine
from workbench.log.bundle import BundleStore
from workbench.protocol.brain_io import ThinkingConfig
from workbench.protocol.content import RedactedThinkingBlock, ThinkingBlock, ToolUseBlock
from workbench.protocol.events import AssistantMessage, ToolResult
from workbench.protocol.signals import ThinkingStreamed

THOUGHT = "The user wants the readme. I should read README.md first, then answer."
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pk-sig"


async def open_thinking_bench(workspace: Path, base_url: str) -> Engine:
    brain = AnthropicBrain("claude-sonnet-4-6", base_url=base_url, api_key="k")
    bench = await Engine.open(Config(bundles=workspace.parent / "bundles", fsync="never"), workspace, brain)
    bench.services.thinking = ThinkingConfig(enabled=True, budget_tokens=2048)
    return bench


async def test_thinking_streams_is_logged_signed_counted_and_sent_back_before_the_tool_use(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "README.md").write_text("# Demo\nIt greets.\n")
    replies = [
        Reply(
            thinking=THOUGHT,
            signature=SIGNATURE,
            text="Reading it.",
            tool_calls=[FakeToolCall(name="Read", input={"file_path": "README.md"}, id="toolu_read")],
        ),
        Reply(thinking="It greets; say so.", signature="sig-2", text="It greets."),
    ]
    async with FakeAnthropicServer(*replies) as api:
        bench = await open_thinking_bench(workspace, api.base_url)
        streamed: list[str] = []
        bench.bus.subscribe(lambda item: streamed.append(item.text) if isinstance(item, ThinkingStreamed) else None)
        assert await ask(bench, "what does the readme say?") == "It greets."
        budget = bench.budget("primary")
        await bench.close()
        first, second = (r.body for r in api.message_requests)

    # the request asks for thinking with the configured budget
    assert first["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    # streamed as it came, word by word
    assert "".join(streamed) == THOUGHT + "It greets; say so."
    assert len(streamed) > 2
    # logged in the assistant message, with its signature, before the text and the tool call
    events = (await BundleStore(tmp_path / "bundles").read(bench.session.id)).events
    reply = next(e for e in events if isinstance(e, AssistantMessage))
    assert reply.content[0] == ThinkingBlock(thinking=THOUGHT, signature=SIGNATURE)
    assert isinstance(reply.content[-1], ToolUseBlock)
    # counted in the budget's thinking category
    assert budget.categories["thinking"] > 0
    # folded back exactly: the second request carries the signed block first, then the tool use
    assistant = second["messages"][1]
    assert assistant["role"] == "assistant"
    assert assistant["content"][0] == {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE}
    assert [b["type"] for b in assistant["content"]] == ["thinking", "text", "tool_use"]
    assert assistant["content"][2]["id"] == "toolu_read"
    assert second["messages"][2]["content"][0]["tool_use_id"] == "toolu_read"
    assert_valid_messages(second["messages"])
    assert any(isinstance(e, ToolResult) and "It greets." in e.content for e in events)


async def test_redacted_thinking_goes_back_verbatim(tmp_path: Path) -> None:
    replies = [
        Reply(
            redacted_thinking="opaque-encrypted-bytes", tool_calls=[FakeToolCall(name="Glob", input={"pattern": "*"})]
        ),
        Reply(text="Nothing here."),
    ]
    async with FakeAnthropicServer(*replies) as api:
        bench = await open_thinking_bench(tmp_path, api.base_url)
        await ask(bench, "list files")
        await bench.close()
        second = api.message_requests[1].body
    reply = next(e for e in bench.events if isinstance(e, AssistantMessage))
    assert reply.content[0] == RedactedThinkingBlock(data="opaque-encrypted-bytes")
    assert second["messages"][1]["content"][0] == {"type": "redacted_thinking", "data": "opaque-encrypted-bytes"}
    assert fold(bench.events).messages[1] == second["messages"][1]
