"""Rewind of files: every change recorded as blobs, and the files put back exactly as they were at any seq."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.engine_driver import ask, run
from tests.git_repos import call, make_repo, script, tree_bytes
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config, PermissionsConfig
from workbench.engine.engine import Engine
from workbench.engine.remount import remount
from workbench.engine.workspaces.rewind import check, files_at, restore
from workbench.log.blobs import BLOBS_FILE, HEADER, BlobError, BlobStore
from workbench.protocol.commands import Merge, RestoreFiles
from workbench.protocol.events import FilesChanged, FilesRestored, Primed, ToolResult, WorktreeCreated

STEPS = [
    call("Write", file_path="notes/a.txt", content="first\n"),
    call("Edit", file_path="notes/a.txt", old_string="first", new_string="second"),
    call("Bash", command="printf '\\000\\001\\377' > blob.bin"),
    call("Bash", command="printf '\\002' >> blob.bin && printf 'keep\\n' > kept.txt"),
    call("Write", file_path="gone.txt", content="soon gone\n"),
    call("Bash", command="rm gone.txt && rm -f old.txt"),
    call("Edit", file_path="notes/a.txt", old_string="second", new_string="third"),
    "all done",
]


def config_for(tmp_path: Path) -> Config:
    return Config(bundles=tmp_path / "bundles", fsync="never", permissions=PermissionsConfig(mode="bypass"))


async def record_session(tmp_path: Path, folder: Path) -> tuple[Engine, dict[int, dict[str, bytes]]]:
    """Run the steps; the folder's bytes after each tool result, by the result's seq."""
    engine = await Engine.open(config_for(tmp_path), folder, ScriptedBrain(script(tmp_path / "steps.yaml", STEPS)))
    states: dict[int, dict[str, bytes]] = {}
    engine.subscribe(lambda e: states.__setitem__(e.seq, tree_bytes(folder)) if isinstance(e, ToolResult) else None)
    await ask(engine, "do the steps")
    await engine.close()
    return engine, states


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    plain = tmp_path / "work"
    plain.mkdir()
    (plain / "old.txt").write_text("there before\n")
    return plain


async def test_rewind_restores_exactly_the_bytes_at_each_seq(tmp_path: Path, folder: Path) -> None:
    engine, states = await record_session(tmp_path, folder)
    events = engine.session.events
    blobs = BlobStore(engine.session.folder)
    start = {"old.txt": b"there before\n"}
    points = [(1, start), *sorted(states.items())]
    for seq, wanted in points:
        copy = tmp_path / f"copy-{seq}"
        shutil.copytree(folder, copy)
        files = files_at(events, "primary", seq)
        _, skipped = restore(check(files, copy), copy, blobs)
        # old.txt was deleted by a command before anything kept its bytes: it is left as it is, and said so
        assert set(skipped) <= {"old.txt"}
        got = {path: data for path, data in tree_bytes(copy).items() if path != "old.txt"}
        assert got == {path: data for path, data in wanted.items() if path != "old.txt"}, seq
    assert tree_bytes(folder)["blob.bin"] == b"\x00\x01\xff\x02"


async def test_a_file_changed_since_is_only_overwritten_when_asked(tmp_path: Path, folder: Path) -> None:
    engine, states = await record_session(tmp_path, folder)
    first_seq = min(states)
    (folder / "notes" / "a.txt").write_text("the user's own edit\n")
    files = files_at(engine.session.events, "primary", first_seq)
    checks = {c.file.path: c for c in check(files, folder)}
    assert checks["notes/a.txt"].status == "changed since"
    restored, skipped = restore(list(checks.values()), folder, BlobStore(engine.session.folder))
    assert "notes/a.txt" in skipped and (folder / "notes" / "a.txt").read_text() == "the user's own edit\n"
    restore(check(files, folder, force=True), folder, BlobStore(engine.session.folder))
    assert (folder / "notes" / "a.txt").read_text() == "first\n"


async def test_binary_created_and_deleted_files_are_recorded(tmp_path: Path, folder: Path) -> None:
    engine, _ = await record_session(tmp_path, folder)
    changes = [c for e in engine.session.events if isinstance(e, FilesChanged) for c in e.changes]
    by_path: dict[str, list] = {}
    for change in changes:
        by_path.setdefault(change.path, []).append(change)
    assert by_path["blob.bin"][0].before is None and by_path["blob.bin"][0].binary
    assert by_path["blob.bin"][1].before == by_path["blob.bin"][0].after  # its old bytes were kept
    assert by_path["gone.txt"][-1].after is None
    assert not by_path["old.txt"][0].before_known  # deleted by a command before anything kept it
    assert (by_path["notes/a.txt"][-1].added, by_path["notes/a.txt"][-1].removed) == (1, 0)  # net, against none


async def test_remount_with_files_into_a_fresh_worktree_and_into_the_folder(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project", {"app.py": "v0\n"})
    turns = [
        call("Write", file_path="app.py", content="v1\n"),
        call("Write", file_path="app.py", content="v2\n"),
        call("Write", file_path="extra.txt", content="later\n"),
        "done",
    ]
    config = config_for(tmp_path)
    source = await Engine.open(config, repo, ScriptedBrain(script(tmp_path / "s.yaml", turns)))
    await ask(source, "write")
    await source.close()
    first = next(e for e in source.session.events if isinstance(e, FilesChanged))
    assert (repo / "app.py").read_text() == "v2\n"

    plan = await remount(source.session.store, source.session.id, up_to_seq=first.seq)
    command = RestoreFiles(source_session=source.session.id, up_to_seq=first.seq)
    # forked mid-call, the primary answers at once: the files are back before it takes that turn
    fork = await Engine.open(config, repo, ScriptedBrain(), remount=plan.event, restore=command)
    await fork.settled()
    created = next(e for e in fork.session.events_of("primary") if isinstance(e, WorktreeCreated))
    restored = next(e for e in fork.session.events_of("primary") if isinstance(e, FilesRestored))
    worktree = Path(created.workspace)
    assert (worktree / "app.py").read_text() == "v1\n" and not (worktree / "extra.txt").exists()
    assert sorted(restored.files) == ["app.py", "extra.txt"]
    assert (repo / "app.py").read_text() == "v2\n"  # nothing of the user's was touched
    assert fork.primary.workspace == worktree  # the agent works on the files as they were
    note = next(e for e in fork.session.events_of("primary") if isinstance(e, Primed) and e.primer == "workspace")
    assert str(worktree) in note.text
    again = await fork.submit(command)
    assert not again.ok and "worktree already" in again.message
    await run(fork, Merge(agent="primary"))  # the user takes the rewound files
    assert (repo / "app.py").read_text() == "v1\n" and not (repo / "extra.txt").exists()
    await fork.close()

    (repo / "app.py").write_text("v2\n")
    (repo / "extra.txt").write_text("the user wrote this\n")
    other = await Engine.open(config, repo, ScriptedBrain(), remount=plan.event)
    await other.settled()
    outcome = await other.submit(RestoreFiles(source_session=source.session.id, up_to_seq=first.seq, into="folder"))
    assert outcome.ok and "1 left as they are" in outcome.message
    assert (repo / "app.py").read_text() == "v1\n"
    assert (repo / "extra.txt").read_text() == "the user wrote this\n"  # changed since: left alone
    await other.close()


async def test_restoring_what_changed_nothing_is_refused(tmp_path: Path, folder: Path) -> None:
    engine = await Engine.open(config_for(tmp_path), folder, ScriptedBrain())
    await ask(engine, "read old.txt")
    refused = await engine.submit(RestoreFiles(source_session=engine.session.id, up_to_seq=1, into="folder"))
    assert not refused.ok and "changed no files" in refused.message
    missing = await engine.submit(RestoreFiles(source_session="20990101T000000Z-none", up_to_seq=1))
    assert not missing.ok
    await engine.close()


# ---------------------------------------------------------------- the blob store


def test_blobs_are_kept_once_compressed_and_read_back(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    text = b"line of a source file\n" * 400
    first = store.put(text)
    assert store.put(text) == first and store.size < len(text) // 4  # once, and compressed
    binary = bytes(range(256)) * 3
    assert store.get(store.put(binary)) == binary
    assert store.get(store.put(b"")) == b""
    reopened = BlobStore(tmp_path)
    assert reopened.get(first) == text and first in reopened


def test_a_torn_record_is_cut_off_and_a_damaged_one_refused(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    kept = store.put(b"kept\n")
    pack = tmp_path / BLOBS_FILE
    whole = pack.stat().st_size
    with open(pack, "ab") as f:  # a crash in the middle of the next record
        f.write(HEADER.pack(b"WBB1", b"\x01" * 32, 0, 100, 100) + b"only part")
    reopened = BlobStore(tmp_path)
    assert reopened.size == whole and reopened.get(kept) == b"kept\n"
    after = reopened.put(b"after the crash\n")
    assert BlobStore(tmp_path).get(after) == b"after the crash\n"
    with pytest.raises(BlobError, match="not in"):
        reopened.get("0" * 64)
    data = bytearray(pack.read_bytes())
    data[HEADER.size] ^= 0xFF  # one byte of the first blob flipped
    pack.write_bytes(bytes(data))
    with pytest.raises(BlobError, match="damaged"):
        BlobStore(tmp_path).get(kept)


async def test_a_command_in_a_git_folder_keeps_the_old_bytes_of_files_git_has(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project", {"clean.txt": "committed\n", "dirty.txt": "committed\n"})
    (repo / "dirty.txt").write_text("edited, not committed\n")
    turns = [call("Bash", command="echo more >> clean.txt && echo more >> dirty.txt"), "done"]
    engine = await Engine.open(config_for(tmp_path), repo, ScriptedBrain(script(tmp_path / "s.yaml", turns)))
    await ask(engine, "append")
    await engine.close()
    changed = next(e for e in engine.session.events if isinstance(e, FilesChanged))
    by_path = {c.path: c for c in changed.changes}
    assert by_path["clean.txt"].before_known  # it held what HEAD holds: git has its bytes
    assert engine.workspaces.blobs.get(by_path["clean.txt"].before) == b"committed\n"  # type: ignore[arg-type]
    assert not by_path["dirty.txt"].before_known  # uncommitted bytes no tool had kept: said plainly
