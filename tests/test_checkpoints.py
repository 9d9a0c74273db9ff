"""Checkpoint tracking: a pure function of the log, through the real agent loop and a bundle round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.engine_driver import ask
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.context.fold import fold
from workbench.engine.context.tokens import default_counter
from workbench.engine.engine import Engine
from workbench.engine.policy.permissions import PermissionPolicy
from workbench.engine.priming.checkpoints import announced, checkpoint_instructions, checkpoint_progress, checkpoints_of
from workbench.engine.priming.primers import parse_primer, resolve
from workbench.log.bundle import BundleStore
from workbench.protocol.content import TextBlock
from workbench.protocol.events import AgentFinished, AgentSpawned, AssistantMessage, Event, Primed, UserMessage

STEPS = ["reproduce", "diagnose", "fix", "fix tests", "validate"]


def primed(seq: int, steps: list[str], agent: str = "a") -> Primed:
    return Primed(seq=seq, agent=agent, primer="bug", text=f"Body\n\n{checkpoint_instructions(steps)}")


def said(seq: int, text: str, agent: str = "a") -> AssistantMessage:
    return AssistantMessage(seq=seq, agent=agent, content=[TextBlock(text=text)])


def statuses(events: list[Event], agent: str = "a") -> dict[str, str]:
    return {state.name: state.status for state in checkpoint_progress(events, agent)}


def test_the_instructions_carry_the_steps_back() -> None:
    text = checkpoint_instructions(STEPS)
    assert checkpoints_of(f"anything\n{text}") == STEPS
    assert "`Checkpoint: reproduce`" in text
    assert checkpoints_of("no block here") == []
    # the last block wins, so a primer quoting another's block does not confuse it
    assert checkpoints_of(f"{checkpoint_instructions(['x', 'y'])}\n{text}") == STEPS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Checkpoint: reproduce", [0]),
        ("checkpoint: DIAGNOSE — the parser drops the last token", [1]),
        ("**Checkpoint: fix**", [2]),
        ("### Checkpoint 4: fix tests", [3]),
        ("- Checkpoint – validate ✓", [4]),
        ("Checkpoint: `fix tests` now", [3]),
        ("Checkpoint: fixture", []),  # a prefix of a word is not the step
        ("Checkpoint: deploy", []),  # not one of the steps
        ("I saved a checkpoint: reproduce it later", []),  # not on a line of its own
        ("Checkpoint: reproduce\nthen\nCheckpoint: diagnose", [0, 1]),
    ],
)
def test_announcements_are_read_from_lines_of_their_own(text: str, expected: list[int]) -> None:
    assert announced(text, STEPS) == expected


def test_progress_follows_the_announcements() -> None:
    events: list[Event] = [AgentSpawned(seq=1, agent="a"), primed(2, STEPS)]
    assert set(statuses(events).values()) == {"pending"}
    events.append(said(3, "Checkpoint: reproduce\nRunning the test."))
    assert statuses(events)["reproduce"] == "active"
    events.append(said(4, "Checkpoint: fix"))  # diagnose never announced
    assert statuses(events) == {
        "reproduce": "done",
        "diagnose": "skipped",
        "fix": "active",
        "fix tests": "pending",
        "validate": "pending",
    }
    progress = checkpoint_progress(events, "a")
    assert progress[2].seq == 4 and progress[2].ts == events[-1].ts and progress[2].index == 2


def test_going_back_reopens_the_later_steps() -> None:
    events: list[Event] = [primed(1, STEPS), said(2, "Checkpoint: reproduce"), said(3, "Checkpoint: diagnose")]
    events += [said(4, "Checkpoint: fix"), said(5, "Checkpoint: validate"), said(6, "Checkpoint: diagnose")]
    assert statuses(events) == {
        "reproduce": "done",
        "diagnose": "active",
        "fix": "pending",
        "fix tests": "pending",
        "validate": "pending",
    }
    assert checkpoint_progress(events, "a")[1].seq == 6


def test_finishing_completes_the_active_step_but_failing_does_not() -> None:
    base: list[Event] = [primed(1, STEPS), said(2, "Checkpoint: validate")]
    assert statuses([*base, AgentFinished(seq=3, agent="a", state="done")])["validate"] == "done"
    assert statuses([*base, AgentFinished(seq=3, agent="a", state="failed")])["validate"] == "active"


def test_only_the_agents_own_messages_after_its_primer_count() -> None:
    events: list[Event] = [
        said(1, "Checkpoint: reproduce"),  # before the primer
        primed(2, STEPS),
        said(3, "Checkpoint: diagnose", agent="b"),  # another agent
        UserMessage(seq=4, agent="a", text="Checkpoint: fix"),  # the user, not the agent
    ]
    assert set(statuses(events).values()) == {"pending"}
    assert checkpoint_progress(events, "b") == []


def test_a_later_checkpointed_primer_starts_over_and_a_plain_one_does_not() -> None:
    events: list[Event] = [primed(1, STEPS), said(2, "Checkpoint: fix")]
    plain = Primed(seq=3, agent="a", primer="notes", text="just context")
    assert statuses([*events, plain])["fix"] == "active"
    assert statuses([*events, plain, primed(4, ["read", "report"])]) == {"read": "pending", "report": "pending"}


async def test_progress_through_the_real_loop_and_a_bundle_round_trip(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "README.md").write_text("# Demo\n")
    script = tmp_path / "script.yaml"
    turns = [
        {
            "text": "Checkpoint: reproduce\nLet me look.",
            "tool_use": {"name": "Read", "input": {"file_path": "README.md"}},
        },
        {"text": "**Checkpoint: diagnose** the readme is short."},
        {"text": "Checkpoint: fix\nDone.\nCheckpoint: validate"},
    ]
    script.write_text(yaml.safe_dump(turns))
    config = Config(bundles=tmp_path / "bundles", fsync="never")
    bench = await Engine.open(config, workspace, ScriptedBrain(script))
    primer = parse_primer(
        "---\ncheckpoints: [reproduce, diagnose, fix, validate]\n---\nFix $ARGUMENTS",
        name="bug-smash",
        path=tmp_path / "bug-smash.md",
        origin="project",
    )
    resolved = await resolve(primer, "README.md", workspace, PermissionPolicy(workspace=workspace), default_counter())
    await bench.primary.append(resolved.event())
    await ask(bench, "go")
    await ask(bench, "carry on")
    await bench.close()
    # the primer reached the model as the first user text, and the gauge counts what the preview said
    first = fold(bench.events, agent="primary").messages[0]["content"]
    assert first[0]["text"].startswith('<primer name="bug-smash">\nFix README.md') and first[1]["text"] == "go"
    assert bench.budget("primary").categories["primers"] == resolved.tokens
    expected = {"reproduce": "done", "diagnose": "done", "fix": "done", "validate": "active"}
    assert statuses(bench.events, "primary") == expected
    reread = (await BundleStore(tmp_path / "bundles").read(bench.session.id)).events
    assert statuses(reread, "primary") == expected
