"""Confine tool paths to the workspace: every file a tool touches must resolve inside it."""

from __future__ import annotations

from pathlib import Path

from workbench.tools.base import ToolFailure


class PathOutsideWorkspace(ToolFailure):
    """A path (after ``..`` and symlinks are resolved) leads outside the workspace."""


def resolve_in_workspace(workspace: Path, path: str) -> Path:
    """The real location of ``path`` (relative to the workspace, or absolute inside it).

    Symlinks are resolved all along the chain, including a final one and one
    that dangles, so a link inside the workspace cannot lead a tool outside it.
    Paths that do not exist yet resolve too (Write creates files).
    """
    root = workspace.resolve()
    given = Path(path).expanduser()
    try:
        real = (root / given).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise ToolFailure(f"Cannot resolve {path!r}: {exc}") from exc
    if not real.is_relative_to(root):
        raise PathOutsideWorkspace(f"Refused: {path!r} is outside the workspace {root}")
    return real


def workspace_relative(workspace: Path, real: Path) -> str:
    """How messages name a resolved path: relative to the workspace, '/'-separated."""
    return real.relative_to(workspace.resolve()).as_posix()
