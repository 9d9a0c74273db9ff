"""Export: a readable Markdown transcript, and JSONL that reads and imports back to the same events."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from tests.bundle_fixtures import make_session, store_of, ticking_clock
from workbench.engine.config import Config
from workbench.engine.context.fold import fold
from workbench.frontends.cli.bundles import export_command
from workbench.log.bundle import parse_bundle
from workbench.log.catalog import rename
from workbench.log.export import export, markdown
from workbench.log.importers import detect, import_file
from workbench.log.meta import SessionMeta
from workbench.protocol.events import OpaqueEvent, SessionStarted, ToolResult


@pytest.fixture
async def session(tmp_path: Path) -> str:
    return await make_session(
        tmp_path,
        ["read README.md", "delegate: read NOTES.md"],
        clock=ticking_clock(),
        session_id="20260304T050607Z-expo",
    )


async def test_jsonl_export_reads_back_to_the_same_events(tmp_path: Path, session: str) -> None:
    store = store_of(tmp_path)
    original = (await store.read(session)).events
    exported = "".join(await export(store, session, "jsonl")).encode()
    again = parse_bundle(exported)
    assert again.problems == [] and again.events == original


async def test_jsonl_export_imports_as_a_new_session_with_the_same_events(tmp_path: Path, session: str) -> None:
    store = store_of(tmp_path)
    original = (await store.read(session)).events
    path = tmp_path / "export.jsonl"
    path.write_text("".join(await export(store, session, "jsonl")))
    assert detect(path) == "workbench"
    report = await import_file(store, path)
    assert report.session_id and report.session_id != session and report.problems == []
    imported = (await store.read(report.session_id)).events
    assert [e.model_copy(update={"session": session}) for e in imported] == original
    assert fold(imported, agent="primary") == fold(original, agent="primary")


async def test_unknown_kinds_survive_the_round_trip(tmp_path: Path, session: str) -> None:
    store = store_of(tmp_path)
    log = store.folder(session) / "events.jsonl"
    with log.open("a") as f:
        f.write('{"kind":"hologram","v":3,"seq":999,"ts":"2026-03-04T05:30:00.000Z","session":"x","beam":[1,2]}\n')
    exported = "".join(await export(store, session, "jsonl")).encode()
    last = parse_bundle(exported).events[-1]
    assert isinstance(last, OpaqueEvent) and last.data["beam"] == [1, 2] and last.v == 3


async def test_markdown_export_reads_as_a_transcript(tmp_path: Path, session: str) -> None:
    store = store_of(tmp_path)
    await rename(store, session, "Greeting review")
    text = "".join(await export(store, session, "markdown"))
    assert text.startswith("# Greeting review\n")
    assert f"- session: `{session}`" in text
    assert "## User" in text and "read README.md" in text
    assert "## Assistant" in text
    assert '**→ Read** `{"file_path": "README.md"}`' in text
    assert "The demo project prints greetings." in text  # the tool result, fenced
    assert "\n```\n" in text
    assert "delegated: delegated to agent-1" in text
    assert "agent-1 · seq" not in text and "read NOTES.md · seq" in text  # agents go by name
    assert "status" not in text.split("\n## ")[1]  # bookkeeping left out


async def test_markdown_fences_outlast_backticks_in_results(tmp_path: Path) -> None:
    text = "".join(
        markdown(SessionMeta(id="s"), [SessionStarted(), ToolResult(tool_use_id="t", content="```\ncode\n```")])
    )
    assert "````\n```\ncode\n```\n````" in text


async def test_the_export_command_writes_a_private_file_or_stdout(tmp_path: Path, session: str) -> None:
    config = Config(bundles=tmp_path / "bundles")
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "out.md"
    assert await export_command(config, session, "markdown", target, out=out, err=err) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_text().startswith("# read README.md")
    assert await export_command(config, session, "jsonl", out=out, err=err) == 0
    assert parse_bundle(out.getvalue().encode()).events == (await store_of(tmp_path).read(session)).events
    assert await export_command(config, "19990101", "jsonl", out=out, err=err) == 1
    assert "no session matches" in err.getvalue()
