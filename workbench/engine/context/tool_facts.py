"""What a tool call touched and how its result ended, for the tools an agent's log may hold.

The logs hold Workbench's own tools, Claude Code's (the same names: Read, Write,
Edit, MultiEdit, NotebookEdit, Glob, Grep, Bash, Task …) and Codex CLI's: ``shell``
(an argv, often ``bash -lc "…"``), ``exec_command``/``shell_command`` (a command
line), ``local_shell`` (an exec action) and ``apply_patch`` (a patch, as a custom
tool or through the shell). A command line is parsed as bash parses it (the
parser the permission rules use), and the common ways of reading a file with one
(``cat``, ``sed -n 'A,Bp'``, ``nl -ba``, ``head``, ``tail``) count as reads of that file.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Literal

from workbench.engine.policy.shell import analyse
from workbench.tools.read import DEFAULT_LIMIT

Action = Literal["read", "change", "create", "delete", "missing"]
Span = tuple[float, float]  # first and last line shown; (1, inf) is the whole file; (inf, inf) its end
WHOLE: Span = (1, float("inf"))
TAIL: Span = (float("inf"), float("inf"))

MAX_ERROR_LINE_CHARS = 240
MAX_ERROR_LINES = 200  # past this, a log full of errors: its last lines are kept
MAX_COMMAND_CHARS = 200

_READ_TOOLS = frozenset({"Read", "NotebookRead", "read_file"})
_CHANGE_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})
_SEARCH_TOOLS = frozenset({"Grep", "Glob", "LS", "list_dir", "grep_files", "WebSearch", "WebFetch"})
_PATH_KEYS = ("file_path", "notebook_path", "path")
_SHELLS = frozenset({"bash", "sh", "zsh", "dash"})
_READERS = frozenset({"cat", "bat", "less", "more", "nl", "head", "tail", "sed"})
_SEARCHERS = frozenset({"rg", "grep", "egrep", "fgrep", "ag", "ack", "find", "fd", "ls", "tree", "wc", "stat", "file"})
_QUIET = frozenset({"cd", "pwd", "echo", "printf", "true", "sleep", "which", "type"})
# the Read tool's closing note when it stopped before the end of the file (tools/read.py)
_MORE_LINES = re.compile(r"\n\[\d+ more lines; call Read with offset=\d+ to continue\]$")
_SED_RANGE = re.compile(r"^(\d+)(?:,(\d+|\$))?p$")
_PATCH_FILE = re.compile(r"^\*\*\* (?:(Add|Update|Delete) File|Move to): (.+?)\s*$", re.MULTILINE)
_PATCH_ACTION: dict[str, Action] = {"Add": "create", "Update": "change", "Delete": "delete", "": "change"}

# how a command ended, as each tool writes it
_EXIT_CODE = re.compile(
    r"^(?:\[exit code (?P<ours>-?\d+)\]|Exit code:? (?P<theirs>-?\d+)|Process exited with code (?P<codex>-?\d+))\s*$",
    re.MULTILINE,
)
_TIMED_OUT = re.compile(r"^\[timed out\b|^Command timed out\b|\btimed out after\b", re.MULTILINE | re.IGNORECASE)
# the header Codex writes before a command's output
_CODEX_HEADER = re.compile(r"\A(?:(?:Command|Chunk ID|Wall time|Process exited with code|Exit code|Original token count)"
                           r"[^\n]*\n)+Output:\n")  # fmt: skip
_TOOL_ERROR = re.compile(r"</?tool_use_error>")
# lines that say what went wrong: an exception, a test verdict, a compiler's error, a linter's finding
# (``path:line:col: F401 …``, eslint's ``12:7  error  …``), a failed test's heading, a missing file or program.
# Most are known by how the line starts; the rest by words a line holds, looked for before the pattern.
_ERROR_START = re.compile(
    r"\s*(?:E\s+)?[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failure)\b(?::|$)"
    r"|\s*(?:Uncaught\s+)?Error\b:"
    r"|(?:FAILED|FAIL|ERROR)\b|\s*--- FAIL\b|panic:|npm ERR!"
    r"|\S+:\d+(?::\d+)?: [A-Z]{1,4}\d{3,4}\b|\s*\d+:\d+\s+error\s"
    r"|\s*●\s|\[timed out"
)
_ERROR_WORDS = ("error", "fatal", "No such file or directory", "command not found", "Permission denied")
_ERROR_ANYWHERE = re.compile(
    r"(?:^|\s)(?:error|fatal)(?:\[\w+\])?:\s|\berror TS\d+:|\berror\[E\d+\]"
    r"|No such file or directory|command not found|Permission denied"
)


def _says_what_went_wrong(line: str) -> bool:
    if _ERROR_START.match(line):
        return True
    return any(word in line for word in _ERROR_WORDS) and _ERROR_ANYWHERE.search(line) is not None


@dataclass(frozen=True)
class Touch:
    """A file a call read or changed."""

    path: str
    action: Action
    span: Span = WHOLE  # for reads
    how: str = ""  # for changes: the tool ("Edit", "apply_patch", "sed -i" …)

    @property
    def label(self) -> str:
        if self.action == "read":
            return "read" + span_label(self.span)
        if self.action == "missing":
            return "not found"
        verb = {"change": "changed", "create": "created", "delete": "deleted"}[self.action]
        return f"{verb} ({self.how})" if self.how else verb


@dataclass(frozen=True)
class CallFacts:
    """One tool call as the ledger and the reduction strategies see it."""

    name: str
    command: str  # the command line of a shell call, else ""
    touches: tuple[Touch, ...]
    search: bool  # a lookup (Grep, Glob, rg, ls …): its answer is no state of the work
    key: str  # calls with the same key try the same thing again
    label: str  # the call in a few words

    @property
    def reads_only(self) -> bool:
        """A call that only read files (a Read, or ``sed -n`` of a file): its output is the files' text."""
        return bool(self.touches) and all(t.action == "read" for t in self.touches) and not self.runs_something

    @property
    def runs_something(self) -> bool:
        """A command besides file reads and lookups: its outcome is worth keeping."""
        return bool(self.command) and not self.search and self.key.startswith("run:")


