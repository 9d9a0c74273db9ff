"""A shell command line as the permission rules see it: the simple commands it would run.

The line is parsed by tree-sitter's bash grammar (the parser Claude Code uses
for the same purpose). Every simple command is found wherever it hides — in a
list, a pipeline, a subshell, a function body, a loop, a command or process
substitution, the string of ``sh -c`` or ``eval``, behind a wrapper such as
``sudo``, ``env``, ``nohup``, ``timeout``, ``xargs`` or ``find -exec`` — and its
words are evaluated as the shell would before running it: quotes removed,
``$'\\x72m'`` decoded, ``\\rm`` unescaped. A word that only the running shell
can know (``$X``, ``r${X}m``, ``$(…)``, a glob, a brace expansion) stays
unknown, and matching treats it as "could be anything".

``NAME=value`` before a command stays one of its words, so only a rule that
names the assignment allows it. What a prefix rule cannot speak for is listed
as a *concern* (a shell variable set, a substitution, ``eval``, ``sh -c``, a
pipe into an interpreter, a redirection outside the workspace); what cannot be resolved at all (a parse
error, a command name known only at run time, code passed inline to an
interpreter) is *unresolved*. This is a guard against mistakes and hostile
text, not a sandbox: a script the command runs can still do anything.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

Word = str | None  # None: known only when the shell runs

MAX_DEPTH = 8  # sh -c "sh -c \"…\"": past this, unresolved
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "busybox"})
# interpreters whose program can come inline (flag) or from standard input
INLINE_CODE_FLAGS: dict[str, frozenset[str]] = {
    "python": frozenset({"-c"}),
    "perl": frozenset({"-e", "-E"}),
    "ruby": frozenset({"-e"}),
    "node": frozenset({"-e", "-p", "--eval", "--print"}),
    "nodejs": frozenset({"-e", "-p", "--eval", "--print"}),
    "deno": frozenset({"eval"}),
    "bun": frozenset({"-e", "--eval"}),
    "php": frozenset({"-r"}),
    "lua": frozenset({"-e"}),
    "Rscript": frozenset({"-e"}),
    "osascript": frozenset({"-e"}),
    "pwsh": frozenset({"-c", "-Command"}),
}
# where a redirection may write without concern
_HARMLESS_TARGETS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})
_WRITE_OPERATORS = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&", "&>|"})
_GLOB_CHARS = frozenset("*?[")
_CHANGES_DIRECTORY = frozenset({"cd", "pushd", "popd"})


@dataclass(frozen=True)
class Words:
    """One way of reading a simple command: its words, maybe followed by more known only at run time."""

    words: tuple[Word, ...]
    open_ended: bool = False  # xargs and find -exec … + append words when they run


@dataclass(frozen=True)
class SimpleCommand:
    """A simple command, with what its wrappers run.

    ``layers[0]`` is the command as written (with its ``NAME=value`` prefixes
    as words); later layers are what it runs: without the prefixes, then past
    each wrapper. Deny and ask rules look at every layer; an allow rule may
    speak for the first ``allowable`` ones (a transparent wrapper like
    ``nohup`` or ``timeout`` does not change what runs, ``sudo`` and ``env`` do).
    """

    layers: tuple[Words, ...]
    allowable: int = 1


@dataclass(frozen=True)
class RedirectTarget:
    """A file a redirection writes: workspace-relative when inside it, else None with the reason."""

    written: str
    inside: str | None


@dataclass(frozen=True)
class ShellAnalysis:
    commands: tuple[SimpleCommand, ...]
    concerns: tuple[str, ...]  # why no prefix rule can allow the line
    unresolved: tuple[str, ...]  # why parts of it cannot be known before it runs
    writes: tuple[RedirectTarget, ...]  # files its redirections write inside the workspace


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bash.language()))


@lru_cache(maxsize=1024)
def _cached(command: str, workspace: str | None) -> ShellAnalysis:
    walker = _Walker(Path(workspace) if workspace is not None else None)
    walker.line(command, depth=0)
    return walker.result()


def analyse(command: str, workspace: Path | None = None) -> ShellAnalysis:
    """The simple commands ``command`` would run, and what about it no rule can see into."""
    return _cached(command, str(workspace) if workspace is not None else None)


# --- matching ----------------------------------------------------------------------------------


def definitely_matches(pattern: tuple[str, ...], prefix: bool, words: Words) -> bool:
    """Whether every run of ``words`` matches: each pattern word is there, known, in order."""
    if len(words.words) < len(pattern) or any(word is None for word in words.words[: len(pattern)]):
        return False
    if tuple(words.words[: len(pattern)]) != pattern:
        return False
    return prefix or (len(words.words) == len(pattern) and not words.open_ended)


def could_match(pattern: tuple[str, ...], prefix: bool, words: Words) -> bool:
    """Whether some run of ``words`` could match: an unknown word may stand for any words, or none."""
    for index, expected in enumerate(pattern):
        if index >= len(words.words):
            return words.open_ended
        word = words.words[index]
        if word is None:
            return True
        if word != expected:
            return False
    rest = words.words[len(pattern) :]
    return prefix or words.open_ended or all(word is None for word in rest)


def by_name(words: Words) -> Words:
    """``/bin/rm -rf x`` read as ``rm -rf x``: how deny rules see a program given by its path."""
    name = words.words[0] if words.words else None
    if name is None or "/" not in name:
        return words
    return Words((posixpath.basename(name), *words.words[1:]), words.open_ended)


# --- the walk ----------------------------------------------------------------------------------


@dataclass
class _Walker:
    workspace: Path | None
    commands: list[SimpleCommand] = field(default_factory=list)
    concerns: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    writes: list[RedirectTarget] = field(default_factory=list)
    changes_directory: bool = False

    def result(self) -> ShellAnalysis:
        return ShellAnalysis(
            commands=tuple(self.commands),
            concerns=tuple(dict.fromkeys(self.concerns)),
            unresolved=tuple(dict.fromkeys(self.unresolved)),
            writes=tuple(self.writes),
        )

    def concern(self, reason: str) -> None:
        self.concerns.append(reason)

    def unknown(self, reason: str) -> None:
        self.unresolved.append(reason)
        self.concerns.append(reason)

    def line(self, text: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.unknown("commands nested too deeply to follow")
            return
        if "\0" in text:
            self.unknown("a NUL byte in the command")
            return
        tree = _parser().parse(text.encode("utf-8", errors="surrogateescape"))
        self.walk(tree.root_node, depth)

    def walk(self, node: Node, depth: int) -> None:
        kind = node.type
        if node.is_missing or kind == "ERROR":
            self.unknown("part of the command cannot be parsed")
        if kind == "command":
            self.command(node, depth)
        elif kind == "redirected_statement":
            self.redirected(node, depth)
        elif kind == "pipeline":
            self.pipeline(node, depth)
        elif kind == "variable_assignment":
            self.concern("it sets a shell variable (which may be an exported one)")
            self.walk_children(node, depth)
        elif kind == "declaration_command":
            self.concern(f"it sets variables with {node.children[0].type}")
            self.walk_children(node, depth)
        elif kind in ("command_substitution", "process_substitution"):
            self.concern("command substitution" if kind == "command_substitution" else "process substitution")
            self.walk_children(node, depth)
        elif kind in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
            self.redirect(node, depth)
        else:
            self.walk_children(node, depth)

    def walk_children(self, node: Node, depth: int) -> None:
        for child in node.children:
            self.walk(child, depth)

    # -- statements

    def redirected(self, node: Node, depth: int) -> None:
        body = node.child_by_field_name("body")
        redirects = node.children_by_field_name("redirect")
        if body is not None and body.type == "command":
            extra: list[Word] = []
            for child in redirects:
                extra += self.redirect(child, depth)
            self.command(body, depth, extra)
            return
        if body is not None:  # a list or a compound command: a cd in it moves where the redirection lands
            self.walk(body, depth)
        for child in redirects:
            if self.redirect(child, depth):
                self.unknown("words after a redirection of a compound command")

    def pipeline(self, node: Node, depth: int) -> None:
        stages = [child for child in node.children if child.is_named]
        for index, stage in enumerate(stages):
            before = len(self.commands)
            self.walk(stage, depth)
            if index > 0 and before < len(self.commands) and _reads_program_from_stdin(self.commands[before]):
                self.unknown("it pipes into an interpreter, which runs code only known at run time")

    def command(self, node: Node, depth: int, extra: list[Word] | None = None) -> None:
        assignments: list[Word] = []
        words: list[Word] = []
        for child in node.children:
            name = _field(node, child)
            if child.type == "variable_assignment":
                assignments.append(self.word(child, depth))
            elif name == "redirect" or child.type.endswith("_redirect"):
                words += self.redirect(child, depth)
            elif child.is_named:
                words.append(self.word(child, depth))
        words += extra or []
        if not words:
            return
        written = Words(tuple(assignments + words))
        layers = [written] if not assignments else [written, Words(tuple(words))]
        allowable = 1
        position = len(self.commands)  # before what sh -c or eval inside it add
        more, transparent, nested = self.unwrap(Words(tuple(words)), depth)
        if not assignments:
            allowable += transparent
        layers += more
        self.commands.insert(position, SimpleCommand(layers=tuple(layers), allowable=allowable))
        self.commands += [SimpleCommand(layers=(inner,)) for inner in nested]

    def redirect(self, node: Node, depth: int) -> list[Word]:
        """Note where a redirection writes; returns words the grammar put after its target (arguments)."""
        if node.type != "file_redirect":
            self.walk_children(node, depth)  # a here-document's substitutions run
            return []
        operator = next((c.type for c in node.children if not c.is_named), "")
        targets = node.children_by_field_name("destination")
        if not targets:
            return []
        target = self.word(targets[0], depth)
        extra = [self.word(t, depth) for t in targets[1:]]
        if operator in _WRITE_OPERATORS:
            self.write_to(target, operator)
        return extra

    def write_to(self, target: Word, operator: str) -> None:
        if target is None:
            self.concern("a redirection to a file known only at run time")
            return
        if operator in (">&", "<>") and (target.isdigit() or target == "-"):
            return
        if target in _HARMLESS_TARGETS or target.startswith("/dev/fd/"):
            return
        inside = self.inside_workspace(target)
        if inside is None and self.changes_directory and not posixpath.isabs(target):
            self.concern(f"a redirection writes {target} after a cd, somewhere known only at run time")
        elif inside is None:
            self.concern(f"a redirection writes {target}, outside the workspace")
        else:
            self.writes.append(RedirectTarget(written=target, inside=inside))

    def inside_workspace(self, target: str) -> str | None:
        if target.startswith("~"):
            return None
        if not posixpath.isabs(target) and self.changes_directory:
            return None
        if self.workspace is None:
            relative = posixpath.normpath(target)
            return None if posixpath.isabs(relative) or relative.split("/")[0] == ".." else relative
        root = Path(os.path.realpath(self.workspace))
        real = Path(os.path.realpath(os.path.join(root, target)))
        return real.relative_to(root).as_posix() if real.is_relative_to(root) else None

    # -- words

    def word(self, node: Node, depth: int) -> Word:
        """The word as the shell passes it on, or None when only the running shell can know it."""
        kind = node.type
        text = node.text.decode("utf-8", errors="surrogateescape") if node.text is not None else ""
        if kind == "command_name":
            return self.word(node.children[0], depth) if node.children else None
        if kind == "word":
            return _unquoted(text)
        if kind == "number":
            return text
        if kind == "raw_string":
            return text[1:-1]
        if kind == "ansi_c_string":
            return decode_ansi_c(text[2:-1])
        if kind == "string":
            return self.joined([c for c in node.children if c.type not in ('"',)], depth, in_quotes=True)
        if kind == "concatenation":
            parts = list(node.children)
            if any(part.type == "word" and part.text in (b"{", b"}") for part in parts):
                self.walk_children(node, depth)
                return None  # a brace expansion
            return self.joined(parts, depth, in_quotes=False)
        if kind == "variable_assignment":
            name = node.child_by_field_name("name")
            value = node.child_by_field_name("value")
            known = self.word(value, depth) if value is not None else ""
            if name is None or known is None:
                return None
            return f"{name.text.decode()}={known}"  # type: ignore[union-attr]
        # an expansion, a substitution, arithmetic: only the running shell knows it
        self.walk(node, depth)
        return None

    def joined(self, parts: list[Node], depth: int, *, in_quotes: bool) -> Word:
        pieces: list[str] = []
        known = True
        for part in parts:
            if part.type == "string_content" and in_quotes:
                pieces.append(_unescape_double_quoted(part.text.decode("utf-8", errors="surrogateescape")))  # type: ignore[union-attr]
                continue
            value = self.word(part, depth)
            if value is None:
                known = False
            else:
                pieces.append(value)
        return "".join(pieces) if known else None

    # -- wrappers

    def unwrap(self, words: Words, depth: int) -> tuple[list[Words], int, list[Words]]:
        """What ``words`` runs past its wrappers: (more layers, how many are transparent, separate commands)."""
        layers: list[Words] = []
        nested: list[Words] = []
        transparent = 0
        still_transparent = True
        current = words
        for _ in range(MAX_DEPTH):
            name = current.words[0] if current.words else ""
            if name is None:
                self.unknown("the command's name is known only at run time")
                break
            program = posixpath.basename(name)
            if program in _CHANGES_DIRECTORY:
                self.changes_directory = True
            step = self.peel(program, current, depth, nested)
            if step is None:
                break
            inner, is_transparent = step
            if inner is None:
                break
            layers.append(inner)
            still_transparent = still_transparent and is_transparent
            transparent += still_transparent
            current = inner
        return layers, transparent, nested

    def peel(self, program: str, words: Words, depth: int, nested: list[Words]) -> tuple[Words | None, bool] | None:
        """One wrapper off: (what it runs, whether it is transparent); None when ``program`` wraps nothing."""
        args = words.words[1:]
        if program in _WRAPPERS:
            spec = _WRAPPERS[program]
            start = spec.skip(args)
            if start is None:
                self.unknown(f"cannot tell which command {program} runs")
                return None
            if program == "env":  # NAME=value words: env is not transparent, so only a rule naming them allows them
                while start < len(args) and args[start] is not None and "=" in (args[start] or ""):
                    start += 1
            if program == "command" and any(a in ("-v", "-V") for a in args[:start]):
                return None  # only looks the name up
            if start >= len(args):
                return None
            return Words(tuple(args[start:]), words.open_ended or spec.open_ended), spec.transparent
        if program == "xargs":
            start = _XARGS.skip(args)
            if start is None:
                self.unknown("cannot tell which command xargs runs")
                return None
            inner = tuple(args[start:]) or ("echo",)
            return Words(inner, open_ended=True), False
        if program == "find":
            nested += _find_exec(args)
            return None
        if program in SHELLS:
            self.shell_string(program, args, depth)
            return None
        if program == "eval":
            if any(arg is None for arg in args):
                self.unknown("eval of text known only at run time")
            else:
                self.concern("eval")
                self.line(" ".join(arg or "" for arg in args), depth + 1)
            return None
        interpreter = _interpreter(program)
        if interpreter is not None and any(arg in INLINE_CODE_FLAGS[interpreter] for arg in args):
            self.unknown(f"{program} runs code given inline, which no rule can read")
        return None

    def shell_string(self, program: str, args: tuple[Word, ...], depth: int) -> None:
        """``sh -c 'string'``: the string is a command line of its own."""
        for index, arg in enumerate(args):
            if arg is None:
                if any(a is not None and a.startswith("-") and "c" in a for a in args[:index]):
                    self.unknown(f"{program} -c runs text known only at run time")
                return
            if arg == "--" or not arg.startswith(("-", "+")):
                return  # a script file
            if "c" in arg[1:] and not arg.startswith("--"):
                script = args[index + 1] if index + 1 < len(args) else ""
                if script is None:
                    self.unknown(f"{program} -c runs text known only at run time")
                else:
                    self.concern(f"{program} -c")
                    self.line(script, depth + 1)
                return


def _field(parent: Node, child: Node) -> str | None:
    for index, candidate in enumerate(parent.children):
        if candidate == child:
            return parent.field_name_for_child(index)
    return None


def _interpreter(program: str) -> str | None:
    """The interpreter's family name: ``python3.12`` is ``python``."""
    if program in INLINE_CODE_FLAGS:
        return program
    stem = program.rstrip("0123456789.")
    return stem if stem in INLINE_CODE_FLAGS else None


