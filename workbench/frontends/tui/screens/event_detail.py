"""One event of the bundle, in full, as the JSON line the log holds."""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea

from workbench.frontends.tui.actions import bindings, key_hint
from workbench.frontends.tui.humanize import time_of_day
from workbench.protocol.events import Event, encode_event


class EventDetailScreen(ModalScreen[None]):
    CSS_PATH = "event_detail.tcss"
    BINDINGS = bindings("dialog")

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event

    def compose(self) -> ComposeResult:
        event = self.event
        pretty = json.dumps(json.loads(encode_event(event)), indent=2, ensure_ascii=False)
        with Vertical(id="event-detail"):
            yield Label(
                Content.assemble(
                    (f"seq {event.seq}", "bold"),
                    " · ",
                    (event.kind, "bold $accent"),
                    " · ",
                    event.agent or "session",
                    " · ",
                    time_of_day(event.ts),
                    "   ",
                    key_hint(self.app.config.keys, ("close", "closes")),  # type: ignore[attr-defined]
                ),
                id="event-title",
            )
            yield TextArea(pretty, read_only=True, show_line_numbers=True, soft_wrap=True, id="event-json")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()