@dataclass(frozen=True)
class Outcome:
    failed: bool
    exit_code: int | None = None
    timed_out: bool = False

    @property
    def label(self) -> str:
        if self.timed_out:
            return "timed out"
        if self.exit_code is not None:
            return "ok" if self.exit_code == 0 else f"exit {self.exit_code}"
        return "failed" if self.failed else "ok"


# --- paths ----------------------------------------------------------------------------------


def workspace_path(raw: object, cwd: str, workdir: str = "") -> str:
    """A path as the workspace names it, so ``./a.py``, ``a.py`` and ``/ws/a.py`` compare equal."""
    if not isinstance(raw, str) or not raw.strip():
        return ""
    path = raw.strip()
    if workdir and not posixpath.isabs(path):
        path = posixpath.join(workdir, path)
    root = cwd.rstrip("/")
    if root and (path == root or path.startswith(root + "/")):
        path = path[len(root) + 1 :] or "."
    return posixpath.normpath(path)


def span_label(span: Span) -> str:
    start, end = span
    if span == WHOLE:
        return ""
    if start == float("inf"):
        return " (its end)"
    last = "end" if end == float("inf") else str(int(end))
    return f" lines {int(start)}–{last}"


def covers(outer: Span, inner: Span) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


# --- calls ----------------------------------------------------------------------------------


def shell_command(name: str, tool_input: dict[str, Any]) -> str:
    """The command line a shell call ran ("" for other tools): ``bash -lc "…"`` is unwrapped."""
    if name == "apply_patch":
        return ""
    value = tool_input.get("command", tool_input.get("cmd"))
    if isinstance(value, list) and all(isinstance(word, str) for word in value):
        words: list[str] = list(value)
        if len(words) == 3 and posixpath.basename(words[0]) in _SHELLS and words[1] in ("-c", "-lc", "-l -c"):
            return words[2]
        return " ".join(_quote(word) for word in words)
    if isinstance(value, str) and (name in ("Bash", "shell", "exec_command", "shell_command", "local_shell")):
        return value
    return ""


def _quote(word: str) -> str:
    return word if re.fullmatch(r"[\w@%+=:,./-]+", word) else json.dumps(word) if "'" in word else f"'{word}'"


def call_facts(name: str, tool_input: dict[str, Any], cwd: str = "", content: str = "") -> CallFacts:
    """What the call touched; ``content`` (its result) tells how far a Read went."""
    command = shell_command(name, tool_input)
    workdir = tool_input.get("workdir") or tool_input.get("cwd") or ""
    workdir = workdir if isinstance(workdir, str) else ""
    if command:
        return _command_facts(name, command, cwd, workdir)
    patch = tool_input.get("input") if name == "apply_patch" else None
    if isinstance(patch, str):
        touches = _patch_touches(patch, cwd, workdir)
        return CallFacts(name, "", touches, False, _change_key(touches), f"apply_patch {_paths_text(touches)}")
    path = next((tool_input[k] for k in _PATH_KEYS if isinstance(tool_input.get(k), str)), "")
    path = workspace_path(path, cwd)
    if name in _READ_TOOLS and path:
        touch = Touch(path, "read", _read_span(tool_input, content))
        return CallFacts(name, "", (touch,), False, f"read:{path}", f"{name} {path}{span_label(touch.span)}")
    if name in _CHANGE_TOOLS and path:
        touch = Touch(path, "change", how=name)
        return CallFacts(name, "", (touch,), False, f"change:{path}", f"{name} {path}")
    label = describe_input(name, tool_input)
    return CallFacts(name, "", (), name in _SEARCH_TOOLS, f"{name}:{_canonical(tool_input)}", label)


