"""A tool call in the conversation: a collapsible block with its arguments, decision and result."""

from __future__ import annotations

import json
from typing import Any

from textual.content import Content
from textual.widgets import Collapsible, Static

from workbench.engine.views.tool_subject import subject_of
from workbench.frontends.tui.humanize import clip
from workbench.frontends.tui.stylesheet import css_beside
from workbench.protocol.events import PermissionDecision, ToolCall, ToolResult

ARGUMENT_LINES = 12
RESULT_LINES = 16


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)


def _clipped_lines(text: str, limit: int) -> tuple[list[str], int]:
    lines = text.rstrip("\n").splitlines() or [""]
    return lines[:limit], max(0, len(lines) - limit)


def arguments_view(tool_input: dict[str, Any]) -> Content:
    """Each argument as ``key  value``; long values cut to a few lines."""
    if not tool_input:
        return Content.styled("(no arguments)", "$foreground-muted")
    width = max(len(key) for key in tool_input)
    parts: list[Content] = []
    for key, value in tool_input.items():
        lines, more = _clipped_lines(_value_text(value), ARGUMENT_LINES)
        pad = " " * (width + 2)
        body = ("\n" + pad).join(lines)
        parts.append(Content.assemble((key.ljust(width) + "  ", "$foreground-muted"), body))
        if more:
            parts.append(Content.styled(f"{pad}… {more} more lines", "$foreground-muted"))
    return Content("\n").join(parts)


def result_view(result: ToolResult) -> Content:
    lines, more = _clipped_lines(result.content, RESULT_LINES)
    body = Content.styled("\n".join(lines), "$error" if result.is_error else "")
    notes = []
    if more:
        notes.append(f"… {more} more lines")
    if result.truncated_chars:
        notes.append(f"({result.truncated_chars:,} characters cut by the tool)")
    notes += [image.placeholder() for image in result.images]
    if notes:
        body = Content.assemble(body, "\n", (" ".join(notes), "$foreground-muted"))
    return body


def decision_view(decision: PermissionDecision) -> Content:
    who = {"user": "by you", "rule": "by a rule", "mode": "by the mode", "hook": "by a hook"}[decision.source]
    if decision.decision == "allow":
        text = f"allowed {who}"
        if decision.remember and decision.rule:
            text += f" · always, added the rule {decision.rule}"
        elif decision.rule:
            text += f" · {decision.rule}"
        return Content.styled(text, "$success" if decision.source == "user" else "$foreground-muted")
    reason = f": {decision.reason}" if decision.reason else ""
    return Content.styled(f"denied {who}{reason}", "$error")


class ToolBlock(Collapsible):
    """Built from the tool_call event, then told its permission decision and result as they are logged."""

    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, tool_use_id: str, name: str) -> None:
        self.tool_use_id = tool_use_id
        self.tool_name = name
        self.call: ToolCall | None = None
        self.decision: PermissionDecision | None = None
        self.result: ToolResult | None = None
        self._arguments = Static(Content.styled("receiving arguments…", "$foreground-muted"), classes="tool-arguments")
        self._decision = Static(classes="tool-decision")
        self._result = Static(classes="tool-result")
        self._decision.display = False
        self._result.display = False
        super().__init__(self._arguments, self._decision, self._result, title="", collapsed=True)
        self.add_class("tool-block")
        self._retitle()

    def set_call(self, call: ToolCall) -> None:
        self.call = call
        self._arguments.update(arguments_view(call.input))
        self._retitle()

    def set_decision(self, decision: PermissionDecision) -> None:
        self.decision = decision
        self._decision.update(decision_view(decision))
        self._decision.display = True
        self._retitle()

    def set_result(self, result: ToolResult) -> None:
        self.result = result
        self._result.update(result_view(result))
        self._result.display = True
        self.set_class(result.is_error, "-error")
        self._retitle()

    @property
    def status(self) -> str:
        if self.result is not None:
            if self.decision is not None and self.decision.decision == "deny":
                return "denied"
            return "error" if self.result.is_error else "done"
        if self.decision is not None:
            return "running" if self.decision.decision == "allow" else "denied"
        return "pending"

    def _retitle(self) -> None:
        status = self.status
        glyph = {"done": "✓", "error": "✗", "denied": "⊘", "running": "⋯", "pending": "⋯"}[status]
        subject = clip(subject_of(self.call.input), 72) if self.call else ""
        if self.result is not None and status == "done":
            lines = len(self.result.content.splitlines())
            note = f"{lines} line{'s' if lines != 1 else ''}"
        else:
            note = {"error": "error", "denied": "denied", "running": "running", "pending": "waiting"}.get(status, "")
        # a Content title shows the model's text verbatim (a str title would be read as markup)
        self.title = Content.assemble(  # type: ignore[assignment]
            f"{glyph} ",
            (self.tool_name, "bold"),
            f"  {subject}" if subject else "",
            (f"  · {note}", "$foreground-muted"),
        )
        for name in ("done", "error", "denied", "running", "pending"):
            self.set_class(status == name, f"-{name}")
