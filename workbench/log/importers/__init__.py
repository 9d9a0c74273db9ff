"""Importing other tools' transcripts (and our own exports) as sessions of a store.

``detect`` tells a file's format from its first lines, ``discover`` lists the
importable files under home folders, ``sources`` the files a list of paths
names (a sub-agent's file goes with its session), ``import_file`` runs the
right importer.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from workbench.log.bundle import BundleStore
from workbench.log.importers.base import ImportFormat, ImportIndex, ImportReport
from workbench.log.importers.claude_code import import_claude_code, is_helper_file, session_of
from workbench.log.importers.codex import ITEM_TYPES, import_codex
from workbench.log.importers.native import import_native
from workbench.protocol.json_line import UnreadableLine, json_value

SNIFF_LINES = 20
CODEX_TYPES = frozenset({"session_meta", "response_item", "event_msg", "turn_context", "compacted"})
CLAUDE_TYPES = frozenset({"user", "assistant", "summary", "system", "file-history-snapshot", "queue-operation"})


class UnknownFormat(ValueError):
    pass


class ImportSource(BaseModel):
    path: Path
    format: ImportFormat | None  # None: not a format we can tell (the import says so)


def detect(path: Path) -> ImportFormat | None:
    """The format of a transcript file, judged by its first readable lines."""
    try:
        with path.open("rb") as f:
            head = [f.readline() for _ in range(SNIFF_LINES)]
    except OSError:
        return None
    bare_meta = False
    for raw in head:
        try:
            line = json_value(raw)
        except UnreadableLine:
            continue
        if not isinstance(line, dict):
            continue
        if isinstance(line.get("kind"), str) and "seq" in line and "v" in line:
            return "workbench"
        if line.get("type") in CODEX_TYPES and isinstance(line.get("payload"), dict):
            return "codex"
        if line.get("type") in CLAUDE_TYPES and ({"uuid", "leafUuid", "sessionId"} & line.keys()):
            return "claude-code"
        # a rollout from before the payload wrapper: a first line {id, timestamp[, instructions]}, then bare items
        if "record_type" in line or (bare_meta and line.get("type") in ITEM_TYPES):
            return "codex"
        bare_meta = bare_meta or ("type" not in line and {"id", "timestamp"} <= line.keys())
    return "codex" if bare_meta and path.name.startswith("rollout-") else None


def discover(homes: Iterable[Path]) -> list[ImportSource]:
    """Claude Code and Codex transcripts under each home folder (sub-agent files go with their session)."""
    found: list[ImportSource] = []
    for home in homes:
        found += [
            ImportSource(path=p, format="claude-code")
            for p in sorted((home / ".claude" / "projects").glob("*/*.jsonl"))
            if not p.name.startswith("agent-")
        ]
        found += [
            ImportSource(path=p, format="codex")
            for p in sorted((home / ".codex" / "sessions").rglob("rollout-*.jsonl"))
        ]
    return found


class SourceList(BaseModel):
    """The files some paths name, and those left out with why."""

    found: list[ImportSource] = []
    left_out: list[str] = []


def sources(paths: Iterable[Path]) -> SourceList:
    """The transcripts named by files and folders; a sub-agent's file goes with its session's."""
    result = SourceList()
    for path in paths:
        if not path.is_dir():
            result.found.append(ImportSource(path=path, format=detect(path)))
            continue
        # a home folder holds .claude / .codex; any other folder is searched for files we can tell apart
        found = discover([path]) or [
            ImportSource(path=p, format=f) for p in sorted(path.rglob("*.jsonl")) if (f := detect(p)) is not None
        ]
        result.found += found
    mains = {
        session_of(s.path) for s in result.found if s.format == "claude-code" and not s.path.name.startswith("agent-")
    }
    kept = []
    for source in result.found:
        if source.format == "claude-code" and source.path.name.startswith("agent-"):
            if is_helper_file(source.path):
                result.left_out.append(
                    f"{source.path}: Claude Code's compaction or side-question helper, not a session"
                )
                continue
            if session_of(source.path) in mains:
                continue  # imported as a sub-agent of its session
        kept.append(source)
    result.found = kept
    return result


async def import_file(
    store: BundleStore, path: Path, fmt: ImportFormat | None = None, index: ImportIndex | None = None
) -> ImportReport:
    fmt = fmt or detect(path)
    if fmt == "claude-code":
        return await import_claude_code(store, path, index)
    if fmt == "codex":
        return await import_codex(store, path, index)
    if fmt == "workbench":
        return await import_native(store, path)
    raise UnknownFormat(f"{path}: not a Workbench bundle, a Claude Code transcript or a Codex rollout")
