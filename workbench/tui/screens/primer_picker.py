"""Choose a primer to load into the focused agent, with its arguments."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from workbench.core.primers import PrimerEntry
from workbench.tui.actions import bindings


@dataclass(frozen=True)
class PrimerChoice:
    name: str
    arguments: str


def entry_prompt(entry: PrimerEntry) -> Content:
    name = Content.styled(entry.file.name, "bold $accent")
    origin = Content.styled(f"  {entry.file.origin}", "$foreground-muted")
    if entry.primer is None:
        return Content.assemble(name, origin, "\n", (f"cannot be used: {entry.error}", "$error"))
    hint = f"  {entry.primer.argument_hint}" if entry.primer.argument_hint else ""
    return Content.assemble(name, (hint, "$secondary"), origin, "\n", (entry.primer.description, "$foreground-muted"))


class PrimerPicker(ModalScreen[PrimerChoice | None]):
    CSS_PATH = "primer_picker.tcss"
    BINDINGS = bindings("dialog")

    def __init__(self, entries: list[PrimerEntry], agent_id: str, arguments: str = "") -> None:
        super().__init__()
        self.entries = entries
        self.agent_id = agent_id
        self.arguments = arguments

    def compose(self) -> ComposeResult:
        with Vertical(id="primers"):
            yield Label(Content.assemble("Load a primer into ", (self.agent_id, "bold $accent")), id="primers-title")
            yield OptionList(
                *(Option(entry_prompt(e), id=e.file.name, disabled=e.primer is None) for e in self.entries),
                id="primer-list",
            )
            yield Input(self.arguments, placeholder="arguments ($ARGUMENTS)", compact=True, id="primer-arguments")
            yield Label(Content.styled("enter loads · tab to the arguments · esc closes", "$foreground-muted"))

    def on_mount(self) -> None:
        self.query_one("#primers", Vertical).border_title = "Primers"
        if not self.entries:
            self.query_one("#primers-title", Label).update("No primers found in this workspace.")
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, message: OptionList.OptionSelected) -> None:
        self.dismiss(PrimerChoice(str(message.option.id), self.query_one(Input).value.strip()))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            self.dismiss(PrimerChoice(str(option.id), self.query_one(Input).value.strip()))
