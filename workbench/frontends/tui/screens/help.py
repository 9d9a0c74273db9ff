"""Every action: its key (with the user's overrides), what it does, where it works, its slash command."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from workbench.frontends.tui.actions import ACTIONS, WHERE, bindings, key_of


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = bindings("dialog")

    def __init__(self, overrides: dict[str, str]) -> None:
        super().__init__()
        self.overrides = overrides

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Label(Content.from_markup("[b]Keys and commands[/]   [dim]esc closes[/]"), id="help-title")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in (("key", 20), ("slash command", 28), ("what it does", 52), ("where", 16)):
            table.add_column(label, width=width)
        for action in ACTIONS:
            key = key_of(action, self.overrides)
            table.add_row(
                Content.styled(key.replace(",", " / "), "bold $accent") if key else Content(""),
                Content.styled(action.slash_usage, "$secondary"),
                Content(action.description),
                Content.styled(WHERE[action.scope], "$foreground-muted"),
            )
        table.focus()
