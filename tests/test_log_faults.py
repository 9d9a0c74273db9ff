"""The log never dies: text it cannot hold, events it cannot write, a full or read-only disk, leftovers."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.faults import read_only_run, with_file_size_limit
from workbench.log.bundle import BundleError, BundleReader, BundleStore, BundleWriter, remove_leftovers
from workbench.log.importers import import_file
from workbench.log.session import Session
from workbench.protocol.events import OpaqueEvent, ToolCall, ToolResult, UserMessage, decode_event, encode_event

NOT_UTF8_NAME = os.fsdecode(b"caf\xe9.txt")  # a Latin-1 file name, as Glob finds it: 'caf\udce9.txt'


async def test_text_utf8_cannot_hold_is_written_as_replacement_characters(tmp_path: Path) -> None:
    writer = BundleWriter(tmp_path / "s", "s", fsync="never")
    await writer.start()
    written = await asyncio.wait_for(writer.append(ToolResult(tool_use_id="t", name="Glob", content=NOT_UTF8_NAME)), 30)
    after = await asyncio.wait_for(writer.append(UserMessage(text="still writing")), 30)
    await writer.close()
    assert written.content == "caf\ufffd.txt"  # what was acknowledged is what the file holds
    contents = await BundleReader(tmp_path / "s" / "events.jsonl").read()
    assert [e.seq for e in contents.events] == [1, 2] and after.seq == 2
    assert contents.events[0].content == "caf\ufffd.txt" and contents.problems == []


async def test_an_event_that_cannot_be_written_fails_its_own_append_only(tmp_path: Path) -> None:
    deep: dict = {}
    inner = deep
    for _ in range(1000):
        inner["a"] = {}
        inner = inner["a"]
    writer = BundleWriter(tmp_path / "s", "s", fsync="never")
    await writer.start()
    await writer.append(UserMessage(text="before"))
    with pytest.raises(BundleError, match="nested"):
        await asyncio.wait_for(writer.append(ToolCall(tool_use_id="t", name="X", input=deep)), 30)
    after = await asyncio.wait_for(writer.append(UserMessage(text="after")), 30)
    await writer.close()
    assert after.seq == 2  # no seq was spent on the refused event: the log has no gap
    contents = await BundleReader(tmp_path / "s" / "events.jsonl").read()
    assert [e.text for e in contents.events] == ["before", "after"]


@pytest.mark.parametrize(
    "line",
    [
        # an escaped lone surrogate, as JSON.stringify writes a file name that is not valid Unicode
        '{"v":1,"seq":1,"ts":"2026-01-01T00:00:00Z","agent":"primary","kind":"user_message","text":"caf\\udce9"}',
        '{"v":1,"seq":1,"ts":"2026-01-01T00:00:00Z","agent":"primary","kind":"hologram","text":"caf\\udce9"}',
    ],
)
async def test_import_of_a_bundle_holding_a_lone_surrogate(tmp_path: Path, line: str) -> None:
    source = tmp_path / "export.jsonl"
    source.write_text(line + "\n")
    store = BundleStore(tmp_path / "store")
    report = await asyncio.wait_for(import_file(store, source), 30)  # it used to hang
    assert report.events == 1 and report.problems == []
    (event,) = (await store.read(report.session_id)).events
    text = event.data["text"] if isinstance(event, OpaqueEvent) else event.text
    assert text == "caf\ufffd"


@pytest.mark.parametrize(
    "ts", ["0001-01-01T00:00:00Z", "0001-01-01T00:30:00+01:00", "0001-01-01T00:00:00", "9999-12-31T23:00:00-05:00"]
)
async def test_import_of_a_bundle_with_a_time_at_the_edge_of_the_calendar(tmp_path: Path, ts: str) -> None:
    source = tmp_path / "export.jsonl"
    source.write_text(json.dumps({"v": 1, "seq": 1, "ts": ts, "kind": "user_message", "text": "hi"}) + "\n")
    store = BundleStore(tmp_path / "store")
    report = await asyncio.wait_for(import_file(store, source), 30)  # it used to hang
    assert report.events == 1, report.problems
    assert store.session_ids() == [report.session_id]
    (event,) = (await store.read(report.session_id)).events
    assert event.ts.tzinfo is not None and event.ts.year in (1, 9999)


def test_times_are_utc_whatever_they_were_given_in() -> None:
    naive = UserMessage(text="x", ts=datetime(2026, 3, 1, 12, 0))
    shifted = UserMessage(text="x", ts=datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1))))
    assert naive.ts == shifted.ts == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert json.loads(encode_event(UserMessage(text="x", ts=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))))))[
        "ts"
    ] == ("0001-01-01T00:00:00.000Z")
    assert decode_event(encode_event(naive)).ts == naive.ts


# ---------------------------------------------------------------- a full disk, for real

_WRITE_UNTIL_FULL = """
import asyncio, sys
from pathlib import Path
from workbench.log.bundle import BundleError, BundleWriter
from workbench.protocol.events import ToolResult, UserMessage

async def main():
    writer = BundleWriter(Path(sys.argv[1]), "s", fsync="always")
    await writer.start()
    acked = 0
    try:
        for n in range(1000):
            await writer.append(ToolResult(tool_use_id=str(n), content="x" * 500))
            acked += 1
    except BundleError as exc:
        print("append failed:", exc)
    try:
        await writer.append(UserMessage(text="later"))
    except BundleError as exc:
        print("later append failed:", exc)
    await writer.close()
    print("closed", acked)

