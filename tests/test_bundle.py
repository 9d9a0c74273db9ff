"""Bundles: writing, tolerant reading, the store."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workbench.engine.context.fold import fold
from workbench.log.bundle import (
    AmbiguousSession,
    BundleError,
    BundleReader,
    BundleStore,
    BundleWriter,
    SessionNotFound,
    default_store_root,
    new_session_id,
)
from workbench.protocol.events import OpaqueEvent, SessionStarted, Status, ToolResult, UserMessage


def fixed_clock() -> datetime:
    return datetime(2026, 11, 21, 15, 30, 2, 123000, tzinfo=UTC)


async def write_events(folder: Path, *events, fsync="never") -> BundleWriter:
    writer = BundleWriter(folder, "s1", fsync=fsync, clock=fixed_clock)
    await writer.start()
    for event in events:
        await writer.append(event)
    await writer.close()
    return writer


async def test_appends_are_numbered_stamped_and_read_back(tmp_path: Path) -> None:
    seen = []
    writer = BundleWriter(tmp_path / "s1", "s1", fsync="always", clock=fixed_clock, on_written=seen.append)
    await writer.start()
    first = await writer.append(UserMessage(text="hello", agent="primary"))
    second = await writer.append(Status(state="thinking", agent="primary"))
    await writer.close()
    assert (first.seq, second.seq) == (1, 2)
    assert [e.seq for e in seen] == [1, 2]
    line = (tmp_path / "s1" / "events.jsonl").read_text().splitlines()[0]
    assert json.loads(line)["ts"] == "2026-11-21T15:30:02.123Z"
    contents = await BundleReader(tmp_path / "s1" / "events.jsonl").read()
    assert [e.kind for e in contents.events] == ["user_message", "status"]
    assert contents.events[0].text == "hello"
    assert contents.problems == []


async def test_files_are_private(tmp_path: Path) -> None:
    await write_events(tmp_path / "s1", UserMessage(text="x"))
    assert stat.S_IMODE(os.stat(tmp_path / "s1").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "s1" / "events.jsonl").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "s1" / "meta.json").st_mode) == 0o600


@pytest.mark.parametrize(
    "secret",
    [
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
    ],
)
async def test_secrets_are_redacted_before_writing(tmp_path: Path, secret: str) -> None:
    await write_events(tmp_path / "s1", ToolResult(tool_use_id="t", content=f"env says {secret} ok"))
    text = (tmp_path / "s1" / "events.jsonl").read_text()
    assert "[REDACTED]" in text
    assert secret.split()[-1] not in text


async def test_api_key_value_from_the_environment_is_redacted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "plainkeyvalue-12345")
    await write_events(tmp_path / "s1", UserMessage(text="my key is plainkeyvalue-12345"))
    assert "plainkeyvalue-12345" not in (tmp_path / "s1" / "events.jsonl").read_text()


async def test_reader_reports_torn_tail_corrupt_middle_and_blank_lines(tmp_path: Path) -> None:
    await write_events(tmp_path / "s1", UserMessage(text="one"), UserMessage(text="two"), UserMessage(text="three"))
    path = tmp_path / "s1" / "events.jsonl"
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n{not json\n\n" + lines[1] + "\n" + lines[2][:25])
    contents = await BundleReader(path).read()
    assert [e.text for e in contents.events] == ["one", "two"]
    reasons = {p.line: p.reason for p in contents.problems}
    assert set(reasons) == {2, 3, 5}
    assert "not valid JSON" in reasons[2]
    assert reasons[3] == "blank line"
    assert "torn last line" in reasons[5]


async def test_unknown_kind_and_newer_version_are_kept_opaque(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"kind":"hologram","v":1,"seq":1,"agent":"primary","beam":3}\n'
        '{"kind":"user_message","v":7,"seq":2,"text":"from the future","mood":"x"}\n'
        '{"kind":"user_message","v":1,"seq":3,"text":"today"}\n'
    )
    contents = await BundleReader(path).read()
    assert contents.problems == []
    opaque = contents.events[:2]
    assert all(isinstance(e, OpaqueEvent) for e in opaque)
    assert opaque[0].kind == "hologram" and opaque[0].data["beam"] == 3
    assert opaque[1].v == 7 and opaque[1].data["mood"] == "x"
    assert contents.events[2].text == "today"


async def test_invalid_known_event_is_reported_with_its_field(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"kind":"user_message","v":1,"seq":1}\n')
    contents = await BundleReader(path).read()
    assert contents.events == []
    assert "user_message" in contents.problems[0].reason and "text" in contents.problems[0].reason


async def test_writer_reopening_a_torn_log_appends_on_a_clean_line(tmp_path: Path) -> None:
    await write_events(tmp_path / "s1", UserMessage(text="kept"))
    path = tmp_path / "s1" / "events.jsonl"
    with path.open("a") as f:
        f.write('{"kind":"user_mess')
    writer = BundleWriter(tmp_path / "s1", "s1", fsync="never")
    writer.last_seq = 1
    await writer.start()
    await writer.append(UserMessage(text="after"))
    await writer.close()
    contents = await BundleReader(path).read()
    assert [e.text for e in contents.events] == ["kept", "after"]
    assert contents.problems == []


def test_session_ids_sort_by_time() -> None:
    early = new_session_id(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "aaaa")
    late = new_session_id(datetime(2026, 11, 21, 15, 30, 2, tzinfo=UTC), "0000")
    assert early == "20260102T030405Z-aaaa"
    assert sorted([late, early]) == [early, late]


def test_store_location_follows_env(tmp_path: Path) -> None:
    assert default_store_root({"WORKBENCH_BUNDLES": str(tmp_path)}) == tmp_path
    assert default_store_root({"XDG_DATA_HOME": "/data"}) == Path("/data/workbench/bundles")


async def test_store_lists_newest_first_and_resolves_prefixes(tmp_path: Path) -> None:
    store = BundleStore(tmp_path)
    for sid, title in [
        ("20260101T000000Z-aaaa", "old"),
        ("20261121T000000Z-bbbb", "new"),
        ("20261121T000000Z-bbcc", "newer"),
    ]:
        await store.create(sid)
        await write_events(store.folder(sid), SessionStarted(cwd="/w"), UserMessage(text=title))
    listed = await store.list()
    assert [m.title for m in listed] == ["newer", "new", "old"]
    assert store.resolve("2026010") == "20260101T000000Z-aaaa"
    with pytest.raises(AmbiguousSession, match="matches 2 sessions"):
        store.resolve("20261121")
    with pytest.raises(SessionNotFound):
        store.resolve("1999")


async def test_meta_is_rebuilt_when_missing_or_stale(tmp_path: Path) -> None:
    store = BundleStore(tmp_path)
    sid = await store.create("20261121T000000Z-aaaa")
    await write_events(store.folder(sid), UserMessage(text="first prompt"))
    (store.folder(sid) / "meta.json").unlink()
    assert (await store.meta(sid)).title == "first prompt"
    with (store.folder(sid) / "events.jsonl").open("a") as f:
        f.write(UserMessage(text="x", seq=2).model_dump_json() + "\n")
    meta = await store.meta(sid)
    assert meta.events == 2 and meta.last_seq == 2


async def test_a_shared_store_folder_is_never_chmodded_and_sessions_go_to_a_private_subfolder(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    store = BundleStore(shared)
    session_id = await store.create()
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o1777
    assert store.root == shared / f"workbench-{os.getuid()}"
    assert stat.S_IMODE(os.stat(store.root).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(store.folder(session_id)).st_mode) == 0o700
    # the same store named again finds the same sessions
    assert BundleStore(shared).root == store.root


async def test_a_shared_store_whose_private_subfolder_is_not_private_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    planted = shared / f"workbench-{os.getuid()}"
    planted.mkdir()
    os.chmod(planted, 0o777)  # someone prepared it for us
    with pytest.raises(BundleError, match="is not a private folder of yours"):
        BundleStore(shared)


async def test_an_existing_store_folder_of_the_user_keeps_its_mode(tmp_path: Path) -> None:
    own = tmp_path / "mine"
    own.mkdir()
    os.chmod(own, 0o750)
    store = BundleStore(own)
    await store.create()
    assert store.root == own and stat.S_IMODE(os.stat(own).st_mode) == 0o750


GOOD = b'{"v":1,"seq":1,"agent":"primary","kind":"user_message","text":"kept"}\n'
BAD_LINES = {
    "a torn tail cut inside a multi-byte character": '{"v":1,"seq":2,"kind":"user_message","text":"caf\u00e9'.encode()[
        :-1
    ],
    "bytes that are not UTF-8": b'{"v":1,"seq":2,"kind":"user_message","text":"caf\xe9"}\n',
    "an integer of 5,000 digits": b'{"v":1,"seq":2,"kind":"usage","input_tokens":' + b"9" * 5000 + b"}\n",
    "an unknown kind with an integer of 5,000 digits": b'{"v":1,"seq":2,"kind":"x","n":' + b"9" * 5000 + b"}\n",
    "100,000 nested brackets": b'{"v":1,"seq":2,"kind":"x","n":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
    "100,000 opening brackets": b"[" * 100_000 + b"\n",
    "remounted messages without content": b'{"v":1,"seq":2,"agent":"primary","kind":"remounted",'
    b'"source_session":"s","up_to_seq":1,"messages":[{"role":"user"}]}\n',
    "remounted messages that are not objects": b'{"v":1,"seq":2,"agent":"primary","kind":"remounted",'
    b'"source_session":"s","up_to_seq":1,"messages":["hi", 3]}\n',
    "a remounted tool call without an id": b'{"v":1,"seq":2,"agent":"primary","kind":"remounted",'
    b'"source_session":"s","up_to_seq":1,"messages":[{"role":"assistant","content":[{"type":"tool_use"}]}]}\n',
}


@pytest.mark.parametrize("bad", BAD_LINES.values(), ids=BAD_LINES.keys())
async def test_each_malformed_line_is_reported_and_skipped(tmp_path: Path, bad: bytes) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(GOOD + bad)
    contents = await BundleReader(path).read()
    assert [e.text for e in contents.events] == ["kept"]
    assert [p.line for p in contents.problems] == [2]
    assert fold(contents.events).messages == [{"role": "user", "content": [{"type": "text", "text": "kept"}]}]


async def test_a_remount_carrying_a_string_content_folds_as_a_text_block(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(
        b'{"v":1,"seq":1,"agent":"primary","kind":"remounted","source_session":"s","up_to_seq":1,'
        b'"messages":[{"role":"user","content":"carried over"}]}\n'
    )
    contents = await BundleReader(path).read()
    assert fold(contents.events, "primary").messages == [
        {"role": "user", "content": [{"type": "text", "text": "carried over"}]}
    ]
