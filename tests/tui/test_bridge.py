"""The bus bridge: one message per logged event, streamed text coalesced per agent, nothing lost or doubled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.message import Message

from tests.processes import SAFETY_NET_S
from workbench.engine.context.tokens import BudgetSnapshot
from workbench.frontends.tui.bridge import BusBridge
from workbench.frontends.tui.messages import BudgetChanged, EventLogged, ReplyStreamed
from workbench.log.bus import EventBus
from workbench.protocol.content import TextBlock
from workbench.protocol.events import AssistantMessage, UserMessage
from workbench.protocol.signals import TextStreamed


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._arrived = asyncio.Event()

    def post_message(self, message: Message) -> bool:
        self.messages.append(message)
        self._arrived.set()
        return True

    async def until(self, condition: Callable[[list[Message]], bool]) -> None:
        """Wait for the messages ``condition`` wants (the bridge's flush timer posts them)."""
        while not condition(self.messages):
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), SAFETY_NET_S)


def replies(messages: list[Message]) -> list[ReplyStreamed]:
    return [m for m in messages if isinstance(m, ReplyStreamed)]


def budget(agent: str) -> BudgetSnapshot:
    return BudgetSnapshot(agent=agent, window=1000, used=10, exact=False)


async def test_streamed_text_is_flushed_in_few_messages_and_before_the_logged_reply() -> None:
    bus, inbox = EventBus(), Inbox()
    bridge = BusBridge([inbox], budget=budget, flush_s=0.01)
    bridge.attach(bus, backlog=[UserMessage(seq=1, agent="primary", text="hi")])
    for word in ("Hello", " there", ", friend"):
        bus.publish(TextStreamed(agent="primary", text=word))
    bus.publish(TextStreamed(agent="agent-1", text="Other"))
    await inbox.until(lambda messages: len(replies(messages)) == 2)  # one flush: both agents' text
    bus.publish(TextStreamed(agent="primary", text="."))
    bus.publish(AssistantMessage(seq=2, agent="primary", content=[TextBlock(text="Hello there, friend.")]))

    kinds = [type(m).__name__ for m in inbox.messages]
    assert kinds == ["EventLogged", "BudgetChanged", "ReplyStreamed", "ReplyStreamed", "ReplyStreamed",
                     "EventLogged", "BudgetChanged"]  # fmt: skip
    streamed = [m for m in inbox.messages if isinstance(m, ReplyStreamed) and m.agent == "primary"]
    assert [(m.text, m.start) for m in streamed] == [("Hello there, friend", 0), (".", 19)]
    assert bridge.partial("primary") == ""  # the reply is logged
    assert bridge.partial("agent-1") == "Other"
    assert isinstance(inbox.messages[-1], BudgetChanged) and isinstance(inbox.messages[-2], EventLogged)
    bridge.detach()


async def test_every_target_gets_its_own_message() -> None:
    bus, first, second = EventBus(), Inbox(), Inbox()
    BusBridge([first, second], budget=budget).attach(bus, backlog=[])
    bus.publish(UserMessage(seq=1, agent="primary", text="hi"))
    assert first.messages[0] is not second.messages[0]
    assert first.messages[0].event is second.messages[0].event


async def test_only_the_watched_agents_text_is_posted_and_the_others_is_kept_for_when_it_is_shown() -> None:
    bus, inbox = EventBus(), Inbox()
    watched = {"primary"}
    bridge = BusBridge([inbox], budget=budget, flush_s=0.01, watching=lambda agent: agent in watched)
    bridge.attach(bus, backlog=[])
    bus.publish(TextStreamed(agent="primary", text="Mine"))
    bus.publish(TextStreamed(agent="agent-1", text="Hidden "))
    await inbox.until(lambda messages: len(replies(messages)) == 1)  # the flush, agent-1's text held back
    assert [(m.agent, m.text) for m in replies(inbox.messages)] == [("primary", "Mine")]

    # the user opens agent-1: the screen shows its partial reply, then follows the stream from there
    assert bridge.partial("agent-1") == "Hidden "
    watched.add("agent-1")
    bus.publish(TextStreamed(agent="agent-1", text="more"))
    await inbox.until(lambda messages: len(replies(messages)) == 2)
    last = inbox.messages[-1]
    assert isinstance(last, ReplyStreamed) and (last.agent, last.text, last.start) == ("agent-1", "more", 7)
    bridge.detach()