asyncio.run(asyncio.wait_for(main(), 60))
"""


def test_a_full_disk_fails_the_appends_with_a_reason_and_the_writer_closes(tmp_path: Path) -> None:
    done = with_file_size_limit(20_000, [sys.executable, "-c", _WRITE_UNTIL_FULL, str(tmp_path / "s")])
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("append failed: could not write") and "File too large" in lines[0]
    assert lines[1].startswith("later append failed:") and "can no longer be written" in lines[1]
    acked = int(lines[2].removeprefix("closed "))
    assert 0 < acked < 1000
    contents = BundleReader(tmp_path / "s" / "events.jsonl")
    events = asyncio.run(contents.read()).events
    assert [e.seq for e in events] == list(range(1, acked + 1))  # every acknowledged event, and only a torn tail


def test_a_run_on_a_full_disk_ends_with_a_clear_message(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "big.txt").write_text("\n".join(f"line {n} of a file too big for the disk" for n in range(2000)))
    env = _cli_env(tmp_path)
    argv = [sys.executable, "-m", "workbench", "run", "--brain", "scripted", "read big.txt"]
    done = with_file_size_limit(8_000, argv, cwd=workspace, env=env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "File too large" in done.stderr  # what the disk said, in the error that ended the run


# ---------------------------------------------------------------- a read-only store


def _cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    return env | {"WORKBENCH_BUNDLES": str(tmp_path / "bundles"), "XDG_CONFIG_HOME": str(tmp_path / "config")}


@pytest.fixture
def stale_store(tmp_path: Path) -> Path:
    """A store with one session whose meta.json is missing: every reader rebuilds it."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "notes.md").write_text("the lighthouse keeper's notes\n")
    env = _cli_env(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "workbench", "run", "--brain", "scripted", "read notes.md"],
        cwd=workspace,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    for meta in (tmp_path / "bundles").glob("*/meta.json"):
        meta.unlink()
    return tmp_path / "bundles"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["bundles", "ls"], "read notes.md"),
        (["bundles", "search", "lighthouse"], "lighthouse keeper"),
        (["bundles", "export", "2"], "lighthouse keeper"),
    ],
)
def test_a_read_only_store_is_still_read(stale_store: Path, tmp_path: Path, command: list[str], expected: str) -> None:
    done = read_only_run(stale_store, [sys.executable, "-m", "workbench", *command], env=_cli_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout
    assert "Traceback" not in done.stderr


def test_renaming_in_a_read_only_store_says_why_it_cannot(stale_store: Path, tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "workbench", "bundles", "rename", "2", "a new title"]
    done = read_only_run(stale_store, argv, env=_cli_env(tmp_path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "Read-only file system" in done.stderr and "cannot rename" in done.stderr


# ---------------------------------------------------------------- leftovers of killed writers


def test_temporary_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    folder = tmp_path / "s"
    folder.mkdir()
    dead = [folder / f".meta.json.{dead_pid}.tmp", folder / f".meta.json.{dead_pid}.1a2b3c4d.tmp"]
    mine = folder / f".meta.json.{os.getpid()}.5e6f7a8b.tmp"
    for path in [*dead, mine]:
        path.write_text("{")
    assert remove_leftovers(folder) == 2
    assert not any(p.exists() for p in dead) and mine.exists()


_KILLED_MID_META = """
import os, sys
from pathlib import Path
from workbench.log import bundle

def killed(fd, *args):  # the moment between the temporary file and its rename
    os.kill(os.getpid(), 9)

bundle.os.replace = killed
bundle.write_private_file(Path(sys.argv[1]) / "meta.json", "{}")
"""


async def test_a_writer_starting_removes_what_a_killed_one_left(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    killed = subprocess.run([sys.executable, "-c", _KILLED_MID_META, str(folder)], capture_output=True, timeout=60)
    assert killed.returncode == -9
    assert len(list(folder.glob(".meta.json.*.tmp"))) == 1
    writer = BundleWriter(folder, "s")
    await writer.start()
    await writer.append(UserMessage(text="x"))
    await writer.close()
    assert sorted(p.name for p in folder.iterdir()) == ["events.jsonl", "lock", "meta.json"]


async def test_starting_a_session_removes_what_killed_writers_left_in_any_session(tmp_path: Path) -> None:
    store = BundleStore(tmp_path)
    old = await store.create("20260101T000000Z-aaaa")
    killed = subprocess.run([sys.executable, "-c", _KILLED_MID_META, str(store.folder(old))], timeout=60)
    assert killed.returncode == -9 and list(store.folder(old).glob(".meta.json.*.tmp"))
    session = await Session.create(store)
    await session.close()
    assert not list(tmp_path.glob("*/.*.tmp"))


def test_a_failed_summary_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from workbench.log.bundle import write_private_file
        try:
            write_private_file(Path(sys.argv[1]) / "meta.json", "x" * 10_000)
        except OSError as exc:
            print(exc.strerror)
        """
    )
    done = with_file_size_limit(1_000, [sys.executable, "-c", script, str(folder)])
    assert done.stdout.strip() == "File too large"
    assert list(folder.iterdir()) == []
