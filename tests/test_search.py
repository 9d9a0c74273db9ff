"""The catalog (list, filter, rename, delete) and full-text search across sessions."""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.bundle_fixtures import START, make_session, store_of, ticking_clock
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.frontends.cli.bundles import rename_command, rm_command, search_command
from workbench.log.bundle import BundleError, BundleWriter, SessionNotFound
from workbench.log.catalog import SessionFilter, delete, list_sessions, rename
from workbench.log.search import hits_in, scan, search
from workbench.log.session_lock import SessionLock, SessionLocked
from workbench.protocol.events import ToolResult, UserMessage, encode_event

DAY = timedelta(days=1)


@pytest.fixture
async def three(tmp_path: Path) -> list[str]:
    """Three sessions a day apart, on two models; oldest first."""
    specs = [
        (["read README.md"], "scripted-small"),
        (["read NOTES.md", 'say "quoted words" and Grüße'], "scripted-large"),
        (["delegate: read NOTES.md"], "scripted-large"),
    ]
    ids = []
    for day, (prompts, model) in enumerate(specs):
        ids.append(
            await make_session(
                tmp_path,
                prompts,
                brain=ScriptedBrain(model=model),
                clock=ticking_clock(START + day * DAY),
                session_id=f"2026030{day + 4}T050607Z-000{day}",
            )
        )
    return ids


async def hits_of(tmp_path: Path, query: str, **kwargs):
    return [found async for found in search(store_of(tmp_path), query, **kwargs)]


# ---------------------------------------------------------------- listing


async def test_listing_is_newest_first_and_filters_by_date_and_model(tmp_path: Path, three: list[str]) -> None:
    store = store_of(tmp_path)
    assert [e.meta.id for e in await list_sessions(store)] == three[::-1]
    day2 = START + DAY
    assert [e.meta.id for e in await list_sessions(store, SessionFilter(since=day2))] == [three[2], three[1]]
    assert [e.meta.id for e in await list_sessions(store, SessionFilter(until=day2))] == [three[0]]
    assert [e.meta.id for e in await list_sessions(store, SessionFilter(model="LARGE", until=day2 + DAY))] == [three[1]]
    assert all(e.holder is None for e in await list_sessions(store))


async def test_listing_rebuilds_a_stale_meta_and_shows_who_holds_a_live_session(tmp_path: Path, three) -> None:
    store = store_of(tmp_path)
    (store.folder(three[0]) / "meta.json").unlink()
    with SessionLock(store.folder(three[1])):
        entries = {e.meta.id: e for e in await list_sessions(store)}
    assert entries[three[0]].meta.title == "read README.md"
    assert entries[three[1]].holder is not None and entries[three[1]].holder.pid == os.getpid()


async def test_a_title_set_by_the_user_survives_a_meta_rebuild(tmp_path: Path, three: list[str]) -> None:
    store = store_of(tmp_path)
    assert await rename(store, three[0], "  Reading\nthe   README ") == "Reading the README"
    (store.folder(three[0]) / "meta.json").unlink()
    titles = {e.meta.id: e.meta.title for e in await list_sessions(store)}
    assert titles[three[0]] == "Reading the README"
    assert await rename(store, three[0], "") == "read README.md"
    assert {e.meta.id: e.meta.title for e in await list_sessions(store)}[three[0]] == "read README.md"


async def test_delete_removes_only_that_session(tmp_path: Path, three: list[str]) -> None:
    store = store_of(tmp_path)
    removed = await delete(store, three[1])
    assert not removed.exists()
    assert sorted(store.session_ids()) == sorted([three[0], three[2]])
    with pytest.raises(SessionNotFound):
        await delete(store, three[1])


@pytest.mark.parametrize("bad", ["..", ".", "", "../bundles", "/etc", "a/b", "x\0y"])
async def test_delete_refuses_anything_that_is_not_a_session_of_the_store(tmp_path: Path, three, bad: str) -> None:
    with pytest.raises(BundleError):
        await delete(store_of(tmp_path), bad)
    assert len(store_of(tmp_path).session_ids()) == 3


async def test_delete_refuses_a_symlink_out_of_the_store_and_a_live_session(tmp_path: Path, three) -> None:
    store = store_of(tmp_path)
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "events.jsonl").write_text("")
    (store.root / "20990101T000000Z-link").symlink_to(outside)
    with pytest.raises(BundleError, match="not a session folder"):
        await delete(store, "20990101T000000Z-link")
    assert (outside / "events.jsonl").exists()
    with SessionLock(store.folder(three[0])):
        with pytest.raises(SessionLocked, match=f"process {os.getpid()}"):
            await delete(store, three[0])
    assert store.folder(three[0]).exists()


# ---------------------------------------------------------------- search


