"""The sample sessions in bundles/samples: made by the app itself, they load, fold and remount."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.messages_api import assert_valid_messages
from workbench.engine.context.fold import fold
from workbench.log.bundle import BundleStore
from workbench.log.interruption import interruption
from workbench.log.meta import SessionMeta
from workbench.protocol.events import AgentSpawned, Remounted

BUNDLES = Path(__file__).resolve().parent.parent / "bundles"
SAMPLES = BundleStore(BUNDLES / "samples")


def generator():
    spec = importlib.util.spec_from_file_location("generate_samples", BUNDLES / "generate_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("session_id", SAMPLES.session_ids())
async def test_each_sample_loads_cleanly_at_rest_with_its_summary(session_id: str) -> None:
    contents = await SAMPLES.read(session_id)
    assert contents.problems == []
    for agent in (e.agent for e in contents.events if isinstance(e, AgentSpawned)):
        context = fold(contents.events, agent=agent)
        assert context.system and context.messages
    assert interruption(contents.events, contents.problems) is None
    meta = SessionMeta.model_validate_json((SAMPLES.folder(session_id) / "meta.json").read_text())
    assert meta == SessionMeta.rebuild(session_id, contents.events, contents.size)


# A fresh ScriptedBrain numbers its tool ids from 1 again, so the remounted sample repeats the
# source's ids: the lead has the fix for brains/scripted.py (regenerate the samples after it).


@pytest.mark.parametrize(
    "session_id",
    SAMPLES.session_ids(),
)
async def test_every_agent_of_each_sample_folds_to_messages_the_api_accepts(session_id: str) -> None:
    events = (await SAMPLES.read(session_id)).events
    for agent in (e.agent for e in events if isinstance(e, AgentSpawned)):
        assert_valid_messages(fold(events, agent=agent).messages)


async def test_the_samples_cover_delegation_three_levels_deep_and_a_remount() -> None:
    events = {i: (await SAMPLES.read(i)).events for i in SAMPLES.session_ids()}
    levels = {e.level for evs in events.values() for e in evs if isinstance(e, AgentSpawned)}
    assert levels == {1, 2, 3}
    [(session_id, mounted)] = [(i, e) for i, evs in events.items() for e in evs if isinstance(e, Remounted)]
    source = [e for e in events[mounted.source_session] if e.seq <= mounted.up_to_seq]
    assert mounted.messages == fold(source, agent=mounted.source_agent).messages
    assert fold(events[session_id]).messages[: len(mounted.messages)] == mounted.messages


async def test_the_generator_writes_the_same_bytes_every_time(tmp_path: Path) -> None:
    make = generator()
    first = await make.generate(tmp_path / "a")
    second = await make.generate(tmp_path / "b")
    assert first == second == sorted(SAMPLES.session_ids())
    for session_id in first:
        for name in ("events.jsonl", "meta.json"):
            assert (tmp_path / "a" / session_id / name).read_bytes() == (
                tmp_path / "b" / session_id / name
            ).read_bytes()
