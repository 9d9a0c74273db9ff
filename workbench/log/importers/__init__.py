"""Importing other tools' transcripts (and our own exports) as sessions of a store.

``detect`` tells a file's format from its first lines, ``discover`` lists the
importable files under home folders, ``import_file`` runs the right importer.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from workbench.log.bundle import BundleStore
from workbench.log.importers.base import ImportFormat, ImportReport
from workbench.log.importers.claude_code import import_claude_code
from workbench.log.importers.codex import import_codex
from workbench.log.importers.native import import_native
from workbench.protocol.json_line import UnreadableLine, json_value

SNIFF_LINES = 20
CODEX_TYPES = frozenset({"session_meta", "response_item", "event_msg", "turn_context", "compacted"})
CLAUDE_TYPES = frozenset({"user", "assistant", "summary", "system", "file-history-snapshot", "queue-operation"})


class UnknownFormat(ValueError):
    pass


class ImportSource(BaseModel):
    path: Path
    format: ImportFormat


def detect(path: Path) -> ImportFormat | None:
    """The format of a transcript file, judged by its first readable lines."""
    try:
        with path.open("rb") as f:
            head = [f.readline() for _ in range(SNIFF_LINES)]
    except OSError:
        return None
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
        if "record_type" in line or (path.name.startswith("rollout-") and "instructions" in line):
            return "codex"  # a rollout from before the payload wrapper
    return None


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


async def import_file(store: BundleStore, path: Path, fmt: ImportFormat | None = None) -> ImportReport:
    fmt = fmt or detect(path)
    if fmt == "claude-code":
        return await import_claude_code(store, path)
    if fmt == "codex":
        return await import_codex(store, path)
    if fmt == "workbench":
        return await import_native(store, path)
    raise UnknownFormat(f"{path}: not a Workbench bundle, a Claude Code transcript or a Codex rollout")
