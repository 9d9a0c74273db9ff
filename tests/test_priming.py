"""Primers applied through the engine: logged, counted, injected, and carried by spawns."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine_driver import run, spawn
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.context.fold import fold, primer_text
from workbench.engine.engine import Engine
from workbench.protocol.commands import Prime
from workbench.protocol.events import AgentSpawned, Primed


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / ".workbench" / "primers").mkdir(parents=True)
    (ws / "notes.md").write_text("Release on Friday.\n")
    (ws / ".workbench" / "primers" / "release.md").write_text(
        "---\ndescription: Prepare a release\ncheckpoints: [draft, check]\n---\nRelease $ARGUMENTS.\n\n@notes.md\n"
    )
    return ws


async def open_bench(workspace: Path) -> Engine:
    config = Config(bundles=workspace.parent / "bundles", fsync="never")
    return await Engine.open(config, workspace, ScriptedBrain())


async def test_prime_logs_the_resolved_text_and_its_cost_lands_in_the_budget(workspace: Path) -> None:
    bench = await open_bench(workspace)
    before = bench.budget("primary").categories["primers"]
    resolved = await bench.preview_primer("release", "v2.0")
    await run(bench, Prime(primer="release", arguments="v2.0"))
    await bench.settled()
    primed = [e for e in bench.events if isinstance(e, Primed)]
    await bench.close()
    assert len(primed) == 1 and primed[0].primer == "release" and primed[0].arguments == "v2.0"
    assert "Release v2.0." in primed[0].text and "Release on Friday." in primed[0].text
    assert primed[0].sha256 == resolved.sha256
    assert bench.budget("primary").categories["primers"] - before == resolved.tokens == primed[0].tokens
    assert fold(bench.events).messages[0]["content"][0]["text"] == primer_text(primed[0])


async def test_background_agent_spawned_with_a_primer(workspace: Path) -> None:
    bench = await open_bench(workspace)
    child = await spawn(bench, "background", "read notes.md", primer="release", primer_args="v3")
    await bench.wait_all()
    await bench.close()
    spawned = next(e for e in bench.session.events_of(child.id) if isinstance(e, AgentSpawned))
    primed = [e for e in bench.session.events_of(child.id) if isinstance(e, Primed)]
    assert spawned.primer == "release" and "Release v3." in primed[0].text
    assert child.state == "done"


async def test_a_broken_primer_injects_nothing(workspace: Path) -> None:
    (workspace / ".workbench" / "primers" / "bad.md").write_text("Read @$0 please\n")
    bench = await open_bench(workspace)
    refused = await bench.submit(Prime(primer="bad"))
    assert not refused.ok and "no argument was given" in refused.message
    assert not (await bench.submit(Prime(primer="no-such-primer"))).ok
    await bench.close()
    assert not any(isinstance(e, Primed) for e in bench.events)
