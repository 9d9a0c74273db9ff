"""The trust screen: the first time a folder with its own hooks, servers or settings is opened, what they
would run — and the choice between trusting the folder and opening it restricted."""

from __future__ import annotations

from itertools import groupby

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from workbench.engine.trust import ProjectSurvey
from workbench.frontends.tui.actions import bindings, shown_key


def survey_view(found: ProjectSurvey) -> Content:
    """Each file, then exactly what it would run or change."""
    lines: list[Content] = []
    for source, items in groupby(found.items, key=lambda item: item.source):
        lines.append(Content.styled(source, "bold $accent"))
        lines += [Content.assemble(("  • ", "$warning"), (item.what, "$foreground")) for item in items]
    return Content("\n").join(lines)


class TrustScreen(ModalScreen[bool]):
    """Dismissed with True when the user trusts the folder, False to open it restricted."""

    CSS_PATH = "trust.tcss"
    BINDINGS = bindings("trust")

    def __init__(self, found: ProjectSurvey) -> None:
        super().__init__()
        self.found = found

    def compose(self) -> ComposeResult:
        with Vertical(id="trust"):
            yield Label(Content.assemble("Do you trust the files in ", (self.found.workspace, "bold"), "?"))
            yield Static(
                "Trusted, this folder's own configuration applies — it would:",
                id="trust-intro",
            )
            with VerticalScroll(id="trust-items"):
                yield Static(survey_view(self.found))
            yield Static(
                "Restricted, none of it applies: no hooks or servers start, and your own settings and rules "
                "decide. Either way your API key goes only to the server you configured. "
                "The choice is remembered until one of these files changes.",
                id="trust-note",
            )
            with Horizontal(id="trust-buttons"):
                keys = self.app.config.keys  # type: ignore[attr-defined]
                yield Button(
                    f"Open restricted  {shown_key('open_restricted', keys)}", id="open_restricted", variant="primary"
                )
                yield Button(
                    f"Trust this folder  {shown_key('trust_folder', keys)}", id="trust_folder", variant="warning"
                )

    def on_mount(self) -> None:
        self.query_one("#trust", Vertical).border_title = "Folder trust"
        self.query_one("#open_restricted", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, message: Button.Pressed) -> None:
        getattr(self, f"action_{message.button.id}")()

    def action_trust_folder(self) -> None:
        self.dismiss(True)

    def action_open_restricted(self) -> None:
        self.dismiss(False)
