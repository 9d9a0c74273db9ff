"""resolve_in_workspace: nothing a tool touches may lie outside the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.tools.base import ToolFailure
from workbench.tools.sandbox import PathOutsideWorkspace, resolve_in_workspace, workspace_relative


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return workspace


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("s3cret")
    return folder


def test_dotdot_escaping_the_workspace_is_refused(ws: Path) -> None:
    with pytest.raises(PathOutsideWorkspace, match=r"Refused: '\.\./x' is outside the workspace"):
        resolve_in_workspace(ws, "../x")


def test_dotdot_that_stays_inside_is_fine(ws: Path) -> None:
    assert resolve_in_workspace(ws, "a/../b.txt") == ws.resolve() / "b.txt"


def test_absolute_path_outside_is_refused_and_named(ws: Path) -> None:
    with pytest.raises(PathOutsideWorkspace) as raised:
        resolve_in_workspace(ws, "/etc/passwd")
    assert str(raised.value) == f"Refused: '/etc/passwd' is outside the workspace {ws.resolve()}"
    assert isinstance(raised.value, ToolFailure)


def test_absolute_path_inside_is_fine(ws: Path) -> None:
    (ws / "a.txt").write_text("x")
    assert resolve_in_workspace(ws, str(ws / "a.txt")) == ws.resolve() / "a.txt"


def test_symlinked_file_pointing_out_is_refused(ws: Path, outside: Path) -> None:
    (ws / "link.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(PathOutsideWorkspace):
        resolve_in_workspace(ws, "link.txt")


def test_dangling_symlink_pointing_out_is_refused(ws: Path, outside: Path) -> None:
    # Write would follow it and create a file outside
    (ws / "new.txt").symlink_to(outside / "not-yet.txt")
    with pytest.raises(PathOutsideWorkspace):
        resolve_in_workspace(ws, "new.txt")


def test_symlinked_folder_pointing_out_is_refused(ws: Path, outside: Path) -> None:
    (ws / "docs").symlink_to(outside, target_is_directory=True)
    with pytest.raises(PathOutsideWorkspace):
        resolve_in_workspace(ws, "docs/secret.txt")
    with pytest.raises(PathOutsideWorkspace):
        resolve_in_workspace(ws, "docs/new/file.txt")


def test_symlink_inside_the_workspace_resolves_to_its_target(ws: Path) -> None:
    (ws / "real.txt").write_text("x")
    (ws / "alias.txt").symlink_to(ws / "real.txt")
    assert resolve_in_workspace(ws, "alias.txt") == ws.resolve() / "real.txt"


def test_new_file_in_new_folder_resolves_inside(ws: Path) -> None:
    resolved = resolve_in_workspace(ws, "new/deeper/file.py")
    assert resolved == ws.resolve() / "new" / "deeper" / "file.py"
    assert not resolved.parent.exists()
    assert workspace_relative(ws, resolved) == "new/deeper/file.py"


def test_workspace_reached_through_a_symlink_still_works(tmp_path: Path, ws: Path) -> None:
    via = tmp_path / "via"
    via.symlink_to(ws, target_is_directory=True)
    assert resolve_in_workspace(via, "a.txt") == ws.resolve() / "a.txt"
    with pytest.raises(PathOutsideWorkspace):
        resolve_in_workspace(via, "../outside")


def test_symlink_loop_is_a_clear_failure(ws: Path) -> None:
    (ws / "a").symlink_to(ws / "b")
    (ws / "b").symlink_to(ws / "a")
    with pytest.raises(ToolFailure, match="Cannot resolve 'a'"):
        resolve_in_workspace(ws, "a")
