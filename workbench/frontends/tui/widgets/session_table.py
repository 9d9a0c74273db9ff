"""The sessions of the store, one row each, newest first: what the browser lists."""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content

from workbench.engine.library import SessionEntry
from workbench.engine.presentation import brain_label
from workbench.frontends.tui.humanize import clip, token_count
from workbench.frontends.tui.session_states import STATE_STYLES, SessionState
from workbench.frontends.tui.widgets.flex_table import FlexColumn, FlexTable

NARROW = 120  # below this width the agents, events and brain columns go
COLUMNS = (
    FlexColumn("title", "title"),
    FlexColumn("created", "created", 16),
    FlexColumn("agents", "agents", 6, hidden_below=NARROW),
    FlexColumn("events", "events", 6, hidden_below=NARROW),
    FlexColumn("tokens", "tokens", 6),
    FlexColumn("brain", "brain · model", 18, hidden_below=NARROW),
    FlexColumn("state", "state", 17),
)


@dataclass(frozen=True)
class ListedSession:
    entry: SessionEntry
    state: SessionState
    matches: int | None = None  # how many lines match the search, when there is one

    @property
    def id(self) -> str:
        return self.entry.meta.id


def session_cells(row: ListedSession, title_width: int) -> list[Content]:
    meta = row.entry.meta
    found = f" · {row.matches} match{'es' if row.matches != 1 else ''}" if row.matches is not None else ""
    title = Content(clip(meta.title or "(nothing asked yet)", max(8, title_width - len(found))))
    created = f"{meta.created.astimezone():%Y-%m-%d %H:%M}" if meta.created else "?"
    return [
        Content.assemble(title, (found, "$accent")),
        Content.styled(created, "$foreground-muted"),
        Content(f"{len(meta.agents):>6}"),
        Content(f"{meta.events:>6}"),
        Content(f"{token_count(meta.input_tokens + meta.output_tokens):>6}"),
        Content.styled(clip(brain_label(meta.brain, meta.model), 18), "$secondary"),
        Content.styled(row.state, STATE_STYLES[row.state]),  # who holds it: the preview says
    ]


class SessionTable(FlexTable[ListedSession]):
    def __init__(self) -> None:
        super().__init__(COLUMNS, session_cells, lambda row: row.id, id="sessions")