async def test_search_finds_messages_tool_calls_and_results_with_context(tmp_path: Path, three) -> None:
    found = await hits_of(tmp_path, "ZEBRA")
    assert [s.meta.id for s in found] == [three[2], three[1]]  # newest first; the README session has none
    kinds = {h.kind for s in found for h in s.hits}
    assert {"tool_result", "assistant_message"} <= kinds
    result = next(h for h in found[1].hits if h.kind == "tool_result")
    assert result.session == three[1] and result.agent == "primary" and result.seq > 0
    assert "Remember the zebra migration." in result.line
    calls = await hits_of(tmp_path, "NOTES.md")
    assert any(h.kind == "tool_call" and h.line == "file_path: NOTES.md" for s in calls for h in s.hits)
    assert any(h.kind == "user_message" for s in calls for h in s.hits)


async def test_search_finds_hits_in_child_agents(tmp_path: Path, three) -> None:
    found = await hits_of(tmp_path, "zebra")
    delegated = next(s for s in found if s.meta.id == three[2])
    assert any(h.agent.startswith("agent-") for h in delegated.hits)


async def test_search_handles_quotes_and_non_ascii(tmp_path: Path, three: list[str]) -> None:
    quoted = await hits_of(tmp_path, '"quoted words"')
    assert [s.meta.id for s in quoted] == [three[1]]
    assert quoted[0].hits[0].kind == "user_message"
    assert [s.meta.id for s in await hits_of(tmp_path, "grüße")] == [three[1]]
    assert await hits_of(tmp_path, "no such words anywhere") == []
    assert await hits_of(tmp_path, "   ") == []


async def test_search_filters_by_date_and_model(tmp_path: Path, three: list[str]) -> None:
    assert [s.meta.id for s in await hits_of(tmp_path, "zebra", where=SessionFilter(until=START + 2 * DAY))] == [
        three[1]
    ]
    assert await hits_of(tmp_path, "zebra", where=SessionFilter(model="small")) == []


async def test_context_lines_caps_and_corrupt_lines(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    writer = BundleWriter(folder, "s", fsync="never")
    await writer.start()
    await writer.append(UserMessage(text="alpha\nbeta needle\ngamma", agent="primary"))
    for i in range(8):
        await writer.append(ToolResult(tool_use_id=f"t{i}", name="Read", content=f"line {i} needle", agent="agent-1"))
    await writer.close()
    data = (folder / "events.jsonl").read_bytes() + b'{"kind":"user_message","text":"torn needle'
    hits, total = scan(data, "needle", "s", context=1)
    assert total == 9
    assert len(hits) == 9
    assert (hits[0].before, hits[0].line, hits[0].after) == (["alpha"], "beta needle", ["gamma"])
    assert hits[1].agent == "agent-1" and hits[1].kind == "tool_result"
    long, _ = scan(b'{"kind":"user_message","v":1,"seq":1,"text":"' + b"x" * 1000 + b' needle"}\n', "needle", "s")
    assert len(long[0].line) < 260 and long[0].line.endswith("needle") and long[0].line.startswith("…")


async def test_hits_per_session_are_capped_but_counted(tmp_path: Path) -> None:
    store = store_of(tmp_path)
    session = await store.create("20260101T000000Z-many")
    writer = BundleWriter(store.folder(session), session, fsync="never", clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    await writer.start()
    for i in range(30):
        await writer.append(UserMessage(text=f"needle {i}", agent="primary"))
    await writer.close()
    [found] = await hits_of(tmp_path, "needle", per_session=5)
    assert len(found.hits) == 5 and found.total == 30


# ---------------------------------------------------------------- the commands


async def test_search_rename_and_rm_commands(tmp_path: Path, three: list[str]) -> None:
    config = Config(bundles=tmp_path / "bundles")
    out, err = io.StringIO(), io.StringIO()
    assert await search_command(config, "zebra", model="large", until=START + DAY * 3, out=out, err=err) == 0
    text = out.getvalue()
    assert text.index(three[2]) < text.index(three[1]) and three[0] not in text
    assert "> Remember the zebra migration." in text and "· tool_result" in text
    await search_command(config, "absent words", out=out, err=err)
    assert "no session mentions 'absent words'" in err.getvalue()

    assert await rename_command(config, "2026030", "My title", out=out, err=err) == 1  # ambiguous prefix
    assert "matches 3 sessions" in err.getvalue()
    assert await rename_command(config, three[0], "My title", out=out, err=err) == 0
    assert out.getvalue().endswith(f"{three[0]}  My title\n")

    assert await rm_command(config, three[0], out=out, err=err) == 0
    assert f"deleted {three[0]}" in out.getvalue()
    assert not (tmp_path / "bundles" / three[0]).exists()
    with SessionLock(tmp_path / "bundles" / three[1]):
        assert await rm_command(config, three[1], out=out, err=err) == 1
    assert "can only be read" in err.getvalue() and (tmp_path / "bundles" / three[1]).exists()


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1), st.data())
def test_the_byte_prefilter_never_hides_a_match(text: str, data) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    flips = data.draw(st.lists(st.booleans(), min_size=end - start, max_size=end - start))
    query = "".join(c.swapcase() if flip else c for c, flip in zip(text[start:end], flips))
    event = UserMessage(text=text, seq=1, agent="primary")
    line = (encode_event(event) + "\n").encode()
    _, expected = hits_in(event, query, "s")
    _, found = scan(line, query, "s")
    assert found == expected
