"""The permission prompt: what a tool call would do, and allow once / allow always / deny."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from workbench.frontends.tui.actions import bindings, shown_key
from workbench.frontends.tui.widgets.tool_block import arguments_view
from workbench.protocol.commands import Approve
from workbench.protocol.events import ApprovalRequested

DIFF_STYLES = (("+++", "bold"), ("---", "bold"), ("@@", "$secondary"), ("+", "$success"), ("-", "$error"))


def diff_view(diff: str) -> Content:
    """A unified diff, each line coloured by what it does."""
    lines = []
    for line in diff.rstrip("\n").splitlines():
        style = next((style for prefix, style in DIFF_STYLES if line.startswith(prefix)), "$foreground-muted")
        lines.append(Content.styled(line, style))
    return Content("\n").join(lines) if lines else Content.styled("(no change)", "$foreground-muted")


class ApprovalScreen(ModalScreen[Approve]):
    CSS_PATH = "approval.tcss"
    BINDINGS = bindings("approval")

    def __init__(self, request: ApprovalRequested, waiting: Callable[[], int]) -> None:
        super().__init__()
        self.request = request
        self.waiting = waiting

    def compose(self) -> ComposeResult:
        request = self.request
        with Vertical(id="approval"):
            yield Label(
                Content.assemble(
                    (request.agent, "bold $accent"),
                    " wants to use ",
                    (request.tool, "bold"),
                ),
                id="approval-title",
            )
            if request.subject:
                yield Static(Content(request.subject), id="approval-subject")
            # the subject is shown above; the diff says what the rest of the input would do
            rest = {key: value for key, value in request.input.items() if value != request.subject}
            if request.preview is not None:
                with VerticalScroll(id="approval-body"):
                    yield Static(diff_view(request.preview), id="approval-diff")
            elif rest:
                with VerticalScroll(id="approval-body"):
                    yield Static(arguments_view(rest), id="approval-arguments")
            rule = Content.assemble(
                ("allow always adds the rule ", "$foreground-muted"), (request.suggested_rule, "bold")
            )
            yield Static(rule, id="approval-rule")
            with Horizontal(id="approval-buttons"):
                keys = self.app.config.keys  # type: ignore[attr-defined]
                yield Button(f"Allow once  {shown_key('allow_once', keys)}", id="allow_once", variant="primary")
                yield Button(f"Allow always  {shown_key('allow_always', keys)}", id="allow_always", variant="warning")
                yield Button(f"Deny  {shown_key('deny', keys)}", id="deny", variant="error")
            yield Label(id="approval-queue")

    def on_mount(self) -> None:
        self.query_one("#approval", Vertical).border_title = "Permission"
        self._count_waiting()
        self.set_interval(0.5, self._count_waiting)
        self.query_one("#allow_once", Button).focus()

    def _count_waiting(self) -> None:
        waiting = self.waiting()
        queue = self.query_one("#approval-queue", Label)
        queue.update(f"{waiting} more waiting" if waiting else "")
        queue.display = bool(waiting)

    @on(Button.Pressed)
    def _pressed(self, message: Button.Pressed) -> None:
        getattr(self, f"action_{message.button.id}")()

    def action_allow_once(self) -> None:
        self.dismiss(Approve(request_id=self.request.request_id, choice="allow_once"))

    def action_allow_always(self) -> None:
        self.dismiss(Approve(request_id=self.request.request_id, choice="allow_always"))

    def action_deny(self) -> None:
        self.dismiss(Approve(request_id=self.request.request_id, choice="deny", reason="denied in the app"))
