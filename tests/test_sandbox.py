"""Nothing a tool touches may lie outside the workspace: resolution, and opening without a check-then-use gap."""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from workbench.tools.base import ToolContext, ToolFailure
from workbench.tools.edit import EditInput, _edit
from workbench.tools.grep import _search
from workbench.tools.read import read_file_bytes
from workbench.tools.registry import ToolRegistry, builtin_tools
from workbench.tools.sandbox import PathOutsideWorkspace, resolve_in_workspace, workspace_relative
from workbench.tools.write import _write


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


# --- the file tools open what they checked: descriptors, no-follow, regular files only -----------


RACE_TRIES = int(os.environ.get("WORKBENCH_RACE_TRIES", "300"))


async def _call(ws: Path, name: str, **raw: Any) -> Any:
    registry = ToolRegistry(builtin_tools())
    tool = registry.get(name)
    assert tool is not None
    return await registry.invoke(tool, registry.validate(name, raw), ToolContext(workspace=ws))


async def test_a_symlink_inside_pointing_inside_is_followed_by_every_tool(ws: Path) -> None:
    (ws / "real").mkdir()
    (ws / "real" / "a.txt").write_text("hello\n")
    (ws / "abs").symlink_to(ws / "real", target_is_directory=True)  # an absolute target inside
    (ws / "rel.txt").symlink_to("real/a.txt")
    assert "hello" in (await _call(ws, "Read", file_path="abs/a.txt")).content
    assert "hello" in (await _call(ws, "Read", file_path="rel.txt")).content
    out = await _call(ws, "Edit", file_path="rel.txt", old_string="hello", new_string="bye")
    assert not out.is_error and (ws / "real" / "a.txt").read_text() == "bye\n"
    assert "real/a.txt:1:bye" in (await _call(ws, "Grep", pattern="bye", output_mode="content")).content


@pytest.mark.parametrize("name", ["Read", "Edit", "Write", "Grep", "Glob"])
async def test_a_nul_byte_in_a_path_is_a_clear_tool_error(ws: Path, name: str) -> None:
    raw: dict[str, Any] = {
        "Read": {"file_path": "a\0b"},
        "Edit": {"file_path": "a\0b", "old_string": "x", "new_string": "y"},
        "Write": {"file_path": "a\0b", "content": "x"},
        "Grep": {"pattern": "x", "path": "a\0b"},
        "Glob": {"pattern": "*", "path": "a\0b"},
    }[name]
    registry = ToolRegistry(builtin_tools())
    from workbench.tools.registry import InvalidToolCall

    with pytest.raises(InvalidToolCall, match="NUL byte"):
        registry.validate(name, raw)


def test_the_permission_check_does_not_raise_on_a_nul_byte(ws: Path) -> None:
    from workbench.engine.policy.permissions import PermissionPolicy
    from workbench.tools.read import Read, ReadInput

    policy = PermissionPolicy(deny=["Read(secrets/**)"], workspace=ws)
    params = ReadInput.model_construct(file_path="secrets/\0x")  # as if validation were skipped
    assert policy.decide(Read(), params).verdict in ("allow", "deny")
    with pytest.raises(ToolFailure, match="NUL byte"):
        resolve_in_workspace(ws, "a\0b")


@pytest.fixture
def fifo(ws: Path) -> Path:
    path = ws / "pipe"
    os.mkfifo(path)
    return path


async def test_special_files_are_refused_promptly_and_never_block(ws: Path, fifo: Path) -> None:
    # nothing ever writes to the FIFO: a tool that opened it for reading would wait forever
    for name, raw in {
        "Read": {"file_path": "pipe"},
        "Edit": {"file_path": "pipe", "old_string": "x", "new_string": "y"},
        "Write": {"file_path": "pipe", "content": "x"},
        "Grep": {"pattern": "x", "path": "pipe"},
        "Glob": {"pattern": "*", "path": "pipe"},
    }.items():
        out = await asyncio.wait_for(_call(ws, name, **raw), timeout=30)
        assert out.is_error, name
        assert "FIFO" in out.content or "not a folder" in out.content, (name, out.content)


