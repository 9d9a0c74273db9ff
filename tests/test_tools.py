"""The built-in tools and the registry that runs them."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from tests.processes import SAFETY_NET_S, alive, pid_in, until
from workbench.tools.base import MAX_RESULT_CHARS, Tool, ToolContext, ToolFailure, ToolOutput
from workbench.tools.edit import Edit
from workbench.tools.glob import MAX_GLOB_RESULTS, compile_glob
from workbench.tools.read import Read
from workbench.tools.registry import InvalidToolCall, ToolRegistry, builtin_tools
from workbench.tools.write import Write


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    return workspace


@pytest.fixture
def ctx(ws: Path) -> ToolContext:
    return ToolContext(workspace=ws, agent_id="a1", session_id="s1")


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry(builtin_tools())


async def call(registry: ToolRegistry, ctx: ToolContext, name: str, **raw: Any) -> ToolOutput:
    """Validate and invoke as the agent loop does."""
    tool = registry.get(name)
    assert tool is not None
    return await registry.invoke(tool, registry.validate(name, raw), ctx)


# --- Read ------------------------------------------------------------------------------------


async def test_read_numbers_lines_as_claude_code_does(registry: ToolRegistry, ctx: ToolContext, ws: Path) -> None:
    (ws / "a.txt").write_text("alpha\nbeta\n")
    out = await call(registry, ctx, "Read", file_path="a.txt")
    assert not out.is_error
    assert out.content == "     1→alpha\n     2→beta"


async def test_read_offset_and_limit_say_what_remains(registry: ToolRegistry, ctx: ToolContext, ws: Path) -> None:
    (ws / "long.txt").write_text("".join(f"line {n}\n" for n in range(1, 11)))
    out = await call(registry, ctx, "Read", file_path="long.txt", offset=3, limit=2)
    lines = out.content.splitlines()
    assert lines[:2] == ["     3→line 3", "     4→line 4"]
    assert "6 more lines; call Read with offset=5 to continue" in out.content


async def test_read_default_limit_is_2000_lines(registry: ToolRegistry, ctx: ToolContext, ws: Path) -> None:
    (ws / "big.txt").write_text("x\n" * 2500)
    out = await call(registry, ctx, "Read", file_path="big.txt")
    assert "  2000→x" in out.content
    assert "  2001→" not in out.content
    assert "500 more lines; call Read with offset=2001" in out.content


async def test_read_absolute_path_inside_workspace(registry: ToolRegistry, ctx: ToolContext, ws: Path) -> None:
    (ws / "a.txt").write_text("hi\n")
    out = await call(registry, ctx, "Read", file_path=str(ws / "a.txt"))
    assert out.content == "     1→hi"


@pytest.mark.parametrize(
    ("setup", "file_path", "message"),
    [
        (lambda ws: (ws / "d").mkdir(), "d", "d is a directory, not a file; use Glob"),
        (lambda ws: (ws / "x.bin").write_bytes(b"\x89PNG\0\0data"), "x.bin", "x.bin is a binary file"),
        (lambda ws: None, "missing.txt", "File not found: missing.txt"),
        (lambda ws: None, "../outside.txt", "Refused: '../outside.txt' is outside the workspace"),
        (lambda ws: (ws / "a.txt").write_text("one\n"), "a.txt", "a.txt has 1 lines; offset 5 is past the end"),
    ],
)
async def test_read_refusals_are_clear_errors(
    registry: ToolRegistry, ctx: ToolContext, ws: Path, setup: Any, file_path: str, message: str
) -> None:
    setup(ws)
    raw: dict[str, Any] = {"file_path": file_path}
    if file_path == "a.txt":
        raw["offset"] = 5
    out = await call(registry, ctx, "Read", **raw)
    assert out.is_error
    assert message in out.content


async def test_read_empty_file_says_so(registry: ToolRegistry, ctx: ToolContext, ws: Path) -> None:
    (ws / "e.txt").write_text("")
    out = await call(registry, ctx, "Read", file_path="e.txt")
    assert not out.is_error
    assert out.content == "(e.txt is empty)"


# --- Write -----------------------------------------------------------------------------------


async def test_write_creates_parent_folders_and_keeps_content_exact(
    registry: ToolRegistry, ctx: ToolContext, ws: Path
) -> None:
    out = await call(registry, ctx, "Write", file_path="new/deep/f.txt", content="a\r\nb\n")
    assert not out.is_error
    assert out.content.startswith("Created new/deep/f.txt (2 lines")
    assert (ws / "new/deep/f.txt").read_bytes() == b"a\r\nb\n"


async def test_write_overwrites_and_says_updated(registry: ToolRegistry, ctx: ToolContext, ws: Path) -> None:
    (ws / "f.txt").write_text("old")
    out = await call(registry, ctx, "Write", file_path="f.txt", content="new")
    assert out.content.startswith("Updated f.txt")
    assert (ws / "f.txt").read_text() == "new"


async def test_write_refuses_a_directory_and_outside_paths(
    registry: ToolRegistry, ctx: ToolContext, ws: Path, tmp_path: Path
) -> None:
    (ws / "d").mkdir()
    out = await call(registry, ctx, "Write", file_path="d", content="x")
    assert out.is_error and "d is a directory" in out.content
    out = await call(registry, ctx, "Write", file_path=str(tmp_path / "escape.txt"), content="x")
    assert out.is_error and "is outside the workspace" in out.content
    assert not (tmp_path / "escape.txt").exists()


def test_write_preview_is_a_unified_diff(ctx: ToolContext, ws: Path) -> None:
    (ws / "f.txt").write_text("one\ntwo\n")
    diff = Write().preview(Write.Input(file_path="f.txt", content="one\nTWO\n"), ctx)
    assert diff is not None
    assert diff.splitlines()[:2] == ["--- a/f.txt", "+++ b/f.txt"]
    assert "-two" in diff.splitlines() and "+TWO" in diff.splitlines()
    assert (ws / "f.txt").read_text() == "one\ntwo\n"  # a preview changes nothing


def test_write_preview_of_new_file_adds_every_line(ctx: ToolContext) -> None:
    diff = Write().preview(Write.Input(file_path="n.txt", content="a\nb"), ctx)
    assert diff is not None
    assert [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")] == ["+a", "+b"]


def test_write_preview_outside_the_workspace_is_none(ctx: ToolContext) -> None:
    assert Write().preview(Write.Input(file_path="/etc/passwd", content="x"), ctx) is None


# --- Edit ------------------------------------------------------------------------------------


async def test_edit_replaces_a_unique_match(registry: ToolRegistry, ctx: ToolContext, ws: Path) -> None:
    (ws / "a.py").write_bytes(b"x = 1\r\ny = 2\r\n")
    out = await call(registry, ctx, "Edit", file_path="a.py", old_string="y = 2", new_string="y = 3")
    assert not out.is_error
    assert out.content == "Replaced 1 occurrence in a.py"
    assert (ws / "a.py").read_bytes() == b"x = 1\r\ny = 3\r\n"


async def test_edit_with_several_matches_needs_replace_all(registry: ToolRegistry, ctx: ToolContext, ws: Path) -> None:
    (ws / "a.py").write_text("n = 0\nn = 0\nn = 0\n")
    out = await call(registry, ctx, "Edit", file_path="a.py", old_string="n = 0", new_string="n = 1")
    assert out.is_error
    assert "occurs 3 times in a.py" in out.content and "replace_all" in out.content
    assert (ws / "a.py").read_text() == "n = 0\nn = 0\nn = 0\n"

    out = await call(registry, ctx, "Edit", file_path="a.py", old_string="n = 0", new_string="n = 1", replace_all=True)
    assert out.content == "Replaced 3 occurrences in a.py"
    assert (ws / "a.py").read_text() == "n = 1\nn = 1\nn = 1\n"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("absent", "x", "old_string was not found in a.py"),
        ("hello", "hello", "old_string and new_string are identical"),
        ("", "x", "old_string is empty"),
    ],
)
async def test_edit_errors(
    registry: ToolRegistry, ctx: ToolContext, ws: Path, old: str, new: str, message: str
) -> None:
    (ws / "a.py").write_text("hello\n")
    out = await call(registry, ctx, "Edit", file_path="a.py", old_string=old, new_string=new)
    assert out.is_error
    assert message in out.content
    assert (ws / "a.py").read_text() == "hello\n"


async def test_edit_refuses_missing_binary_and_non_utf8_files(
    registry: ToolRegistry, ctx: ToolContext, ws: Path
) -> None:
    (ws / "b.bin").write_bytes(b"ab\0cd")
    (ws / "latin.txt").write_bytes("café".encode("latin-1"))
    cases = {"nope.py": "File not found", "b.bin": "looks like a binary file", "latin.txt": "is not UTF-8 text"}
    for file_path, message in cases.items():
        out = await call(registry, ctx, "Edit", file_path=file_path, old_string="c", new_string="x")
        assert out.is_error and message in out.content, file_path
    assert (ws / "latin.txt").read_bytes() == "café".encode("latin-1")


def test_edit_preview_shows_the_change_or_none(ctx: ToolContext, ws: Path) -> None:
    (ws / "a.py").write_text("a = 1\nb = 2\n")
    diff = Edit().preview(Edit.Input(file_path="a.py", old_string="b = 2", new_string="b = 20"), ctx)
    assert diff is not None and "-b = 2\n" in diff and "+b = 20\n" in diff
    assert Edit().preview(Edit.Input(file_path="a.py", old_string="zzz", new_string="y"), ctx) is None


# --- Glob ------------------------------------------------------------------------------------


def _touch(path: Path, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    os.utime(path, (mtime, mtime))


async def test_glob_newest_first_relative_and_skipping_tool_folders(
    registry: ToolRegistry, ctx: ToolContext, ws: Path
) -> None:
    now = time.time()
    _touch(ws / "old.py", now - 300)
    _touch(ws / "pkg/new.py", now - 10)
    _touch(ws / "pkg/sub/mid.py", now - 100)
    _touch(ws / "pkg/readme.md", now)
    for skipped in (".git", ".venv", "node_modules", "__pycache__"):
        _touch(ws / skipped / "x.py", now)
    out = await call(registry, ctx, "Glob", pattern="**/*.py")
    assert out.content.splitlines() == ["pkg/new.py", "pkg/sub/mid.py", "old.py"]


async def test_glob_in_a_folder_still_reports_workspace_paths(
    registry: ToolRegistry, ctx: ToolContext, ws: Path
) -> None:
    _touch(ws / "pkg/a.py", 1)
    _touch(ws / "pkg/sub/b.py", 2)
    _touch(ws / "top.py", 3)
    out = await call(registry, ctx, "Glob", pattern="*.py", path="pkg")
    assert out.content.splitlines() == ["pkg/a.py"]


async def test_glob_caps_results_with_a_note(registry: ToolRegistry, ctx: ToolContext, ws: Path) -> None:
    for n in range(MAX_GLOB_RESULTS + 5):
        _touch(ws / f"f{n:03}.txt", 1000 + n)
    out = await call(registry, ctx, "Glob", pattern="*.txt")
    lines = [line for line in out.content.splitlines() if line]
    assert lines[0] == f"f{MAX_GLOB_RESULTS + 4:03}.txt"
    assert len(lines) == MAX_GLOB_RESULTS + 1
    assert f"showing the {MAX_GLOB_RESULTS} newest of {MAX_GLOB_RESULTS + 5} matches" in lines[-1]


async def test_glob_no_match_and_bad_paths(registry: ToolRegistry, ctx: ToolContext, ws: Path) -> None:
    out = await call(registry, ctx, "Glob", pattern="*.rs")
    assert not out.is_error and out.content == "No files match '*.rs'"
    out = await call(registry, ctx, "Glob", pattern="*", path="..")
    assert out.is_error and "outside the workspace" in out.content
    out = await call(registry, ctx, "Glob", pattern="/etc/*")
    assert out.is_error and "is absolute" in out.content


@pytest.mark.parametrize(
    ("pattern", "anywhere", "path", "expected"),
    [
        ("**/*.py", False, "a.py", True),
        ("**/*.py", False, "x/y/a.py", True),
        ("*.py", False, "x/a.py", False),
        ("*.py", True, "x/a.py", True),
        ("src/**", False, "src", True),
        ("src/**", False, "src/a/b.c", True),
        ("src/**", False, "srcx/a", False),
        ("a?.[ch]", False, "ab.h", True),
        ("a?.[!ch]", False, "ab.h", False),
        ("f\\*.txt", False, "f*.txt", True),
        ("f\\*.txt", False, "fx.txt", False),
        ("docs/*.md", False, "docs/sub/a.md", False),
    ],
)
def test_compile_glob(pattern: str, anywhere: bool, path: str, expected: bool) -> None:
    assert bool(compile_glob(pattern, anywhere=anywhere).fullmatch(path)) is expected


# --- Grep ------------------------------------------------------------------------------------


@pytest.fixture
def corpus(ws: Path) -> Path:
    (ws / "src").mkdir()
    (ws / "src/a.py").write_text("import os\n# TODO: fix\nx = 1  # todo later\n")
    (ws / "src/b.txt").write_text("nothing here\nTODO twice\n")
    (ws / "img.bin").write_bytes(b"TODO\0binary")
    (ws / "node_modules").mkdir()
    (ws / "node_modules/dep.js").write_text("TODO in a dependency\n")
    return ws


async def test_grep_files_with_matches_by_default(registry: ToolRegistry, ctx: ToolContext, corpus: Path) -> None:
    out = await call(registry, ctx, "Grep", pattern="TODO")
    assert out.content.splitlines() == ["src/a.py", "src/b.txt"]


async def test_grep_content_mode_and_case(registry: ToolRegistry, ctx: ToolContext, corpus: Path) -> None:
    out = await call(registry, ctx, "Grep", pattern="todo", path="src/a.py", output_mode="content")
    assert out.content == "src/a.py:3:x = 1  # todo later"
    out = await call(
        registry, ctx, "Grep", pattern="todo", path="src/a.py", output_mode="content", case_insensitive=True
    )
    assert out.content.splitlines() == ["src/a.py:2:# TODO: fix", "src/a.py:3:x = 1  # todo later"]


async def test_grep_count_glob_and_head_limit(registry: ToolRegistry, ctx: ToolContext, corpus: Path) -> None:
    out = await call(registry, ctx, "Grep", pattern="(?i)todo", output_mode="count")
    assert out.content.splitlines() == ["src/a.py:2", "src/b.txt:1"]
    out = await call(registry, ctx, "Grep", pattern="TODO", glob="*.txt")
    assert out.content == "src/b.txt"
    out = await call(registry, ctx, "Grep", pattern="(?i)todo", output_mode="content", head_limit=1)
    assert out.content.splitlines()[0] == "src/a.py:2:# TODO: fix"
    assert "[showing the first 1 of 3 lines]" in out.content


async def test_grep_errors_and_no_match(registry: ToolRegistry, ctx: ToolContext, corpus: Path) -> None:
    out = await call(registry, ctx, "Grep", pattern="foo(")
    assert out.is_error and "Invalid regular expression 'foo('" in out.content
    out = await call(registry, ctx, "Grep", pattern="zebra")
    assert not out.is_error and out.content == "No matches for 'zebra'"
    out = await call(registry, ctx, "Grep", pattern="x", path="nope")
    assert out.is_error and "Path not found: nope" in out.content


async def test_grep_does_not_follow_symlinks_out(
    registry: ToolRegistry, ctx: ToolContext, ws: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("password=hunter2\n")
    (ws / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (ws / "plain.txt").write_text("hunter2 is a meme\n")
    out = await call(registry, ctx, "Grep", pattern="hunter2", output_mode="content")
    assert out.content == "plain.txt:1:hunter2 is a meme"


# --- Bash ------------------------------------------------------------------------------------


async def test_bash_runs_in_the_workspace_and_reports_the_exit_code(
    registry: ToolRegistry, ctx: ToolContext, ws: Path
) -> None:
    out = await call(registry, ctx, "Bash", command="pwd; echo err >&2")
    assert not out.is_error
    assert out.content == f"{ws}\nerr\n\n[exit code 0]"


async def test_bash_failure_is_an_error_with_its_code(registry: ToolRegistry, ctx: ToolContext) -> None:
    out = await call(registry, ctx, "Bash", command="echo nope; exit 3")
    assert out.is_error
    assert out.content == "nope\n\n[exit code 3]"


async def test_bash_stdin_is_empty(registry: ToolRegistry, ctx: ToolContext) -> None:
    out = await call(registry, ctx, "Bash", command="cat", timeout=5)
    assert out.content == "(no output)\n[exit code 0]"


async def test_bash_timeout_kills_the_whole_process_group(registry: ToolRegistry, ctx: ToolContext, ws: Path) -> None:
    command = "sleep 300 & echo $! > child.pid; echo started; wait"
    out = await asyncio.wait_for(call(registry, ctx, "Bash", command=command, timeout=1), SAFETY_NET_S)
    assert out.is_error
    assert out.content.startswith("started\n")
    assert "[timed out after 1 s; killed the command and everything it started]" in out.content
    child = pid_in(ws / "child.pid")
    await until(lambda: not alive(child), "the child to end")


async def test_bash_timeout_returns_even_if_an_escaped_process_holds_the_output(
    registry: ToolRegistry, ctx: ToolContext, ws: Path
) -> None:
    command = "env -i setsid sleep 30 & echo $! > escaped.pid; wait"  # env -i: not even the call's mark is left
    try:
        out = await asyncio.wait_for(call(registry, ctx, "Bash", command=command, timeout=1), SAFETY_NET_S)
        assert out.is_error and "timed out after 1 s" in out.content
    finally:
        os.kill(pid_in(ws / "escaped.pid"), 9)


async def test_cancelling_bash_kills_the_process_group(registry: ToolRegistry, ctx: ToolContext, ws: Path) -> None:
    task = asyncio.create_task(call(registry, ctx, "Bash", command="sleep 300 & echo $! > child.pid; wait"))
    await until(lambda: pid_in(ws / "child.pid") is not None, "the child to start")
    child = pid_in(ws / "child.pid")
    assert alive(child)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await until(lambda: not alive(child), "the child to end")


async def test_bash_output_over_the_cap_is_truncated_with_a_note(registry: ToolRegistry, ctx: ToolContext) -> None:
    out = await call(registry, ctx, "Bash", command="head -c 50000 /dev/zero | tr '\\0' x")
    assert len(out.content) <= MAX_RESULT_CHARS
    assert out.truncated_chars > 0
    assert "[output truncated:" in out.content
    assert out.content.endswith("[exit code 0]")


def test_bash_timeout_is_capped_at_600_seconds(registry: ToolRegistry) -> None:
    with pytest.raises(InvalidToolCall, match="timeout: Input should be less than or equal to 600"):
        registry.validate("Bash", {"command": "ls", "timeout": 601})
    assert registry.validate("Bash", {"command": "ls"}).timeout == 120  # type: ignore[attr-defined]


# --- subjects, specs and the registry ----------------------------------------------------------


def test_subjects_are_what_permission_rules_match(registry: ToolRegistry) -> None:
    subjects = {
        "Read": ({"file_path": "src/a.py"}, "src/a.py"),
        "Write": ({"file_path": "b.txt", "content": ""}, "b.txt"),
        "Edit": ({"file_path": "c.py", "old_string": "a", "new_string": "b"}, "c.py"),
        "Glob": ({"pattern": "*.py"}, "."),
        "Grep": ({"pattern": "x", "path": "src"}, "src"),
        "Bash": ({"command": "git status"}, "git status"),
    }
    for name, (raw, subject) in subjects.items():
        tool = registry.get(name)
        assert tool is not None
        assert tool.subject(registry.validate(name, raw)) == subject


def test_specs_expose_each_builtin_with_its_schema(registry: ToolRegistry) -> None:
    specs = {spec.name: spec for spec in registry.specs()}
    assert set(specs) == {"Read", "Write", "Edit", "Glob", "Grep", "Bash", "TaskOutput", "TaskStop", "NotebookEdit",
                          "WebFetch", "EnterPlanMode", "ExitPlanMode"}  # fmt: skip
    read = specs["Read"].input_schema
    assert read["required"] == ["file_path"]
    assert "1-based" in read["properties"]["offset"]["description"]
    assert "title" not in read
    kinds = {tool.name: tool.kind for tool in builtin_tools()}
    assert kinds == {"Read": "read", "Write": "write", "Edit": "write", "Glob": "read", "Grep": "read", "Bash": "exec",
                     "TaskOutput": "read", "TaskStop": "interaction", "NotebookEdit": "write", "WebFetch": "network",
                     "EnterPlanMode": "interaction", "ExitPlanMode": "interaction"}  # fmt: skip


def test_validate_unknown_tool_lists_the_known_ones(registry: ToolRegistry) -> None:
    with pytest.raises(InvalidToolCall, match="Unknown tool 'Fly'. Available tools: Read, Write, Edit"):
        registry.validate("Fly", {})


def test_validate_renders_errors_readably(registry: ToolRegistry) -> None:
    with pytest.raises(InvalidToolCall) as raised:
        registry.validate("Read", {"path": "a.txt", "offset": 0})
    message = str(raised.value)
    assert message.startswith("Invalid input for Read:\n")
    assert "- file_path: Field required" in message
    assert "- offset: Input should be greater than or equal to 1" in message
    assert "- path: Extra inputs are not permitted" in message
    assert message.endswith("Read takes: file_path (required), offset, limit, pages")


class _Input(BaseModel):
    text: str = ""


class _Exploding(Tool[_Input]):
    name = "Explode"
    description = "raises"
    Input = _Input

    async def run(self, params: _Input, ctx: ToolContext) -> ToolOutput:
        if params.text == "refuse":
            raise ToolFailure("I refuse")
        raise ValueError("bad value")


class _Verbose(Tool[_Input]):
    name = "Verbose"
    description = "talks a lot"
    Input = _Input

    async def run(self, params: _Input, ctx: ToolContext) -> ToolOutput:
        return ToolOutput(content="y" * 40_000)


async def test_invoke_turns_exceptions_into_error_results(ctx: ToolContext) -> None:
    registry = ToolRegistry([_Exploding()])
    out = await registry.invoke(registry.get("Explode"), _Input(), ctx)  # type: ignore[arg-type]
    assert out.is_error
    assert out.content == "Explode failed: ValueError: bad value"
    out = await registry.invoke(registry.get("Explode"), _Input(text="refuse"), ctx)  # type: ignore[arg-type]
    assert out.is_error and out.content == "I refuse"


async def test_invoke_caps_results_at_30000_characters(ctx: ToolContext) -> None:
    registry = ToolRegistry([_Verbose()])
    out = await registry.invoke(registry.get("Verbose"), _Input(), ctx)  # type: ignore[arg-type]
    assert out.content.startswith("y" * MAX_RESULT_CHARS + "\n\n[output truncated: 10,000 of 40,000")
    assert out.truncated_chars == 10_000


def test_registering_a_name_twice_is_refused() -> None:
    registry = ToolRegistry(builtin_tools())
    with pytest.raises(ValueError, match="'Read' is already registered"):
        registry.register(Read())
    registry.register(_Exploding())
    assert registry.names[-1] == "Explode"


async def test_tool_paths_outside_the_workspace_are_error_results(
    registry: ToolRegistry, ctx: ToolContext, ws: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("s3cret")
    (ws / "link").symlink_to(tmp_path, target_is_directory=True)
    for name, raw in {
        "Read": {"file_path": "link/secret.txt"},
        "Edit": {"file_path": "link/secret.txt", "old_string": "s3", "new_string": "xx"},
        "Write": {"file_path": "link/new.txt", "content": "x"},
        "Grep": {"pattern": "s3", "path": "link"},
        "Glob": {"pattern": "*", "path": "link"},
    }.items():
        out = await call(registry, ctx, name, **raw)
        assert out.is_error and "is outside the workspace" in out.content, name
    assert (tmp_path / "secret.txt").read_text() == "s3cret"
    assert not (tmp_path / "new.txt").exists()
