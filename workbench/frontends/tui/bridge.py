"""The one adapter between the engine's bus and the panes.

Bus listeners run synchronously on the engine's loop (the app's loop), so the
bridge only posts messages: the panes do the work in their own queues. Reply
and thinking deltas are buffered per agent and flushed on a short timer, so a
fast stream (or many agents streaming at once) becomes a few messages a second
per agent rather than one per token.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from textual.message import Message
from textual.message_pump import MessagePump

from workbench.frontends.tui.messages import (
    BudgetChanged,
    EventLogged,
    McpChanged,
    ReplyStreamed,
    RetryScheduled,
    ThinkingStreamed,
    ToolCallStarted,
)
from workbench.protocol.events import AssistantMessage, Event
from workbench.protocol.signals import McpStatusChanged, Retrying, TextStreamed, ToolInputStreaming
from workbench.protocol.signals import ThinkingStreamed as ThinkingSignal

if TYPE_CHECKING:
    from workbench.engine.client import EngineClient

FLUSH_S = 0.04

# events that change what an agent's context holds
_BUDGET_KINDS = frozenset(
    {"agent_spawned", "user_message", "assistant_message", "tool_result", "usage", "compaction",
     "reduction", "primed", "remounted"}
)  # fmt: skip


class BusBridge:
    def __init__(
        self,
        targets: Sequence[MessagePump],
        client: EngineClient,
        flush_s: float = FLUSH_S,
        watching: Callable[[str], bool] = lambda agent: True,
    ) -> None:
        """``watching(agent)``: whether the agent's reply is on screen as it streams. The streamed
        text of the others is not posted: with a hundred agents streaming, posting it all to every
        pane would cost the loop more than anything it shows (the client keeps it, ``partial``)."""
        self.targets = list(targets)
        self.client = client
        self.flush_s = flush_s
        self.watching = watching
        self._text: dict[str, list[str]] = defaultdict(list)
        self._thinking: dict[str, list[str]] = defaultdict(list)
        self._streamed: dict[str, int] = {}  # how far each agent's current reply has come, in characters
        self._flush_handle: asyncio.TimerHandle | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def attach(self) -> None:
        """Post the events logged so far, then follow the client (nothing is missed in between)."""
        for event in list(self.client.events):
            self._logged(event)
        self._unsubscribe = self.client.subscribe(self.receive)

    def follow(self, target: MessagePump) -> Callable[[], None]:
        """Post to ``target`` too, from now on (a screen that opens later); returns how to stop."""
        self.targets.append(target)
        return lambda: self.targets.remove(target) if target in self.targets else None

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None

    def receive(self, item: object) -> None:
        if isinstance(item, TextStreamed):
            self._text[item.agent].append(item.text)
            self._schedule_flush()
        elif isinstance(item, ThinkingSignal):
            self._thinking[item.agent].append(item.text)
            self._schedule_flush()
        elif isinstance(item, ToolInputStreaming):
            self._flush(item.agent)
            self._post(lambda: ToolCallStarted(item.agent, item.tool_use_id, item.name))
        elif isinstance(item, Retrying):
            self._flush(item.agent)
            self._post(lambda: RetryScheduled(item.agent, item.message, item.attempt, item.delay_s))
        elif isinstance(item, McpStatusChanged):
            self._post(lambda: McpChanged(item.server, item.state, item.error))
        elif hasattr(item, "seq"):
            self._logged(item)  # type: ignore[arg-type]

    def _logged(self, event: Event) -> None:
        if event.agent:
            self._flush(event.agent)
        if isinstance(event, AssistantMessage):
            self._streamed.pop(event.agent, None)
        self._post(lambda: EventLogged(event))
        if event.agent and event.kind in _BUDGET_KINDS:
            budget = self.client.view.budget(event.agent)
            self._post(lambda: BudgetChanged(budget))

    def _schedule_flush(self) -> None:
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(self.flush_s, self._flush_all)

    def _flush_all(self) -> None:
        self._flush_handle = None
        for agent in list(self._text.keys() | self._thinking.keys()):
            self._flush(agent)

    def _flush(self, agent: str) -> None:
        watched = self.watching(agent)
        if (thinking := self._thinking.pop(agent, None)) and watched:
            text = "".join(thinking)
            self._post(lambda: ThinkingStreamed(agent, text))
        if chunks := self._text.pop(agent, None):
            text = "".join(chunks)
            start = self._streamed.get(agent, 0)
            self._streamed[agent] = start + len(text)
            if watched:
                self._post(lambda: ReplyStreamed(agent, text, start))

    def resync(self, agent: str) -> None:
        """The screen starts showing ``agent``: its reply so far is the client's partial text."""
        self._text.pop(agent, None)
        self._streamed[agent] = len(self.client.partial(agent))

    def _post(self, make: Callable[[], Message]) -> None:
        for target in self.targets:
            target.post_message(make())
