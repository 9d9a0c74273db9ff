"""The background shells of the session: each one's agent, command, running time and output size; the
highlighted one's output as its file holds it now; a key to stop it.

The rows come from the engine's ``shells`` view, the output from the client (the engine reads the
shell's file), and stopping is a ``StopShell`` command: the screen holds nothing the log does not.
It follows the bus for shells that start and end, and reads the output again every second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message_pump import MessagePump
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from workbench.engine.shell_output import ShellOutput
from workbench.engine.views.shells import ShellRow
from workbench.frontends.tui.actions import BY_NAME, bindings, key_of
from workbench.frontends.tui.humanize import clip, duration, size_text
from workbench.frontends.tui.messages import EventLogged
from workbench.frontends.tui.widgets.flex_table import FlexColumn, FlexTable
from workbench.frontends.tui.worker_failures import ReportsFailedWorkers
from workbench.protocol.commands import StopShell
from workbench.protocol.events import ShellEnded, ShellStarted

if TYPE_CHECKING:
    from workbench.engine.client import EngineClient

Follow = Callable[[MessagePump], Callable[[], None]]

COLUMNS = (
    FlexColumn("agent", "agent", 9),
    FlexColumn("shell", "shell", 8),
    FlexColumn("state", "state", 20),
    FlexColumn("time", "time", 7),
    FlexColumn("size", "output", 8),
    FlexColumn("command", "command"),
)


def state_cell(row: ShellRow) -> Content:
    return Content.styled(row.outcome, "$success" if row.running else "$foreground-muted")


def output_view(row: ShellRow, output: ShellOutput) -> Content:
    """The head line (command, where the file is) and the last lines of the output."""
    head = Content.assemble(("$ ", "$foreground-muted"), (row.command, "bold"))
    if row.description:
        head = Content.assemble(head, ("  # " + row.description, "$foreground-muted"))
    if output.note:
        return Content.assemble(head, "\n\n", (output.note, "$warning"))
    if not output.tail:
        return Content.assemble(
            head, "\n\n", ("(no output yet)" if row.running else "(no output)", "$foreground-muted")
        )
    cut = Content.styled(f"… the last lines of {size_text(output.size)}\n", "$foreground-muted") if output.cut else ""
    return Content.assemble(head, "\n\n", cut, output.tail.rstrip("\n"))


class ShellsTable(FlexTable[ShellRow]):
    def __init__(self, cells: Callable[[ShellRow, int], list[Content]]) -> None:
        super().__init__(COLUMNS, cells, lambda row: row.shell_id, id="shells-table")


class ShellsScreen(ReportsFailedWorkers, ModalScreen[None]):
    CSS_PATH = "shells.tcss"
    BINDINGS = [*bindings("dialog"), *bindings("shells")]

    def __init__(
        self,
        client: EngineClient,
        clock: Callable[[], datetime],
        follow: Follow | None = None,
        agent: str | None = None,
        keys: dict[str, str] | None = None,
    ) -> None:
        """``agent``: list only that agent's shells (None: every agent's)."""
        super().__init__()
        self.client = client
        self.clock = clock
        self.agent = agent
        self.keys = keys or {}
        self._follow = follow
        self._unfollow: Callable[[], None] | None = None
        self._sizes: dict[str, int] = {}  # of the running shells' files, read every second
        self._shown_id = ""  # the shell whose output is shown

    @property
    def shells(self) -> list[ShellRow]:
        """The shells listed, by agent, each agent's in the order they started."""
        view = self.client.view.shells
        rows = view.of(self.agent) if self.agent is not None else list(view.rows.values())
        agents = list(dict.fromkeys(row.agent for row in rows))
        return sorted(rows, key=lambda row: agents.index(row.agent))

    def compose(self) -> ComposeResult:
        with Vertical(id="shells"):
            yield ShellsTable(self._cells)
            with VerticalScroll(id="shell-output-scroll"):
                yield Static(id="shell-output")
            yield Label(self._hint(), id="shells-hint")

    def _hint(self) -> Content:
        def key(name: str) -> str:
            return key_of(BY_NAME[name], self.keys)

        return Content.assemble(
            (key("view_shell"), "bold $accent"), " scrolls the output · ",
            (key("stop_shell"), "bold $accent"), " stops the shell · ",
            ("esc", "bold $accent"), " closes",
        )  # fmt: skip

    def on_mount(self) -> None:
        whose = f" of {self.agent}" if self.agent is not None else ""
        self.query_one("#shells").border_title = f"Background shells{whose}"
        self.query_one("#shell-output-scroll").border_title = "output"
        if self._follow is not None:
            self._unfollow = self._follow(self)
        self.set_interval(1.0, self._tick)
        self.table.focus()
        self._refill()
        self._tick()

    def on_unmount(self) -> None:
        if self._unfollow is not None:
            self._unfollow()

    @property
    def table(self) -> ShellsTable:
        return self.query_one(ShellsTable)

    # ---------------------------------------------------------------- the list

    def _refill(self) -> None:
        """The rows again, as the view and the files now say (the cursor stays on its shell)."""
        table = self.table
        table.show(self.shells)
        if not table.row_count:
            none = (
                f"{self.agent} has started no background shell in this session."
                if self.agent is not None
                else "No agent has started a background shell in this session."
            )
            self.output.update(Content.styled(none, "$foreground-muted"))

    def _output_size(self, row: ShellRow) -> int:
        return self._sizes.get(row.shell_id, row.output_bytes) if row.running else row.output_bytes

    def _cells(self, row: ShellRow, command_width: int) -> list[Content]:
        return [
            Content.styled(row.agent, "bold"),
            Content(row.shell_id),
            state_cell(row),
            Content(f"{duration(row.running_s(self.clock())):>7}"),
            Content(f"{size_text(self._output_size(row)):>8}"),
            Content(clip(row.command, command_width)),
        ]

    @property
    def highlighted(self) -> ShellRow | None:
        return self.table.highlighted

    @property
    def output(self) -> Static:
        return self.query_one("#shell-output", Static)

    # ---------------------------------------------------------------- live

    @on(EventLogged)
    def _logged(self, message: EventLogged) -> None:
        if isinstance(message.event, (ShellStarted, ShellEnded)):
            self._refill()
            self._read()

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        """Another shell highlighted: its output (the rows drawn again keep the cursor where it is)."""
        row = self.highlighted
        if row is not None and row.shell_id != self._shown_id:
            self._read()

    def _tick(self) -> None:
        """The running shells' times and files, and the highlighted one's output, are read again."""
        self._read()

    @work(group="shell-output", exclusive=True, exit_on_error=False)
    async def _read(self) -> None:
        running = [row for row in self.shells if row.running]
        for row in running:
            self._sizes[row.shell_id] = (await self.client.shell_output(row.shell_id, 0)).size
        if running:
            self._refill()
        shown = self.highlighted
        if shown is not None:
            self._shown_id = shown.shell_id
            output = await self.client.shell_output(shown.shell_id)
            scroll = self.query_one("#shell-output-scroll", VerticalScroll)
            at_end = scroll.scroll_y >= scroll.max_scroll_y  # a tail follows what is written, unless scrolled up
            self.output.update(output_view(shown, output))
            if at_end:
                self.call_after_refresh(scroll.scroll_end, animate=False)

    # ---------------------------------------------------------------- keys

    def action_view_shell(self) -> None:
        scroll = self.query_one("#shell-output-scroll")
        if self.highlighted is not None:
            scroll.focus()
            scroll.scroll_end(animate=False)

    async def action_dismiss(self, result: None = None) -> None:
        """esc in the output goes back to the list; in the list it closes the screen."""
        if self.focused is not self.table and self.table.row_count:
            self.table.focus()
        else:
            self.dismiss(result)

    def action_stop_shell(self) -> None:
        row = self.highlighted
        if row is None:
            return
        if not row.running:
            self.notify(f"{row.shell_id} is not running ({row.outcome}).", severity="warning")
            return
        self._stop(row.shell_id)

    @work(group="stop-shell", exit_on_error=False)
    async def _stop(self, shell_id: str) -> None:
        outcome = await self.client.submit(StopShell(shell_id=shell_id))
        if outcome.ok:
            self.notify(f"Stopped {shell_id}.")
        else:
            self.notify(outcome.message or f"{shell_id} could not be stopped.", severity="error")
