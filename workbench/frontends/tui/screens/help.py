"""Every action: its key (with the user's overrides), what it does, where it works, its slash command."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from workbench.frontends.tui.actions import ACTIONS, WHERE, bindings, key_of, shown_key

FIXED = {
    "key": 20,
    "slash command": max(len(action.slash_usage) for action in ACTIONS),
    "where": max(len(where) for where in WHERE.values()),
}
MIN_DESCRIPTION = 40


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS = bindings("dialog")

    def __init__(self, overrides: dict[str, str]) -> None:
        super().__init__()
        self.overrides = overrides

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            close = shown_key("close", self.overrides)
            yield Label(Content.assemble(("Keys and commands", "bold"), (f"   {close} closes", "dim")), id="help-title")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # the description takes what the other columns leave of the dialog (96% of the screen, less its
        # border, padding and the table's scrollbar and cell padding); a longer one wraps
        room = self.app.size.width * 96 // 100 - 4 - 2 - 2 * 4 - sum(FIXED.values())
        widths = {**FIXED, "what it does": max(MIN_DESCRIPTION, room)}
        for label in ("key", "slash command", "what it does", "where"):
            table.add_column(label, width=widths[label])
        for action in ACTIONS:
            key = key_of(action, self.overrides)
            table.add_row(
                Content.styled(key.replace(",", " / "), "bold $accent") if key else Content(""),
                Content.styled(action.slash_usage, "$secondary"),
                Content(action.description),
                Content.styled(WHERE[action.scope], "$foreground-muted"),
                height=None,
            )
        table.focus()