def _reads_program_from_stdin(command: SimpleCommand) -> bool:
    """A shell or interpreter given no program: it runs what arrives on standard input."""
    last = command.layers[-1].words
    name = last[0] if last else None
    if name is None:
        return True
    program = posixpath.basename(name)
    if program not in SHELLS and _interpreter(program) is None:
        return False
    operands = [arg for arg in last[1:] if arg is None or not arg.startswith("-") or arg == "-"]
    return not operands or operands[0] in ("-", None) or "-s" in last[1:]


def _find_exec(args: tuple[Word, ...]) -> list[Words]:
    """The commands of ``find … -exec cmd {} ;`` (and -execdir, -ok, -okdir)."""
    found: list[Words] = []
    index = 0
    while index < len(args):
        if args[index] in ("-exec", "-execdir", "-ok", "-okdir"):
            end = index + 1
            while end < len(args) and args[end] not in (";", "+"):
                end += 1
            words = tuple(None if arg is not None and "{}" in arg else arg for arg in args[index + 1 : end])
            if words:
                found.append(Words(words, open_ended=end < len(args) and args[end] == "+"))
            index = end
        index += 1
    return found


@dataclass(frozen=True)
class _WrapperSpec:
    """How to find the command a wrapper runs: options (with or without a value), then positionals."""

    with_value: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    positionals: int = 0  # timeout's duration
    transparent: bool = True
    open_ended: bool = False
    numeric_flags: bool = False  # nice -5

    def skip(self, args: tuple[Word, ...]) -> int | None:
        """The index of the wrapped command's name in ``args``; None when an option is not understood."""
        index = 0
        while index < len(args):
            arg = args[index]
            if arg is None:
                return None
            if arg == "--":
                index += 1
                break
            if not arg.startswith("-") or arg == "-":
                break
            option = arg.split("=", 1)[0]
            if option in self.with_value:
                index += 1 if "=" in arg and option.startswith("--") else 2
            elif option in self.flags or (self.numeric_flags and arg[1:].isdigit()):
                index += 1
            elif len(arg) > 2 and not arg.startswith("--") and arg[:2] in self.with_value:
                index += 1  # -n10
            elif not arg.startswith("--") and all(f"-{c}" in self.flags for c in arg[1:]):
                index += 1  # -Eu combined flags
            else:
                return None
        index += self.positionals
        return index if index <= len(args) else None


