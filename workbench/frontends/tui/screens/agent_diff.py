"""An agent's changes, file by file, and what the user does with them.

The list on the left is every file the agent changed (added, modified, deleted, with its lines added
and removed); the right shows the highlighted file's diff with the code highlighted. For an agent in
its own worktree the keys merge its changes into the user's folder, discard them, keep them on its
branch, or commit them there; each is a command, and its outcome is told. An agent that works in the
shared folder shows what the log records of its changes, which are in the folder already.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from workbench.frontends.tui.actions import bindings
from workbench.frontends.tui.humanize import clip
from workbench.frontends.tui.patch_view import render_patch
from workbench.frontends.tui.screens.commit_message import CommitMessageScreen
from workbench.frontends.tui.screens.confirm import ConfirmScreen
from workbench.protocol.commands import Command, Commit, Discard, KeepBranch, Merge

if TYPE_CHECKING:
    from workbench.engine.client import EngineClient
    from workbench.engine.workspaces.diff import AgentDiff, FileDiff

STATUS_MARKS = {"added": ("A", "$success"), "modified": ("M", "$warning"), "deleted": ("D", "$error")}
WORKTREE_ACTIONS = frozenset({"merge_changes", "discard_changes", "keep_branch", "commit_changes"})


def file_row(file: FileDiff) -> tuple[Content, Content, Content]:
    mark, style = STATUS_MARKS[file.status]
    counts = (
        Content.styled("binary", "$foreground-muted")
        if file.binary
        else Content.assemble((f"+{file.added}", "$success"), " ", (f"-{file.removed}", "$error"))
    )
    return Content.styled(mark, f"bold {style}"), Content(file.path), counts


class AgentDiffScreen(Screen[None]):
    CSS_PATH = "agent_diff.tcss"
    BINDINGS = [*bindings("diff"), *bindings("dialog")]
    AUTO_FOCUS = "#diff-files"

    def __init__(self, client: EngineClient, diff: AgentDiff) -> None:
        super().__init__()
        self.client = client
        self.diff = diff

    def compose(self) -> ComposeResult:
        yield Static(id="diff-title")
        yield Static(id="diff-notice")
        with Horizontal(id="diff-body"):
            yield DataTable(id="diff-files", cursor_type="row", show_header=False, zebra_stripes=True)
            with VerticalScroll(id="diff-patch"):
                yield Static(id="diff-text")
        footer = Footer(compact=True)
        footer.show_command_palette = False
        yield footer

    def on_mount(self) -> None:
        table = self.query_one("#diff-files", DataTable)
        for key, width in (("mark", 1), ("path", 34), ("counts", 11)):
            table.add_column(key, key=key, width=width)
        self.show_diff(self.diff)

    # ---------------------------------------------------------------- showing

    def show_diff(self, diff: AgentDiff) -> None:
        self.diff = diff
        self.query_one("#diff-title", Static).update(self._title())
        notice = self._notice()
        self.query_one("#diff-notice", Static).update(notice)
        self.query_one("#diff-notice").display = bool(notice.plain)
        table = self.query_one("#diff-files", DataTable)
        table.clear()
        for file in diff.files:
            mark, path, counts = file_row(file)
            table.add_row(mark, Content(clip(path.plain, 34)), counts, key=file.path)
        self._show_file(diff.files[0] if diff.files else None)
        self.refresh_bindings()

    def _title(self) -> Content:
        diff = self.diff
        where = f"worktree {diff.branch}" if diff.worktree else "the shared folder"
        total = Content.assemble((f"+{diff.added}", "$success"), " ", (f"-{diff.removed}", "$error"))
        count = f"{len(diff.files)} file{'s' if len(diff.files) != 1 else ''}"
        into = Content.styled(f"  → merges into {diff.into}", "$foreground-muted") if diff.open else ""
        return Content.assemble((diff.agent, "bold"), " · ", where, " · ", count, " ", total, into)

    def _notice(self) -> Content:
        diff = self.diff
        if diff.conflicts:
            return Content.styled(
                f"Not merged: {', '.join(diff.conflicts)} changed on both sides. Your files are as they were; "
                "resolve it in the worktree, or keep the branch and merge it with git.",
                "$error",
            )
        if not diff.worktree:
            return Content.styled(
                "This agent works in the shared folder: its changes (as the log records them) are there already.",
                "$foreground-muted",
            )
        if not diff.open:
            return Content.styled("Its worktree is gone (merged, discarded or kept): these are the changes it made.",
                                  "$foreground-muted")  # fmt: skip
        if not diff.files:
            return Content.styled("No changes yet.", "$foreground-muted")
        return Content("")

    def _show_file(self, file: FileDiff | None) -> None:
        text = self.query_one("#diff-text", Static)
        if file is None:
            text.update(Content.styled("Nothing changed.", "$foreground-muted"))
        elif file.binary:
            text.update(Content.styled(f"{file.path}: a binary file ({file.status})", "$foreground-muted"))
        elif not file.patch:
            text.update(Content.styled(f"{file.path}: {file.status} (its bytes are not recorded)", "$foreground-muted"))
        else:
            text.update(render_patch(file.patch, file.path))
        self.query_one("#diff-patch", VerticalScroll).scroll_home(animate=False)

    @on(DataTable.RowHighlighted, "#diff-files")
    def _highlighted(self, message: DataTable.RowHighlighted) -> None:
        message.stop()
        path = message.row_key.value
        self._show_file(next((f for f in self.diff.files if f.path == path), None))

    # ---------------------------------------------------------------- acting

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WORKTREE_ACTIONS:
            return True if self.diff.open else None
        return True

    def action_merge_changes(self) -> None:
        self._carry_out(Merge(agent=self.diff.agent), closes=True)

    def action_keep_branch(self) -> None:
        self._carry_out(KeepBranch(agent=self.diff.agent), closes=True)

    def action_discard_changes(self) -> None:
        question = Content.assemble(
            "Throw away ", (f"{len(self.diff.files)} changed file(s)", "bold"), f" of {self.diff.agent}, with its ",
            "worktree and its branch?\n\n", ("Your own folder is not touched. This cannot be undone.", "$foreground-muted"),
        )  # fmt: skip

        def answered(yes: bool | None) -> None:
            if yes:
                self._carry_out(Discard(agent=self.diff.agent), closes=True)

        self.app.push_screen(ConfirmScreen("Discard the changes", question), answered)

    def action_commit_changes(self) -> None:
        def written(message: str | None) -> None:
            if message:
                self._carry_out(Commit(agent=self.diff.agent, message=message), closes=False)

        self.app.push_screen(CommitMessageScreen(self.diff.agent, self.diff.proposed_message), written)

    @work(group="diff-actions", exclusive=True, exit_on_error=False)
    async def _carry_out(self, command: Command, closes: bool) -> None:
        outcome = await self.client.submit(command)
        if outcome.ok:
            self.notify(outcome.message, title=f"{self.diff.agent}", markup=False)
        else:
            self.notify(outcome.message, title="Not done", severity="warning", markup=False)
        if outcome.ok and closes:
            self.dismiss()
            return
        self.show_diff(await self.client.agent_diff(self.diff.agent))