async def test_a_workspace_search_skips_special_files(ws: Path, fifo: Path) -> None:
    (ws / "a.txt").write_text("needle\n")
    out = await asyncio.wait_for(_call(ws, "Grep", pattern="needle"), timeout=30)
    assert out.content == "a.txt"
    listed = await asyncio.wait_for(_call(ws, "Glob", pattern="*"), timeout=30)
    assert listed.content == "a.txt"


async def test_writing_through_a_hard_link_to_a_file_outside_is_refused(ws: Path, outside: Path) -> None:
    os.link(outside / "secret.txt", ws / "linked.txt")
    for name, raw in {
        "Write": {"file_path": "linked.txt", "content": "pwned"},
        "Edit": {"file_path": "linked.txt", "old_string": "s3cret", "new_string": "pwned"},
    }.items():
        out = await _call(ws, name, **raw)
        assert out.is_error and "hard link" in out.content, name
    assert (outside / "secret.txt").read_text() == "s3cret"


async def test_hard_links_that_all_live_inside_may_be_written(ws: Path) -> None:
    (ws / "a.txt").write_text("one")
    os.link(ws / "a.txt", ws / "b.txt")
    out = await _call(ws, "Write", file_path="b.txt", content="two")
    assert not out.is_error and (ws / "a.txt").read_text() == "two"


# --- the race: a folder swapped for a symlink while the tools run ---------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.renameat2(_AT_FDCWD, bytes(a), _AT_FDCWD, bytes(b), _RENAME_EXCHANGE) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def symlink_swap_escapes(ws: Path, outside: Path, tries: int) -> int:
    """Run Read, Grep, Edit and Write on ``dir/…`` while a thread atomically swaps ``dir`` with a symlink to
    ``outside``, back and forth; count every read of outside content and every change made outside."""
    (ws / "dir").mkdir()
    (ws / "dir" / "secret.txt").write_text("inside\n")
    (outside / "secret.txt").write_text("OUTSIDE\n")
    (ws / "swap").symlink_to(outside, target_is_directory=True)
    try:
        _exchange(ws / "dir", ws / "swap")
        _exchange(ws / "dir", ws / "swap")
    except (OSError, AttributeError):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available here")
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            _exchange(ws / "dir", ws / "swap")

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    escapes = 0
    outside_regex = re.compile("OUTSIDE")
    try:
        for attempt in range(tries):
            try:
                _, data = read_file_bytes(ws, "dir/secret.txt", verb="Read")
                escapes += b"OUTSIDE" in data
            except ToolFailure:
                pass
            try:
                escapes += bool(_search(ws, "dir", outside_regex, None, "files_with_matches"))
            except ToolFailure:
                pass
            try:
                _edit(ws, EditInput(file_path="dir/secret.txt", old_string="\n", new_string=" \n"))
            except ToolFailure:
                pass
            try:
                _write(ws, f"dir/new-{attempt}.txt", b"x")
            except ToolFailure:
                pass
    finally:
        stop.set()
        swapper.join()
    escapes += sum(1 for _ in outside.glob("new-*.txt"))
    escapes += (outside / "secret.txt").read_text() != "OUTSIDE\n"
    return escapes


def test_a_symlink_swapped_in_mid_call_never_leads_a_tool_outside(ws: Path, outside: Path) -> None:
    assert symlink_swap_escapes(ws, outside, RACE_TRIES) == 0


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("WORKBENCH_SLOW"), reason="10,000 tries: set WORKBENCH_SLOW=1")
def test_ten_thousand_swaps_and_not_one_escape(ws: Path, outside: Path) -> None:
    assert symlink_swap_escapes(ws, outside, 10_000) == 0
