"""The permission rules in force: the mode, the user's own allow, ask and deny rules, and the git
guardrails before them (which only naming them in ``lift_guardrails`` lifts)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from workbench.engine.policy.guardrails import GUARDRAILS, Guardrails
from workbench.engine.policy.permissions import PermissionPolicy
from workbench.frontends.tui.actions import bindings

VERDICT_STYLES = {"deny": "bold $error", "ask": "bold $warning", "allow": "bold $success"}


def rules_view(policy: PermissionPolicy) -> Content:
    guardrails: Guardrails = getattr(policy, "guardrails", None) or Guardrails()
    lines = [
        Content.assemble(("mode ", "$foreground-muted"), (policy.mode, "bold")),
        Content(""),
        Content.styled("Git guardrails (first; no rule or mode lifts them)", "bold"),
    ]
    for guardrail in GUARDRAILS:
        lifted = guardrail.name in guardrails.lifted
        verdict: str = "lifted" if lifted else guardrail.verdict
        lines.append(
            Content.assemble(
                (f"  {verdict:<6} ", "$foreground-muted" if lifted else VERDICT_STYLES[guardrail.verdict]),
                (guardrail.name, "strike" if lifted else ""),
                (f"  {guardrail.rule}", "$foreground-muted"),
            )
        )
    lines.append(Content.styled('  lift one in [permissions] lift_guardrails = ["push"]', "$foreground-muted"))
    lines += [Content(""), Content.styled("Your rules (deny, then ask, then allow; then the mode)", "bold")]
    rules = [("deny", policy.deny), ("ask", policy.ask), ("allow", policy.allow)]
    for verdict, listed in rules:
        for rule in listed:
            lines.append(Content.assemble((f"  {verdict:<6} ", VERDICT_STYLES[verdict]), rule.text))
    if not any(listed for _, listed in rules):
        lines.append(Content.styled("  none: the mode decides", "$foreground-muted"))
    return Content("\n").join(lines)


class PermissionsScreen(ModalScreen[None]):
    CSS_PATH = "permissions.tcss"
    BINDINGS = bindings("dialog")

    def __init__(self, policy: PermissionPolicy) -> None:
        super().__init__()
        self.policy = policy

    def compose(self) -> ComposeResult:
        with Vertical(id="permissions"):
            with VerticalScroll():
                yield Static(rules_view(self.policy), id="permissions-rules")
            yield Static(Content.assemble(("esc", "bold $accent"), " closes"), id="permissions-keys")

    def on_mount(self) -> None:
        self.query_one("#permissions").border_title = "Permissions"