def _canonical(tool_input: dict[str, Any]) -> str:
    return json.dumps(tool_input, sort_keys=True, default=str)


def describe_input(name: str, tool_input: dict[str, Any]) -> str:
    """A call in a few words when it names no file: ``Grep `TODO` in src``, ``Task fix the build``."""
    if name == "Grep":
        where = f" in {tool_input['path']}" if isinstance(tool_input.get("path"), str) else ""
        return f"Grep `{one_line(str(tool_input.get('pattern', '')), 120)}`{where}"
    if name == "Glob":
        where = f" in {tool_input['path']}" if isinstance(tool_input.get("path"), str) else ""
        return f"Glob `{tool_input.get('pattern', '')}`{where}"
    for key in ("file_path", "path", "description", "pattern", "url", "query", "prompt"):
        if isinstance(tool_input.get(key), str):
            return f"{name} {one_line(tool_input[key], 120)}"
    return name


def _read_span(tool_input: dict[str, Any], content: str) -> Span:
    offset = tool_input.get("offset")
    limit = tool_input.get("limit")
    start = offset if isinstance(offset, int) and offset > 0 else 1
    if isinstance(limit, int) and limit > 0:
        return (start, start + limit - 1)
    if _MORE_LINES.search(content):  # our Read stopped at its default limit
        return (start, start + DEFAULT_LIMIT - 1)
    return (start, float("inf"))


def _change_key(touches: tuple[Touch, ...]) -> str:
    return "change:" + ",".join(sorted(t.path for t in touches))


def _paths_text(touches: tuple[Touch, ...]) -> str:
    return ", ".join(dict.fromkeys(t.path for t in touches))


def _patch_touches(patch: str, cwd: str, workdir: str) -> tuple[Touch, ...]:
    touches: list[Touch] = []
    for match in _PATCH_FILE.finditer(patch):
        action = _PATCH_ACTION[match[1] or ""]
        touches.append(Touch(workspace_path(match[2], cwd, workdir), action, how="apply_patch"))
    return tuple(touches)


def _command_facts(name: str, command: str, cwd: str, workdir: str) -> CallFacts:
    label = f"{name} `{one_line(command, MAX_COMMAND_CHARS)}`"
    if "*** Begin Patch" in command:
        patched = _patch_touches(command, cwd, workdir)
        return CallFacts(name, command, patched, False, _change_key(patched), f"apply_patch {_paths_text(patched)}")
    shell = analyse(command)
    touches: list[Touch] = []
    searching = running = False
    previous_read: int | None = None  # the touch a following `| sed -n 'A,Bp'` narrows
    for command_words in shell.commands:
        # what runs past any wrapper (sudo, env, timeout …); a word known only at run time reads as ""
        words = tuple(word or "" for word in command_words.layers[-1].words)
        if not words:
            continue
        program = posixpath.basename(words[0])
        if program == "git" and len(words) > 1 and words[1] in ("grep", "ls-files", "status", "log", "diff", "show"):
            searching = True
            continue
        if program in _READERS and not (program == "sed" and _sed_in_place(words)):
            found = _reads(program, words[1:], cwd, workdir)
            if found:
                touches += found
                previous_read = len(touches) - 1
            elif program == "sed" and previous_read is not None:
                span = _sed_span(words[1:])
                if span is not None:
                    touches[previous_read] = Touch(touches[previous_read].path, "read", span)
            continue
        if program in _SEARCHERS:
            searching = True
            continue
        if program == "cd" and len(words) > 1:
            workdir = posixpath.join(workdir, words[1]) if workdir else words[1]
            continue
        if program in _QUIET:
            continue
        running = True
        touches += _changes(program, words, cwd, workdir)
    touches += [Touch(workspace_path(w.written, cwd, workdir), "change", how="shell") for w in shell.writes]
    flat = " ".join(command.split())
    if running or shell.writes:
        return CallFacts(name, command, tuple(touches), False, f"run:{flat}", label)
    return CallFacts(name, command, tuple(touches), searching and not touches, f"cmd:{flat}", label)


