"""Skills: Claude Code's SKILL.md files, listed by name and description, loaded by the model on demand."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine_driver import ask, run
from tests.fake_api import FakeAnthropicServer, Reply
from tests.fake_api import ToolCall as FakeToolCall
from workbench.brains.anthropic import AnthropicBrain
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.engine import Engine
from workbench.engine.priming.skills import skill_catalog, skill_dirs
from workbench.protocol.commands import Prime
from workbench.protocol.events import AgentSpawned, Primed, ToolResult

RELEASE_NOTES = """---
name: release-notes
description: Writes release notes from the changelog. Use when asked to draft release notes for a version.
allowed-tools: Read, Bash(git log:*)
---

# Release notes

Read CHANGELOG.md, then write the notes for version $ARGUMENTS in the house style:
see [style.md](style.md) in ${CLAUDE_SKILL_DIR}.
"""


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    folder = workspace / ".claude" / "skills" / "release-notes"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(RELEASE_NOTES)
    (folder / "style.md").write_text("Short sentences.\n")
    manual = workspace / ".claude" / "skills" / "deploy"
    manual.mkdir()
    (manual / "SKILL.md").write_text(
        "---\ndescription: Deploy to production\ndisable-model-invocation: true\n---\nShip.\n"
    )
    return workspace


def config(tmp_path: Path) -> Config:
    return Config(bundles=tmp_path / "bundles", fsync="never")


async def test_only_names_and_descriptions_go_into_the_context(ws: Path, tmp_path: Path) -> None:
    engine = await Engine.open(config(tmp_path), ws, ScriptedBrain())
    tool = engine.services.tools.get("Skill")
    assert tool is not None
    description = tool.spec().description
    assert "- release-notes: Writes release notes from the changelog." in description
    assert "house style" not in description  # the body waits until the skill is loaded
    assert "deploy" not in description  # the person's only
    spawned = next(e for e in engine.events if isinstance(e, AgentSpawned))
    assert "Skill" in spawned.tools
    await engine.close()


async def test_the_scripted_brain_loads_a_skill_whose_description_matches(ws: Path, tmp_path: Path) -> None:
    engine = await Engine.open(config(tmp_path), ws, ScriptedBrain())
    answer = await ask(engine, "please draft the release notes for version 2.0")
    primed = next(e for e in engine.events if isinstance(e, Primed))
    assert primed.primer == "release-notes" and "Read CHANGELOG.md" in primed.text
    assert str(ws / ".claude" / "skills" / "release-notes") in primed.text  # ${CLAUDE_SKILL_DIR}
    assert primed.tokens > 0
    budget = engine.budget("primary")  # counted under primers (scaled, like every category, to the API's total)
    assert budget.categories["primers"] > 0 and sum(budget.categories.values()) == budget.used
    result = next(e for e in engine.events if isinstance(e, ToolResult))
    assert (
        result.content
        == f"Loaded the skill release-notes ({primed.tokens:,} tokens): its instructions follow. Follow them."
    )
    assert "Skill" in answer
    await engine.close()


async def test_a_skill_loaded_by_claudes_tool_call_reaches_the_next_request(ws: Path, tmp_path: Path) -> None:
    replies = [
        Reply(tool_calls=[FakeToolCall(name="Skill", input={"skill": "release-notes", "args": "2.0"})]),
        Reply(text="Notes drafted."),
    ]
    async with FakeAnthropicServer(*replies) as server:
        brain = AnthropicBrain("claude-sonnet-4-6", base_url=server.base_url, api_key="k")
        engine = await Engine.open(config(tmp_path), ws, brain)
        assert await ask(engine, "release notes please") == "Notes drafted."
        await engine.close()
        sent = server.message_requests[1].body["messages"][-1]["content"]
    assert sent[0]["type"] == "tool_result"
    assert sent[1]["text"].startswith('<primer name="release-notes">')
    assert "write the notes for version 2.0 in the house style" in sent[1]["text"]


async def test_an_unknown_or_manual_skill_is_refused_to_the_model(ws: Path, tmp_path: Path) -> None:
    replies = [
        Reply(tool_calls=[FakeToolCall(name="Skill", input={"skill": "deploy"})]),
        Reply(text="ok"),
    ]
    async with FakeAnthropicServer(*replies) as server:
        brain = AnthropicBrain("claude-sonnet-4-6", base_url=server.base_url, api_key="k")
        engine = await Engine.open(config(tmp_path), ws, brain)
        await ask(engine, "deploy")
        await engine.close()
    result = next(e for e in engine.events if isinstance(e, ToolResult))
    assert result.is_error and "The skill 'deploy' is applied by the user only" in result.content
    assert not any(isinstance(e, Primed) for e in engine.events)


async def test_the_person_applies_a_skill_like_a_primer(ws: Path, tmp_path: Path) -> None:
    engine = await Engine.open(config(tmp_path), ws, ScriptedBrain())
    names = {entry.file.name: entry for entry in engine.primer_catalog()}
    assert "deploy" in names and "release-notes" in names and "feature" in names
    await run(engine, Prime(primer="deploy"))
    await engine.settled()
    primed = next(e for e in engine.events if isinstance(e, Primed))
    assert (primed.primer, primed.text) == ("deploy", "Ship.")
    await engine.close()


def test_bad_front_matter_is_reported_clearly(ws: Path) -> None:
    broken = ws / ".claude" / "skills" / "broken"
    broken.mkdir()
    (broken / "SKILL.md").write_text("---\nname: broken\ndescription: fine\nallowed-tools: [Read\n---\nBody\n")
    named = ws / ".claude" / "skills" / "badname"
    named.mkdir()
    (named / "SKILL.md").write_text("---\nname: Bad Name\ndescription: x\n---\n")
    flag = ws / ".claude" / "skills" / "flag"
    flag.mkdir()
    (flag / "SKILL.md").write_text("---\ndescription: x\ndisable-model-invocation: sometimes\n---\n")
    entries = {e.name: e for e in skill_catalog(skill_dirs(ws, environ={"HOME": str(ws / "home")}))}
    assert str(entries["broken"].error).startswith(
        f"Skill 'broken' ({broken / 'SKILL.md'}): the front matter is not valid YAML (line "
    )
    assert "'name' must be lowercase letters, digits and hyphens (at most 64), not 'Bad Name'" in str(
        entries["badname"].error
    )
    assert "'disable-model-invocation' must be true or false, not 'sometimes'" in str(entries["flag"].error)
    assert entries["release-notes"].skill is not None
