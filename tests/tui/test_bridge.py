"""The bus bridge: one message per logged event, streamed text coalesced per agent, nothing lost or doubled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.message import Message

from workbench.engine.context.tokens import BudgetSnapshot
from workbench.engine.streams import Streams
from workbench.frontends.tui.bridge import BusBridge
from workbench.frontends.tui.messages import BudgetChanged, EventLogged, ReplyStreamed
from workbench.log.bus import EventBus
from workbench.protocol.content import TextBlock
from workbench.protocol.events import AssistantMessage, UserMessage
from workbench.protocol.signals import TextStreamed


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._posted = asyncio.Event()

    def post_message(self, message: Message) -> bool:
        self.messages.append(message)
        self._posted.set()
        return True

    async def until(self, condition: Callable[[list[Message]], bool]) -> None:
        """Wait for the messages the bridge posts (it flushes streamed text on a timer) until ``condition``."""
        while not condition(self.messages):
            self._posted.clear()
            await self._posted.wait()


def streamed(inbox: Inbox) -> list[ReplyStreamed]:
    return [m for m in inbox.messages if isinstance(m, ReplyStreamed)]


class FakeClient:
    """What the bridge uses of a client: its events, its bus, its partial replies, its budgets."""

    def __init__(self, backlog: list | None = None) -> None:
        self.bus = EventBus()
        self.streams = Streams()
        self.bus.subscribe(self.streams.hear)
        self.events = list(backlog or [])
        self.view = self

    def subscribe(self, listener):  # type: ignore[no-untyped-def]
        return self.bus.subscribe(listener)

    def partial(self, agent: str) -> str:
        return self.streams.partial(agent)

    def budget(self, agent: str) -> BudgetSnapshot:
        return BudgetSnapshot(agent=agent, window=1000, used=10, exact=False)


async def test_streamed_text_is_flushed_in_few_messages_and_before_the_logged_reply() -> None:
    client, inbox = FakeClient([UserMessage(seq=1, agent="primary", text="hi")]), Inbox()
    bridge = BusBridge([inbox], client, flush_s=0.01)  # type: ignore[arg-type]
    bridge.attach()
    for word in ("Hello", " there", ", friend"):
        client.bus.publish(TextStreamed(agent="primary", text=word))
    client.bus.publish(TextStreamed(agent="agent-1", text="Other"))
    await inbox.until(lambda _: len(streamed(inbox)) == 2)  # one message per agent for the burst
    client.bus.publish(TextStreamed(agent="primary", text="."))
    client.bus.publish(AssistantMessage(seq=2, agent="primary", content=[TextBlock(text="Hello there, friend.")]))

    kinds = [type(m).__name__ for m in inbox.messages]
    assert kinds == ["EventLogged", "BudgetChanged", "ReplyStreamed", "ReplyStreamed", "ReplyStreamed",
                     "EventLogged", "BudgetChanged"]  # fmt: skip
    mine = [m for m in streamed(inbox) if m.agent == "primary"]
    assert [(m.text, m.start) for m in mine] == [("Hello there, friend", 0), (".", 19)]
    assert client.partial("primary") == ""  # the reply is logged
    assert client.partial("agent-1") == "Other"
    assert isinstance(inbox.messages[-1], BudgetChanged) and isinstance(inbox.messages[-2], EventLogged)
    bridge.detach()


async def test_every_target_gets_its_own_message() -> None:
    client, first, second = FakeClient(), Inbox(), Inbox()
    BusBridge([first, second], client).attach()  # type: ignore[arg-type]
    client.bus.publish(UserMessage(seq=1, agent="primary", text="hi"))
    assert first.messages[0] is not second.messages[0]
    assert first.messages[0].event is second.messages[0].event  # type: ignore[attr-defined]


async def test_only_the_watched_agents_text_is_posted_and_the_others_is_kept_for_when_it_is_shown() -> None:
    client, inbox = FakeClient(), Inbox()
    watched = {"primary"}
    bridge = BusBridge([inbox], client, flush_s=0.01, watching=lambda agent: agent in watched)  # type: ignore[arg-type]
    bridge.attach()
    client.bus.publish(TextStreamed(agent="agent-1", text="Hidden "))
    client.bus.publish(TextStreamed(agent="primary", text="Mine"))
    await inbox.until(lambda _: bool(streamed(inbox)))
    assert [(m.agent, m.text) for m in streamed(inbox)] == [("primary", "Mine")]

    # the user opens agent-1: the screen shows its partial reply, then follows the stream from there
    assert client.partial("agent-1") == "Hidden "
    watched.add("agent-1")
    bridge.resync("agent-1")
    client.bus.publish(TextStreamed(agent="agent-1", text="more"))
    await inbox.until(lambda _: len(streamed(inbox)) == 2)
    last = inbox.messages[-1]
    assert isinstance(last, ReplyStreamed) and (last.agent, last.text, last.start) == ("agent-1", "more", 7)
    bridge.detach()
