"""A resumed session whose primary was only primed (its memory files) waits for a prompt, as it did live."""

from __future__ import annotations

from pathlib import Path

from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.engine import Engine
from workbench.protocol.events import AssistantMessage, Primed


async def test_a_primed_primary_does_not_answer_its_memory_on_resume(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "CLAUDE.md").write_text("Say which files you read.")
    config = Config(bundles=tmp_path / "bundles", fsync="never")
    live = await Engine.open(config, workspace, ScriptedBrain())
    await live.settled()
    assert any(isinstance(e, Primed) for e in live.session.events)
    await live.close()
    resumed = await Engine.resume(config, workspace, ScriptedBrain(), live.session.id)
    await resumed.settled()
    await resumed.close()
    assert not any(isinstance(e, AssistantMessage) for e in resumed.session.events)
