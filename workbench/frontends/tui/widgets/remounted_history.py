"""The context a remounted agent starts from, shown at the top of its conversation.

A ``remounted`` event carries the source's folded messages (the Messages API
shape); they are drawn as the conversation draws live turns, the replies as
Markdown, tool calls and results as one line each. A long history shows its
last messages only: the rest is in the source session.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from workbench.engine.presentation import one_line
from workbench.frontends.tui.stylesheet import css_beside
from workbench.frontends.tui.widgets.assistant_reply import AssistantReply
from workbench.frontends.tui.widgets.transcript_blocks import UserTurn
from workbench.protocol.events import Remounted

SHOWN_MESSAGES = 40
USER_LINES = 12


def _clipped(text: str, lines: int = USER_LINES) -> str:
    rows = text.strip().splitlines()
    return "\n".join(rows[:lines] + ([f"… ({len(rows) - lines} more lines)"] if len(rows) > lines else []))


def _result_text(block: dict[str, Any]) -> str:
    content = block.get("content", "")
    if isinstance(content, list):
        content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    flag = "error: " if block.get("is_error") else ""
    return f"← {flag}{one_line(str(content), 90)}"


def message_blocks(message: dict[str, Any]) -> list[Widget]:
    content = message.get("content", "")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    shown: list[Widget] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "text" and block.get("text", "").strip():
            text = block["text"]
            shown.append(UserTurn(_clipped(text)) if message.get("role") == "user" else AssistantReply(text))
        elif kind == "tool_use":
            call = f"→ {block.get('name', '')} {one_line(block.get('input', {}), 90)}"
            shown.append(Static(Content(call), classes="history-call"))
        elif kind == "tool_result":
            shown.append(Static(Content(_result_text(block)), classes="history-result"))
    return shown


class RemountedHistory(Vertical):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, event: Remounted) -> None:
        super().__init__()
        self.event = event

    def compose(self) -> ComposeResult:
        messages = self.event.messages
        hidden = max(0, len(messages) - SHOWN_MESSAGES)
        if hidden:
            yield Static(Content(f"… {hidden} earlier messages, in {self.event.source_session}"),
                         classes="history-more")  # fmt: skip
        for message in messages[hidden:]:
            yield from message_blocks(message)

    def on_mount(self) -> None:
        agent = f" · {self.event.source_agent}" if self.event.source_agent else ""
        self.border_title = f"carried over from {self.event.source_session}{agent} · up to seq {self.event.up_to_seq}"
        self.border_subtitle = f"{len(self.event.messages)} messages · the session continues below"
