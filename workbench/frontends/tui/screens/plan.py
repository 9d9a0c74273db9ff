"""An agent's plan (its ExitPlanMode call): approve it — the session goes on in default or acceptEdits
mode — or send the agent back to planning with feedback."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Markdown

from workbench.frontends.tui.actions import bindings, shown_key
from workbench.protocol.commands import DecidePlan
from workbench.protocol.events import PlanProposed


class PlanScreen(ModalScreen[DecidePlan]):
    CSS_PATH = "plan.tcss"
    BINDINGS = bindings("plan")

    def __init__(self, request: PlanProposed, waiting: Callable[[], int]) -> None:
        super().__init__()
        self.request = request
        self.waiting = waiting

    def compose(self) -> ComposeResult:
        with Vertical(id="plan"):
            yield Label(Content.assemble((self.request.agent, "bold $accent"), " proposes a plan"), id="plan-title")
            with VerticalScroll(id="plan-body"):
                yield Markdown(self.request.plan, id="plan-text")
            keys = self.app.config.keys  # type: ignore[attr-defined]
            keep = shown_key("keep_planning", keys)
            yield Input(placeholder=f"feedback: what to change ({keep} sends it; the agent keeps planning)",
                        id="plan-feedback", compact=True)  # fmt: skip
            with Horizontal(id="plan-buttons"):
                yield Button(f"Approve  {shown_key('approve_plan', keys)}", id="approve_plan", variant="primary")
                yield Button(f"Approve, accept edits  {shown_key('approve_plan_edits', keys)}", id="approve_plan_edits",
                             variant="warning")  # fmt: skip
                yield Button(f"Keep planning  {keep}", id="keep_planning", variant="default")
            yield Label(id="plan-queue")

    def on_mount(self) -> None:
        self.query_one("#plan", Vertical).border_title = "Plan"
        waiting = self.waiting()
        queue = self.query_one("#plan-queue", Label)
        queue.update(f"{waiting} more waiting" if waiting else "")
        queue.display = bool(waiting)
        self.query_one("#approve_plan", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, message: Button.Pressed) -> None:
        getattr(self, f"action_{message.button.id}")()

    @on(Input.Submitted)
    def _feedback(self) -> None:
        self.action_keep_planning()

    def action_approve_plan(self) -> None:
        if not self._typing():
            self.dismiss(DecidePlan(request_id=self.request.request_id, approve=True, mode="default"))

    def action_approve_plan_edits(self) -> None:
        if not self._typing():
            self.dismiss(DecidePlan(request_id=self.request.request_id, approve=True, mode="acceptEdits"))

    def action_keep_planning(self) -> None:
        feedback = self.query_one("#plan-feedback", Input).value.strip()
        self.dismiss(DecidePlan(request_id=self.request.request_id, approve=False, feedback=feedback))

    def _typing(self) -> bool:
        """y and a are letters of the feedback while it is being typed."""
        return self.focused is self.query_one("#plan-feedback", Input)
