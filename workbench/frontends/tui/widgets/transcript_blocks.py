"""The blocks a conversation is made of (replies and tool calls have their own modules).

They are styled by conversation.tcss, as they only appear in a conversation.
"""

from __future__ import annotations

from textual.content import Content
from textual.message import Message
from textual.widgets import Collapsible, Static


class UserTurn(Static):
    def __init__(self, text: str) -> None:
        super().__init__(Content(text))


def thought_title(text: str) -> str:
    words = len(text.split())
    return f"thought · {words} word{'s' if words != 1 else ''}"


class ThinkingBlock(Collapsible):
    """The model's thinking, folded and dimmed: streamed in while it thinks, then as logged."""

    def __init__(self, text: str = "") -> None:
        self._text = text
        self._body = Static(Content(text), classes="thinking-text")
        super().__init__(self._body, title=thought_title(text) if text else "thinking…", collapsed=True)

    def add(self, text: str) -> None:
        self._text += text
        self._body.update(Content(self._text))

    def settle(self, text: str) -> None:
        self._text = text
        self._body.update(Content(text))
        self.title = thought_title(text)


class Marker(Static):
    """A line in the flow for what changed the context: compaction, priming, delegation, spawn, finish."""

    def __init__(self, text: str, variant: str = "") -> None:
        super().__init__(Content(text))
        if variant:
            self.add_class(f"-{variant}")


class ErrorNote(Static):
    def __init__(self, text: str, retrying: bool = False) -> None:
        super().__init__(Content(text))
        self.set_class(retrying, "-retrying")


class Welcome(Static):
    """What an empty conversation shows: how to start."""


class EarlierEvents(Static):
    """At the top of a long conversation: how many earlier events are not built yet; scrolling up
    to it (or clicking it) builds the next of them."""

    def __init__(self, events: int) -> None:
        super().__init__()
        self.count(events)

    def count(self, events: int) -> None:
        self.update(Content.styled(f"▲ {events:,} earlier events · scroll up to show them", "$foreground-muted"))

    def building(self) -> None:
        self.update(Content.styled("▲ building earlier turns…", "$accent"))

    class Wanted(Message):
        """The user asks for the earlier events."""

    def on_click(self) -> None:
        self.post_message(self.Wanted())