def _sed_in_place(words: tuple[str, ...]) -> bool:
    return any(w == "-i" or w.startswith(("-i", "--in-place")) for w in words[1:])


def _sed_span(args: tuple[str, ...]) -> Span | None:
    if "-n" not in args:
        return None
    script = next((a for a in args if not a.startswith("-")), "")
    match = _SED_RANGE.match(script)
    if match is None:
        return None
    start = int(match[1])
    end = float("inf") if match[2] == "$" else int(match[2] or match[1])
    return (start, end)


def _reads(program: str, args: tuple[str, ...], cwd: str, workdir: str) -> list[Touch]:
    """Files a reading command shows, with the lines it shows."""
    span = WHOLE
    files: list[str] = []
    rest = list(args)
    if program == "sed":
        span = _sed_span(args) or WHOLE
        rest = [a for a in args if not a.startswith("-")][1:]  # the first word is the script
    elif program in ("head", "tail"):
        count = 10
        while rest and rest[0].startswith("-"):
            flag = rest.pop(0)
            if flag in ("-n", "--lines") and rest:
                count = int(rest.pop(0).lstrip("+")) if rest[0].lstrip("+").isdigit() else count
            elif flag[1:].isdigit():
                count = int(flag[1:])
            elif flag.startswith("--lines=") and flag[8:].isdigit():
                count = int(flag[8:])
        span = (1, count) if program == "head" else TAIL
    files = [a for a in rest if a and not a.startswith("-") and a != "|"]
    return [Touch(workspace_path(f, cwd, workdir), "read", span) for f in files]


def _changes(program: str, words: tuple[str, ...], cwd: str, workdir: str) -> list[Touch]:
    """Files a command changes by its own arguments: ``sed -i``, ``rm``, ``touch``, ``mv``, ``cp``, ``tee``."""
    args = [w for w in words[1:] if not w.startswith("-")]
    if program == "sed" and _sed_in_place(words):
        return [Touch(workspace_path(a, cwd, workdir), "change", how="sed -i") for a in args[1:]]
    if program in ("rm", "unlink"):
        return [Touch(workspace_path(a, cwd, workdir), "delete", how=program) for a in args]
    if program in ("touch", "tee"):
        return [Touch(workspace_path(a, cwd, workdir), "change", how=program) for a in args]
    if program in ("mv", "cp") and len(args) >= 2:
        moved: list[Touch] = []
        if program == "mv":
            moved = [Touch(workspace_path(a, cwd, workdir), "delete", how="mv") for a in args[:-1]]
        return [*moved, Touch(workspace_path(args[-1], cwd, workdir), "change", how=program)]
    return []


# --- results --------------------------------------------------------------------------------


def outcome(call: CallFacts, content: str, is_error: bool) -> Outcome:
    """How a call ended: a command's exit code where the tool wrote one, else whether it failed.

    Only a command's output is read for an exit code: a file's text may say anything.
    """
    if not call.command:
        return Outcome(failed=is_error)
    found = _EXIT_CODE.search(content[-400:]) or _EXIT_CODE.search(content[:400])
    code = None
    if found is not None:
        code = int(found["ours"] or found["theirs"] or found["codex"])
    timed_out = _TIMED_OUT.search(content[:400] + content[-400:]) is not None and is_error
    return Outcome(failed=is_error or bool(code), exit_code=code, timed_out=timed_out)


def one_line(text: str, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_lines(content: str, *, fallback: bool = True) -> list[str]:
    """Every distinct line of a result that says what went wrong, in order.

    A line another kept line already contains (pytest's ``E   KeyError: 'x'`` beside
    ``FAILED t.py::test - KeyError: 'x'``) is left out; exit-code lines are not errors
    (``outcome`` reads them). With none found, ``fallback`` gives the first line.
    """
    body = _CODEX_HEADER.sub("", _TOOL_ERROR.sub("", content), count=1)
    found: list[str] = []
    for line in body.splitlines():
        if _says_what_went_wrong(line) and not _EXIT_CODE.match(line.strip()):
            text = one_line(line.strip().removeprefix("E ").strip(), MAX_ERROR_LINE_CHARS)
            if text not in found:
                found.append(text)
    found = found[-MAX_ERROR_LINES:]
    kept = [line for line in found if not any(line != other and line in other for other in found)]
    if kept or not fallback:
        return kept
    first = next((line for line in body.splitlines() if line.strip() and not _EXIT_CODE.match(line.strip())), "")
    return [one_line(first, MAX_ERROR_LINE_CHARS)] if first else []
