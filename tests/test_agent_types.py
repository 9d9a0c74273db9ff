"""Agent types from .workbench/agents and .claude/agents: parsing Claude Code's shapes, lookup, failures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workbench.engine.agent_types import (
    AgentTypeError,
    UnknownAgentType,
    agent_type_dirs,
    find_agent_type,
    load_agent_types,
    parse_agent_type,
)

FIXTURES = Path(__file__).parent / "fixtures" / "claude_code"
ALL_TOOLS = ["Read", "Write", "Edit", "Glob", "Grep", "Bash", "Task"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES, root)
    return root


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def write(folder: Path, file: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file
    path.write_text(text)
    return path


def test_claude_code_agents_load_as_written(project: Path, environ: dict[str, str]) -> None:
    catalog = load_agent_types(project, environ)
    assert catalog.problems == []
    reviewer = catalog.find("code-reviewer")
    assert reviewer.origin == "claude"
    assert reviewer.tools == ["Read", "Grep", "Glob", "Bash"]
    assert reviewer.model is None  # "inherit": the parent's model
    assert reviewer.description.startswith("Expert code review specialist.")
    assert reviewer.system.startswith("You are a senior code reviewer") and reviewer.system.endswith("immediately")
    debugger = catalog.find("debugger")
    # an unquoted description full of colons and <example> tags, as Claude Code writes them
    assert 'Examples: <example>Context: a test fails. user: "the login test fails"' in debugger.description
    assert debugger.model == "claude-sonnet-4-6" and debugger.tools is None  # the alias resolved


def test_tools_narrow_what_the_level_offers_and_none_means_all(project: Path, environ: dict[str, str]) -> None:
    catalog = load_agent_types(project, environ)
    assert catalog.find("code-reviewer").offered_tools(ALL_TOOLS) == ["Read", "Glob", "Grep", "Bash"]
    assert catalog.find("code-reviewer").offered_tools(["Read", "Write"]) == ["Read"]
    assert catalog.find("debugger").offered_tools(ALL_TOOLS) == ALL_TOOLS


def test_the_system_prompt_puts_the_types_own_first(project: Path, environ: dict[str, str]) -> None:
    debugger = find_agent_type("debugger", project, environ)
    assert debugger.system_prompt("Workspace: /x") == f"{debugger.system}\n\nWorkspace: /x"
    assert debugger.system_prompt("") == debugger.system


def test_lookup_order_workbench_then_claude_then_user(project: Path, tmp_path: Path, environ: dict[str, str]) -> None:
    assert [origin for _, origin in agent_type_dirs(project, environ)] == ["project", "claude", "user"]
    write(project / ".workbench" / "agents", "mine.md", "---\nname: debugger\n---\nOur own debugger.")
    write(tmp_path / "xdg" / "workbench" / "agents", "d.md", "---\nname: debugger\n---\nUser debugger.")
    write(tmp_path / "xdg" / "workbench" / "agents", "helper.md", "---\ndescription: helps\n---\nA helper.")
    catalog = load_agent_types(project, environ)
    assert catalog.find("debugger").system == "Our own debugger."
    helper = catalog.find("helper")  # no name: the file's stem
    assert helper.origin == "user" and helper.description == "helps"


def test_bad_files_are_reported_and_the_rest_still_load(project: Path, environ: dict[str, str]) -> None:
    folder = project / ".claude" / "agents"
    write(folder, "broken.md", "---\nname: broken\ntools: [Read\n---\nx")
    write(folder, "empty.md", "---\nname: empty\n---\n\n")
    write(folder, "spaces.md", "---\nname: has spaces\n---\nx")
    write(folder, "zz-twin.md", "---\nname: debugger\n---\nA second debugger in the same folder.")
    catalog = load_agent_types(project, environ)
    assert set(catalog.types) == {"code-reviewer", "debugger", "general-purpose", "Explore", "Plan"}
    assert catalog.find("debugger").system.startswith("You are an expert debugger")
    problems = "\n".join(catalog.problems)
    assert "broken.md: the front matter is not valid YAML" in problems
    assert "'empty' " in problems and "no system prompt" in problems
    assert "'has spaces' is not a usable name" in problems
    assert "zz-twin.md: the name 'debugger' is already used by" in problems


def test_an_unknown_type_names_the_known_ones_and_the_unusable_files(project: Path, environ: dict[str, str]) -> None:
    write(project / ".claude" / "agents", "broken.md", "---\ntools: {a: 1}\n---\nx")
    with pytest.raises(UnknownAgentType) as caught:
        find_agent_type("planner", project, environ)
    message = str(caught.value)
    assert "No agent type named 'planner'" in message and "code-reviewer, debugger" in message
    assert "broken.md" in message and "'tools' must be a list" in message


def test_without_agent_folders_claude_codes_built_in_types_exist(tmp_path: Path, environ: dict[str, str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    # what a Claude model asks for with no agent file written: it must not fail
    general = find_agent_type("general-purpose", empty, environ)
    assert general.origin == "builtin" and general.tools is None and general.model is None and general.system
    explore = find_agent_type("Explore", empty, environ)
    assert explore.tools == ["Read", "Glob", "Grep"] and explore.model == "claude-haiku-4-5"
    assert find_agent_type("Plan", empty, environ).tools == ["Read", "Glob", "Grep"]
    with pytest.raises(UnknownAgentType, match="Known agent types: Explore, Plan, general-purpose"):
        find_agent_type("x", empty, environ)


def test_a_project_file_may_replace_a_built_in_type(tmp_path: Path, environ: dict[str, str]) -> None:
    agents = tmp_path / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "gp.md").write_text("---\nname: general-purpose\ndescription: ours\n---\nOur own prompt.")
    assert find_agent_type("general-purpose", tmp_path, environ).system == "Our own prompt."


def test_agent_files_in_sub_folders_load_and_model_aliases_resolve(tmp_path: Path, environ: dict[str, str]) -> None:
    nested = tmp_path / ".claude" / "agents" / "review" / "security"
    nested.mkdir(parents=True)
    (nested / "auditor.md").write_text("---\nname: auditor\nmodel: opus\ntools: Read, Grep\n---\nAudit.")
    (nested / "quick.md").write_text("---\nname: quick\nmodel: haiku\n---\nQuick.")
    (nested / "own.md").write_text("---\nname: own\nmodel: claude-opus-4-1\n---\nOwn.")
    catalog = load_agent_types(tmp_path, environ)
    assert catalog.find("auditor").model == "claude-opus-4-6" and catalog.find("auditor").tools == ["Read", "Grep"]
    assert catalog.find("quick").model == "claude-haiku-4-5"
    assert catalog.find("own").model == "claude-opus-4-1"  # an id is kept as written


def test_parse_errors_are_agent_type_errors() -> None:
    with pytest.raises(AgentTypeError, match="never closed"):
        parse_agent_type("---\nname: x\n", Path("/a/x.md"), "claude")
