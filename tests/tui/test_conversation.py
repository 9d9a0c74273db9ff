"""The conversation pane: streaming replies, tool calls, and rebuilding when another agent is shown."""

from __future__ import annotations

from tests.engine_driver import run
from tests.fake_api import CitedText, FakeAnthropicServer, Reply, WebSearchCall
from tests.tui.helpers import engine_of
from workbench.brains.anthropic import AnthropicBrain
from workbench.frontends.tui.widgets.agents_pane import AgentTree
from workbench.frontends.tui.widgets.assistant_reply import AssistantReply
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.tool_block import ToolBlock
from workbench.frontends.tui.widgets.transcript_blocks import UserTurn, Welcome
from workbench.frontends.tui.widgets.web_search_block import Sources, WebSearchBlock
from workbench.protocol.commands import Send
from workbench.protocol.events import AssistantMessage, ToolResult

from .brains import HeldBrain
from .helpers import engine_ready, settle, type_and_send, until


async def test_an_empty_session_shows_how_to_start(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        assert app.query(Welcome)
        await type_and_send(pilot, "read README.md")
        await settle(pilot)
        assert not app.query(Welcome)


async def test_a_reply_streams_into_the_conversation_before_it_is_logged(make_app) -> None:
    brain = HeldBrain(hold_after=3, delay_s=0)
    async with make_app(brain=brain).run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "hello there")
        await until(pilot, brain.holding.is_set)
        await pilot.pause(0.15)  # one flush of the bridge
        bench = engine_of(app)
        assert not any(isinstance(e, AssistantMessage) for e in bench.events)
        (reply,) = app.query_one(Conversation).query(AssistantReply)
        streamed = reply.source
        assert streamed and len(streamed) < 40  # three chunks of the help text, not all of it

        brain.release.set()
        await settle(pilot)
        logged = [e for e in bench.events if isinstance(e, AssistantMessage)][-1]
        (settled,) = app.query_one(Conversation).query(AssistantReply)
        assert settled is reply  # the same block, settled
        assert settled.source == logged.content[0].text
        assert settled.source.startswith(streamed)


async def test_a_tool_call_appears_and_its_result_expands(make_app) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "read README.md")
        await settle(pilot)
        conversation = app.query_one(Conversation)
        (block,) = conversation.query(ToolBlock)
        assert block.tool_name == "Read"
        assert block.status == "done"
        assert block.collapsed
        result = block.query_one(".tool-result")
        assert not result.region  # collapsed: nothing of the result is on screen

        block.query_one("CollapsibleTitle").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert not block.collapsed
        assert result.region.height > 0
        logged = next(e for e in engine_of(app).events if isinstance(e, ToolResult))
        assert "Demo project" in logged.content
        assert "Demo project" in str(result.visual)


async def test_showing_another_agent_rebuilds_the_conversation_from_its_events(make_app) -> None:
    async with make_app().run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "read README.md")
        await settle(pilot)
        await type_and_send(pilot, "/background list python files")
        await until(pilot, lambda: "agent-1" in engine_of(app).supervisor.agents)
        await settle(pilot)

        tree = app.query_one(AgentTree)
        tree.focus()
        agent_node = next(n for n in tree.root.children[0].children if n.data == "agent-1")
        tree.move_cursor(agent_node)
        await pilot.press("enter")
        await settle(pilot)

        conversation = app.query_one(Conversation)
        assert conversation.agent_id == "agent-1"
        turns = [str(turn.visual) for turn in conversation.query(UserTurn)]
        assert turns == ["list python files"]
        (block,) = conversation.query(ToolBlock)
        assert block.tool_name == "Glob"

        await pilot.press("ctrl+g")
        await settle(pilot)
        assert conversation.agent_id == "primary"
        assert [str(turn.visual) for turn in conversation.query(UserTurn)] == ["read README.md"]
        assert [b.tool_name for b in conversation.query(ToolBlock)] == ["Read"]


