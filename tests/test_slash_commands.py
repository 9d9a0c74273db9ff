"""Slash commands as typed: Claude Code's /NAME commands, /delegate --agent, and the Task tool's agent types."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from workbench.engine.agent_types import load_agent_types
from workbench.frontends.cli.main import main
from workbench.frontends.cli.primers import take_yes
from workbench.frontends.tui.slash import clashes, completions, parse, parse_delegate
from workbench.tools.task import Task

PRIMERS = ["feature", "fix-issue", "frontend:component", "backend:component", "compact"]


def test_a_primer_runs_as_slash_name_and_as_slash_prime_name() -> None:
    typed = parse("/fix-issue 123 high", PRIMERS)
    assert (typed.primer, typed.argument) == ("fix-issue", "123 high")
    assert parse("/prime-fix-issue 1", PRIMERS).primer == "fix-issue"
    assert parse("/frontend:component Card", PRIMERS).primer == "frontend:component"
    # a sub-folder's command answers to its own name when no other primer has it
    assert parse("/feature x", PRIMERS).primer == "feature"
    assert parse("/component x", PRIMERS).command is None  # two primers end so: ambiguous
    assert parse("/nothing", PRIMERS).command is None


def test_a_built_in_command_wins_over_a_primer_of_its_name() -> None:
    typed = parse("/compact keep the plan", PRIMERS)
    assert typed.primer == "" and typed.command is not None and typed.command.action.name == "compact"
    assert clashes(PRIMERS) == ["compact"]
    assert parse("/prime-compact", PRIMERS).primer == "compact"
    assert [c.word for c in completions("/fix", PRIMERS)] == ["/fix-issue"]
    assert [c.word for c in completions("/prime-fix", PRIMERS)] == ["/prime-fix-issue"]


@pytest.mark.parametrize(
    ("argument", "agent_type", "task"),
    [
        ("--agent Explore find the config loader", "Explore", "find the config loader"),
        ("--agent=code-reviewer review src/app.py", "code-reviewer", "review src/app.py"),
        ("read the README", None, "read the README"),
        ("--agents are not an option here", None, "--agents are not an option here"),
    ],
)
def test_delegate_takes_an_agent_type(argument: str, agent_type: str | None, task: str) -> None:
    asked = parse_delegate(argument)
    assert (asked.agent_type, asked.task, asked.error) == (agent_type, task, "")


def test_delegate_with_agent_but_no_name_says_so() -> None:
    assert "--agent needs the name" in parse_delegate("--agent").error


def test_the_task_tools_schema_lists_the_agent_types_that_exist(tmp_path: Path) -> None:
    agents = tmp_path / ".claude" / "agents" / "review"
    agents.mkdir(parents=True)
    (agents / "reviewer.md").write_text("---\nname: code-reviewer\ndescription: Reviews diffs.\n---\nReview.")
    spec = Task(load_agent_types(tmp_path, {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}).listing()).spec()
    field = spec.input_schema["properties"]["subagent_type"]
    assert field["enum"] == ["code-reviewer", "general-purpose", "Explore", "Plan"]
    assert "- code-reviewer: Reviews diffs." in spec.description and "- general-purpose: " in spec.description
    assert spec.input_schema["required"] == ["description", "prompt"]


def test_yes_is_taken_wherever_it_stands() -> None:
    assert take_yes(["123", "--yes", "high"]) == (True, ["123", "high"])
    assert take_yes(["123"]) == (False, ["123"])
    assert take_yes(["--", "--yes"]) == (False, ["--yes"])  # after --, an argument like any other


def test_primers_show_accepts_yes_after_the_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands = tmp_path / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "stamp.md").write_text("Stamp: !`touch stamped && echo $0`\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal: without --yes the command is refused
    assert main(["primers", "show", "stamp", "now"]) == 1
    assert not (tmp_path / "stamped").exists()
    assert main(["primers", "show", "stamp", "now", "--yes"]) == 0
    assert (tmp_path / "stamped").exists()
