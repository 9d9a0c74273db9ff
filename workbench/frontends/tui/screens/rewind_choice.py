"""Remount with or without the files: the conversation only, or the files too, as they were at that point.

The files the agent changed are listed with what putting them back would do to them. With the files,
they go into a fresh worktree by default (the new session's primary works there; nothing of the user's
changes, and its diff can be merged later), or into the user's folder (asked again first; a file
changed since, of which the log has no copy, is left as it is).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from workbench.engine.workspaces.rewind import FileCheck
from workbench.frontends.tui.actions import bindings

RewindHow = Literal["conversation", "worktree", "folder"]
CHECK_MARKS = {
    "restore": ("~", "$accent"),
    "same": ("=", "$foreground-muted"),
    "changed since": ("!", "$warning"),
    "unknown": ("?", "$warning"),
}


def check_line(item: FileCheck) -> Content:
    mark, style = CHECK_MARKS[item.status]
    if item.status == "restore":
        says = "did not exist then: deleted" if item.file.wanted is None else "put back as it was then"
    elif item.status == "same":
        says = "as it was then already"
    elif item.status == "changed since":
        says = "changed since (the log has no copy of it now): left as it is"
    else:
        says = "what it held then was not recorded: left as it is"
    return Content.assemble((f"{mark} ", f"bold {style}"), item.file.path, (f"  {says}", "$foreground-muted"))


class RewindChoiceScreen(ModalScreen[RewindHow | None]):
    CSS_PATH = "rewind_choice.tcss"
    BINDINGS = [*bindings("rewind"), *bindings("dialog")]

    def __init__(self, where: str, checks: list[FileCheck], folder: Path, worktree_possible: bool) -> None:
        super().__init__()
        self.where = where  # "agent-1 of SESSION at seq N"
        self.checks = checks
        self.folder = folder
        self.worktree_possible = worktree_possible

    def compose(self) -> ComposeResult:
        changing = sum(1 for item in self.checks if item.status == "restore")
        with Vertical(id="rewind"):
            yield Static(
                Content.assemble(
                    f"{self.where} changed {len(self.checks)} file(s); putting them back as they were would change ",
                    (f"{changing}", "bold"), ":",
                ),
                id="rewind-summary",
            )  # fmt: skip
            with VerticalScroll(id="rewind-files"):
                yield Static(Content("\n").join(check_line(item) for item in self.checks))
            yield Static(self._keys(), id="rewind-keys")

    def _keys(self) -> Content:
        worktree = (
            Content.assemble(("w", "bold $accent"), "/", ("enter", "bold $accent"),
                             " conversation and files, in a fresh worktree (nothing of yours changes)\n")
            if self.worktree_possible
            else Content.styled("  (no worktree: this folder is not a git repository)\n", "$foreground-muted")
        )  # fmt: skip
        return Content.assemble(
            ("o", "bold $accent"), " conversation only: the files stay as they are now\n",
            worktree,
            ("t", "bold $accent"), f" conversation and files, written into {self.folder} (asks first)\n",
            ("esc", "bold $accent"), " back to the sessions",
        )  # fmt: skip

    def on_mount(self) -> None:
        self.query_one("#rewind").border_title = "Remount: the conversation, or the files too?"

    def action_conversation_only(self) -> None:
        self.dismiss("conversation")

    def action_files_to_worktree(self) -> None:
        if self.worktree_possible:
            self.dismiss("worktree")
        else:
            self.notify("This folder is not a git repository: no worktree can hold the files.", severity="warning")

    def action_files_to_folder(self) -> None:
        self.dismiss("folder")