async def test_the_conversation_follows_new_output_unless_scrolled_up(make_app) -> None:
    async with make_app().run_test(size=(100, 30)) as pilot:
        app = await engine_ready(pilot)
        conversation = app.query_one(Conversation)
        for _ in range(2):
            await type_and_send(pilot, "what can you do?")
            await settle(pilot)
        assert conversation.max_scroll_y > 0
        assert conversation.scroll_y == conversation.max_scroll_y  # following

        conversation.focus()
        await pilot.press("home")
        await settle(pilot)
        await run(engine_of(app), Send(text="read README.md"))
        await settle(pilot)
        assert conversation.scroll_y == 0  # the reader stays where they went

        await pilot.press("end")
        await settle(pilot)
        await run(engine_of(app), Send(text="read app.py"))
        await settle(pilot)
        assert conversation.scroll_y == conversation.max_scroll_y


async def test_thinking_streams_into_a_folded_block_that_the_logged_reply_settles(make_app) -> None:
    from workbench.frontends.tui.messages import EventLogged, ReplyStreamed, ThinkingStreamed
    from workbench.frontends.tui.widgets.transcript_blocks import ThinkingBlock
    from workbench.protocol.content import TextBlock
    from workbench.protocol.content import ThinkingBlock as ThinkingContent

    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        conversation = app.query_one(Conversation)
        conversation.post_message(ThinkingStreamed("primary", "Let me look "))
        conversation.post_message(ThinkingStreamed("primary", "at the file."))
        conversation.post_message(ReplyStreamed("primary", "It is ", 0))
        conversation.post_message(ThinkingStreamed("agent-9", "not shown here"))
        await pilot.pause()
        (thinking,) = conversation.query(ThinkingBlock)
        assert thinking.collapsed and "Let me look at the file." in str(thinking.query_one(".thinking-text").visual)

        content = [ThinkingContent(thinking="Let me look at the file."), TextBlock(text="It is short.")]
        reply = AssistantMessage(seq=10_000, agent="primary", content=content)
        conversation.post_message(EventLogged(reply))
        await pilot.pause()
        assert len(conversation.query(ThinkingBlock)) == 1
        (text,) = conversation.query(AssistantReply)
        assert text.source == "It is short."


async def test_a_web_search_shows_as_a_block_and_the_cited_sources_under_the_reply(make_app) -> None:
    search = WebSearchCall(
        query="kite wind speed",
        results=[("Flying kites — a guide", "https://kites.example/guide"), ("Wind", "https://wind.example/k")],
    )
    cited = CitedText(
        text="A kite needs 10 to 25 km/h of wind.",
        sources=[("Flying kites — a guide", "https://kites.example/guide", "Most kites fly in 10-25 km/h winds.")],
    )
    async with FakeAnthropicServer(Reply(text="Here is what I found. ", searches=[search], cited=[cited])) as server:
        brain = AnthropicBrain("claude-sonnet-4-6", base_url=server.base_url, api_key="k")
        async with make_app(brain=brain).run_test(size=(120, 40)) as pilot:
            app = await engine_ready(pilot)
            await type_and_send(pilot, "what wind does a kite need?")
            await until(pilot, lambda: any(isinstance(e, AssistantMessage) for e in engine_of(app).events))
            await settle(pilot)
            conversation = app.query_one(Conversation)
            (block,) = conversation.query(WebSearchBlock)
            assert "kite wind speed" in str(block.title) and "2 results" in str(block.title)
            block.query_one("CollapsibleTitle").focus()
            await pilot.press("enter")
            await settle(pilot)
            hits = str(block.query_one(".search-hits").visual)
            assert "Flying kites — a guide" in hits and "https://wind.example/k" in hits
            (sources,) = conversation.query(Sources)
            assert "[1] Flying kites — a guide" in str(sources.visual)
            children = list(conversation.children)
            (reply,) = conversation.query(AssistantReply)
            assert children.index(block) < children.index(reply) < children.index(sources)
            assert reply.source == "Here is what I found. A kite needs 10 to 25 km/h of wind."
        await brain.aclose()
