"""The session's permission policy: the user's rules and mode, the git guardrails before them, and one view
of it per workspace.

An agent in its own worktree is judged by the same mode and rules as every other agent (a rule added or a
mode changed applies to all at once), with its paths relative to its worktree, and git asked about its
branch: :meth:`SessionPolicy.for_workspace` gives that view, sharing the mode and the rule lists.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.engine.policy.guardrails import Guardrails
from workbench.engine.policy.permissions import Decision, PermissionPolicy
from workbench.protocol.modes import PermissionMode

if TYPE_CHECKING:
    from pydantic import BaseModel

    from workbench.tools.base import Tool


class _Mode:
    """The mode, held once for a policy and all its workspace views."""

    def __init__(self) -> None:
        self.value: PermissionMode = "default"


class SessionPolicy(PermissionPolicy):
    def __init__(self, *, guardrails: Guardrails | None = None, **rules: Any) -> None:
        """``rules``: what a PermissionPolicy takes (mode, allow, ask, deny, workspace)."""
        self._mode = _Mode()
        super().__init__(**rules)
        self.guardrails = guardrails or Guardrails()

    @property
    def mode(self) -> PermissionMode:
        return self._mode.value

    @mode.setter
    def mode(self, value: PermissionMode) -> None:
        self._mode.value = value

    def for_workspace(self, workspace: Path) -> SessionPolicy:
        """This policy as an agent working in ``workspace`` is judged by."""
        if workspace == self.workspace:
            return self
        view = copy.copy(self)  # the rule lists and the mode stay shared
        view.workspace = workspace
        return view

    def decide(self, tool: Tool[Any], params: BaseModel) -> Decision:
        """A guardrail's denial first; a guardrail's question unless a rule or the mode denies anyway."""
        subject = tool.subject(params) if tool.name == "Bash" else None
        stop = self.guardrails.check(subject, self.workspace) if subject else None
        if stop is not None and stop.guardrail.verdict == "deny":
            return Decision(verdict="deny", rule=f"guardrail:{stop.guardrail.name}", source="rule", reason=stop.reason)
        decision = super().decide(tool, params)
        if stop is not None and decision.verdict != "deny":
            return Decision(verdict="ask", rule=f"guardrail:{stop.guardrail.name}", source="rule", reason=stop.reason)
        return decision