_WRAPPERS: dict[str, _WrapperSpec] = {
    "nohup": _WrapperSpec(),
    "time": _WrapperSpec(
        flags=frozenset({"-p", "-a", "-v", "--verbose", "--portability", "--append"}),
        with_value=frozenset({"-f", "-o", "--format", "--output"}),
    ),  # fmt: skip
    "nice": _WrapperSpec(with_value=frozenset({"-n", "--adjustment"}), numeric_flags=True),
    "timeout": _WrapperSpec(
        with_value=frozenset({"-k", "-s", "--kill-after", "--signal"}),
        flags=frozenset({"--foreground", "--preserve-status", "-v", "--verbose", "-f", "-p"}),
        positionals=1,
    ),
    "stdbuf": _WrapperSpec(with_value=frozenset({"-i", "-o", "-e", "--input", "--output", "--error"})),
    "ionice": _WrapperSpec(with_value=frozenset({"-c", "-n", "--class", "--classdata"}), flags=frozenset({"-t"})),
    "setsid": _WrapperSpec(flags=frozenset({"-c", "-f", "-w", "--ctty", "--fork", "--wait"})),
    "exec": _WrapperSpec(with_value=frozenset({"-a"}), flags=frozenset({"-c", "-l"})),
    "command": _WrapperSpec(flags=frozenset({"-p", "-v", "-V"})),
    "builtin": _WrapperSpec(),
    "sudo": _WrapperSpec(
        with_value=frozenset(
            {
                "-u",
                "-g",
                "-h",
                "-p",
                "-C",
                "-D",
                "-r",
                "-t",
                "-U",
                "-T",
                "-R",
                "--user",
                "--group",
                "--host",
                "--prompt",
                "--close-from",
                "--chdir",
                "--role",
                "--type",
                "--other-user",
                "--command-timeout",
                "--chroot",
            }
        ),
        flags=frozenset(
            {
                "-E",
                "-H",
                "-n",
                "-S",
                "-b",
                "-k",
                "-P",
                "-A",
                "-B",
                "-N",
                "-i",
                "-s",
                "--preserve-env",
                "--set-home",
                "--non-interactive",
                "--stdin",
                "--background",
                "--reset-timestamp",
                "--preserve-groups",
                "--askpass",
                "--bell",
                "--login",
                "--shell",
            }
        ),
        transparent=False,
    ),  # fmt: skip
    "doas": _WrapperSpec(with_value=frozenset({"-u", "-C"}), flags=frozenset({"-n", "-s"}), transparent=False),
    "env": _WrapperSpec(
        with_value=frozenset({"-u", "-C", "--unset", "--chdir"}),
        flags=frozenset({"-i", "-0", "-v", "--ignore-environment", "--null", "--debug"}),
        transparent=False,
    ),
    "chronic": _WrapperSpec(flags=frozenset({"-e", "-v"})),
}
_XARGS = _WrapperSpec(
    with_value=frozenset({"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter", "--eof",
                          "--replace", "--max-lines", "--max-args", "--max-procs", "--max-chars",
                          "--process-slot-var"}),
    flags=frozenset({"-0", "-o", "-p", "-r", "-t", "-x", "-e", "-i", "-l", "--null", "--interactive",
                     "--no-run-if-empty", "--verbose", "--exit", "--open-tty", "--show-limits"}),
    transparent=False,
)  # fmt: skip


