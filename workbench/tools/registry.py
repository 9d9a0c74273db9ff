"""The tools an agent can call, by name: their specs, input validation, and failure-proof invocation."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from workbench.protocol.brain_io import ToolSpec
from workbench.tools.base import MAX_RESULT_CHARS, Tool, ToolContext, ToolFailure, ToolOutput, truncate
from workbench.tools.bash import Bash
from workbench.tools.edit import Edit
from workbench.tools.glob import Glob
from workbench.tools.grep import Grep
from workbench.tools.notebook_edit import NotebookEdit
from workbench.tools.plan_mode import EnterPlanMode, ExitPlanMode
from workbench.tools.read import Read
from workbench.tools.shells import TaskOutput, TaskStop
from workbench.tools.web_fetch import WebFetch
from workbench.tools.write import Write

log = logging.getLogger(__name__)


class InvalidToolCall(ToolFailure):
    """The model called a tool that does not exist, or with input its schema rejects."""


def builtin_tools() -> list[Tool]:
    return [
        Read(),
        Write(),
        Edit(),
        Glob(),
        Grep(),
        Bash(),
        TaskOutput(),
        TaskStop(),
        NotebookEdit(),
        WebFetch(),
        EnterPlanMode(),
        ExitPlanMode(),
    ]


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"A tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def specs(self) -> list[ToolSpec]:
        return [tool.spec() for tool in self._tools.values()]

    def validate(self, name: str, raw: dict[str, Any]) -> BaseModel:
        """Parse a call's input; raises InvalidToolCall with a message written for the model."""
        tool = self._tools.get(name)
        if tool is None:
            raise InvalidToolCall(f"Unknown tool {name!r}. Available tools: {', '.join(self._tools)}")
        try:
            return tool.Input.model_validate(raw)
        except ValidationError as exc:
            raise InvalidToolCall(_describe_invalid(tool, exc)) from exc

    async def invoke(self, tool: Tool, params: BaseModel, ctx: ToolContext) -> ToolOutput:
        """Run a call. Never raises (except on cancellation): failures become is_error results."""
        try:
            out = await tool.run(params, ctx)
        except ToolFailure as exc:
            out = ToolOutput(content=str(exc), is_error=True)
        except Exception as exc:
            log.debug("tool %s raised", tool.name, exc_info=True)
            out = ToolOutput(content=f"{tool.name} failed: {type(exc).__name__}: {exc}", is_error=True)
        if len(out.content) <= MAX_RESULT_CHARS:
            return out
        capped = truncate(out.content)
        return ToolOutput(
            content=capped.content,
            is_error=out.is_error,
            truncated_chars=out.truncated_chars + capped.truncated_chars,
            images=out.images,
        )


def _describe_invalid(tool: Tool, exc: ValidationError) -> str:
    problems = [f"- {'.'.join(str(part) for part in err['loc']) or 'input'}: {err['msg']}" for err in exc.errors()]
    fields = tool.Input.model_fields
    takes = ", ".join(f"{key} (required)" if field.is_required() else key for key, field in fields.items())
    return f"Invalid input for {tool.name}:\n" + "\n".join(problems) + f"\n{tool.name} takes: {takes}"
