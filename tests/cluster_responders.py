"""What the fake Messages API answers cluster agents (``python -m tests.fake_api --responder tests.cluster_responders:NAME``).

Each agent's task is its first user message; its turn is the number of replies so far plus one.
"""

from __future__ import annotations

from typing import Any

from tests.fake_api import Reply, Response, ToolCall

TOKENS_PER_S = 15.0


def _turn(body: dict[str, Any]) -> int:
    return 1 + sum(1 for m in body.get("messages", []) if m.get("role") == "assistant")


def _task(body: dict[str, Any]) -> str:
    first = next((m for m in body.get("messages", []) if m.get("role") == "user"), None)
    content = first.get("content") if first else ""
    if isinstance(content, str):
        return content
    return " ".join(b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text")


def _words(n: int, turn: int) -> str:
    return " ".join(f"w{turn}.{i}" for i in range(n))


def fleet(body: dict[str, Any]) -> Response:
    """Two turns, each streamed for about a second: the first reads the worker's API key from its
    environment (``printenv``), the second ends with a summary naming the task."""
    delay = 1.0 / TOKENS_PER_S
    if _turn(body) == 1:
        command = {"command": "printenv ANTHROPIC_API_KEY", "description": "the key this worker holds"}
        return Reply(text=_words(14, 1), tool_calls=[ToolCall(name="Bash", input=command)], token_delay_s=delay)
    return Reply(text=f"{_words(12, 2)} done: {_task(body)[:60]}", token_delay_s=delay)


def slow(body: dict[str, Any]) -> Response:
    """One reply of some five seconds, then done: agents that are still at work a while later."""
    return Reply(text=f"{_words(40, _turn(body))} done: {_task(body)[:60]}", token_delay_s=0.12)


def by_task(body: dict[str, Any]) -> Response:
    """The task says what to do: ``run CMD`` (a Bash call), ``write PATH: TEXT`` (a Write call), ``slow …``
    (a reply of some five seconds); anything else is echoed. After the call, a short summary."""
    task, turn = _task(body), _turn(body)
    if turn == 1 and task.startswith("run "):
        return Reply(text="running it", tool_calls=[ToolCall(name="Bash", input={"command": task[4:]})])
    if turn == 1 and task.startswith("write "):
        path, _, text = task[6:].partition(": ")
        return Reply(text="writing it", tool_calls=[ToolCall(name="Write", input={"file_path": path, "content": text})])
    if task.startswith("slow"):
        return slow(body)
    return Reply(text=f"done: {task[:60]} (turn {turn})")


def long_tool(body: dict[str, Any]) -> Response:
    """A command that takes half a minute, then a summary."""
    if _turn(body) == 1:
        return Reply(
            text="this takes a while", tool_calls=[ToolCall(name="Bash", input={"command": "sleep 30; echo finished"})]
        )
    return Reply(text=f"done: {_task(body)[:60]}")
