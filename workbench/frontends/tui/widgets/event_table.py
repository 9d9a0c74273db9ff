"""Every event of a session (or of one agent), one line each: the transcript to fork from."""

from __future__ import annotations

from textual.content import Content

from workbench.engine.presentation import describe
from workbench.frontends.tui.humanize import clip, time_of_day
from workbench.frontends.tui.widgets.flex_table import FlexColumn, FlexTable
from workbench.frontends.tui.widgets.log_pane import KIND_STYLES
from workbench.protocol.events import Event

COLUMNS = (
    FlexColumn("seq", "seq", 5),
    FlexColumn("time", "time", 8, hidden_below=80),
    FlexColumn("agent", "agent", 9),
    FlexColumn("kind", "kind", 17),
    FlexColumn("summary", "summary"),
)


def event_cells(event: Event, width: int) -> list[Content]:
    return [
        Content.styled(f"{event.seq:>5}", "$foreground-muted"),
        Content.styled(time_of_day(event.ts), "$foreground-muted"),
        Content(clip(event.agent or "session", 9)),
        Content.styled(event.kind, KIND_STYLES.get(event.kind, "")),
        Content(clip(describe(event), width)),
    ]


class EventTable(FlexTable[Event]):
    def __init__(self) -> None:
        super().__init__(COLUMNS, event_cells, lambda event: str(event.seq), id="preview-events")