# --- quoting -----------------------------------------------------------------------------------


def _unquoted(text: str) -> Word:
    """An unquoted word after backslash removal; None when it holds a glob the shell would expand."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            if text[index + 1] != "\n":
                out.append(text[index + 1])
            index += 2
            continue
        if char in _GLOB_CHARS:
            return None
        out.append(char)
        index += 1
    return "".join(out)


def _unescape_double_quoted(text: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in '$`"\\\n':
            if text[index + 1] != "\n":
                out.append(text[index + 1])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "?": "?",
}  # fmt: skip
_HEX = frozenset("0123456789abcdefABCDEF")


def decode_ansi_c(body: str) -> str:
    """The text of ``$'…'`` as bash decodes it (``\\x72m`` is ``rm``)."""
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\" or index + 1 >= len(body):
            out.append(char)
            index += 1
            continue
        kind = body[index + 1]
        index += 2
        if kind in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[kind])
        elif kind in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[kind]
            digits = ""
            while index < len(body) and len(digits) < width and body[index] in _HEX:
                digits += body[index]
                index += 1
            out.append(chr(int(digits, 16)) if digits and int(digits, 16) < 0x110000 else "\\" + kind + digits)
        elif kind in "01234567":
            digits = kind
            while index < len(body) and len(digits) < 3 and body[index] in "01234567":
                digits += body[index]
                index += 1
            out.append(chr(int(digits, 8) & 0xFF))
        elif kind == "c" and index < len(body):
            out.append(chr(ord(body[index]) & 0x1F))
            index += 1
        else:
            out.append("\\" + kind)
    return "".join(out)
