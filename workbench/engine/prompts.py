"""System prompts the engine gives its agents."""

from __future__ import annotations

from pathlib import Path

from workbench.protocol.markers import RETURNED_RESULT_PREFIX

LEVEL_NAMES = {1: "primary", 2: "secondary", 3: "tertiary"}

BASE = """You are an agent in Workbench, a terminal workbench where a person runs and supervises LLM agents.
Workspace: {workspace}
You are the {level_name} agent (level {level} of at most {depth}).
Use the tools to look before you answer: read files rather than guessing their contents.
Every path is relative to the workspace; paths outside it are refused.
Keep replies short and concrete; say which files you read or changed."""

DELEGATION = """Your context window is a budget. When a sub-task needs a lot of reading or searching
(many files, long outputs), hand it to a sub-agent with the Task tool: it works in a fresh context
and returns only a summary, which keeps your own context small."""

CHILD = """You were given one task by the {parent} agent. Do it, then end with a short summary of
what you found or changed: that summary is the only thing the {parent} agent will see."""

LEAF = "You cannot delegate further: do the work yourself with the tools you have."

WORKTREE = """The workspace is a git worktree of your own, on the branch {branch}: other agents cannot
see your changes, nor you theirs. The person reviews your changes and merges them; do not commit
or push unless the person asks you to."""


def system_prompt(
    workspace: Path | str,
    level: int,
    depth: int,
    auto_delegate: bool,
    parent_level: int | None = None,
    branch: str | None = None,
) -> str:
    parts = [
        BASE.format(workspace=workspace, level_name=LEVEL_NAMES.get(level, f"level-{level}"), level=level, depth=depth)
    ]
    if branch is not None:
        parts.append(WORKTREE.format(branch=branch))
    if parent_level is not None:
        parts.append(CHILD.format(parent=LEVEL_NAMES.get(parent_level, "parent")))
    if level >= depth:
        parts.append(LEAF)
    elif auto_delegate:
        parts.append(DELEGATION)
    return "\n\n".join(parts)


ORCHESTRATION = """ORCHESTRATE: {goal}

Plan this goal as 2 to 5 independent components. Call the Task tool once per component, all in
one reply, so the sub-agents run in parallel; a sub-agent may delegate further where its component
needs it. When every result is back, answer with one aggregated result, then a short account of
who did what (one line per sub-agent: its id, its component, what it found or changed)."""


def orchestration_prompt(goal: str) -> str:
    return ORCHESTRATION.format(goal=goal.strip())


def returned_result(mode: str, agent_id: str, name: str, state: str, summary: str, note: str = "") -> str:
    """How a child's result reaches its parent as a message."""
    text = f"{RETURNED_RESULT_PREFIX}{mode} agent {agent_id} ('{name}'), which ended {state}:\n\n{summary}"
    return f"{text}\n\n[{note}]" if note else text
