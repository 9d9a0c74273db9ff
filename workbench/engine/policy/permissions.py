"""The permission policy: whether a tool call runs, asks a human first, or is refused.

Rules use the syntax of Claude Code settings: ``Bash``, ``Bash(git status:*)``
(that command, alone or followed by anything), ``Bash(npm run test)`` (exactly
that), ``Edit(src/**)``, ``Read(./docs/*.md)``, ``mcp__server``,
``mcp__server__tool``, ``mcp__server__*``. Paths are workspace-relative,
gitignore-style globs. Deny rules win over ask rules, ask rules over allow
rules; a call no rule matches is decided by the mode.

Bash rules look at each simple command of a compound line (``a && b``, ``a | b``,
``a; b``): a deny or ask rule matching any part applies, and an allow rule
applies only when every part is allowed, so ``Bash(git status:*)`` does not
allow ``git status && rm -rf x``. This is a guard against mistakes, not a
sandbox: ``bash -c '...'``, ``xargs``, ``find -exec`` and the like are not seen into.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from workbench.protocol.modes import PermissionMode, RuleList

# the tools (and through them the brains' and content models) load only when a call is judged:
# the config, which validates rules with this module, must stay cheap to import
if TYPE_CHECKING:
    from workbench.tools.base import Tool, ToolKind

# the mode-cycling key's order; bypass is only ever set explicitly
MODE_CYCLE: tuple[PermissionMode, ...] = ("default", "acceptEdits", "plan")

Verdict = Literal["allow", "ask", "deny"]

# a rule naming the key also governs these tools, as in Claude Code
RULE_COVERS: dict[str, frozenset[str]] = {
    "Edit": frozenset({"Edit", "Write"}),
    "Read": frozenset({"Read", "Glob", "Grep"}),
}
# "allow always" for these tools suggests a rule in the covering tool's name
_SUGGEST_AS = {"Write": "Edit", "Glob": "Read", "Grep": "Read"}
# tools whose subject is a folder to search
_FOLDER_TOOLS = frozenset({"Glob", "Grep"})


def next_mode(mode: PermissionMode) -> PermissionMode:
    """The mode after ``mode`` in the cycle; from bypass, back to default."""
    if mode not in MODE_CYCLE:
        return "default"
    return MODE_CYCLE[(MODE_CYCLE.index(mode) + 1) % len(MODE_CYCLE)]


class PermissionRuleError(ValueError):
    """A permission rule that cannot be parsed; the message says what is wrong."""


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True)

    tool: str
    specifier: str | None = None

    @classmethod
    def parse(cls, text: str) -> Rule:
        text = text.strip()
        if not text:
            raise PermissionRuleError("Empty permission rule")
        found = _RULE_SHAPE.fullmatch(text)
        if found is None:
            raise PermissionRuleError(
                f"Malformed permission rule {text!r}: expected Tool or Tool(specifier), "
                "e.g. Bash(git status:*) or Edit(src/**)"
            )
        tool, specifier = found["tool"], found["spec"]
        _check_tool_name(text, tool)
        if specifier is not None:
            specifier = specifier.strip()
            if not specifier:
                raise PermissionRuleError(f"Empty parentheses in {text!r}: write {tool} to match every call")
            if tool.startswith("mcp__"):
                raise PermissionRuleError(
                    f"MCP rules take no parentheses ({text!r}): write mcp__server, mcp__server__tool or mcp__server__*"
                )
            if tool == "Bash":
                _check_bash_specifier(text, specifier)
            else:
                _check_path_specifier(text, specifier)
        return cls(tool=tool, specifier=specifier)

    @property
    def text(self) -> str:
        return self.tool if self.specifier is None else f"{self.tool}({self.specifier})"

    def covers(self, tool_name: str) -> bool:
        """Whether this rule is about ``tool_name`` at all (ignoring the specifier)."""
        if tool_name == self.tool or tool_name in RULE_COVERS.get(self.tool, ()):
            return True
        if self.tool.endswith("__*"):
            return tool_name.startswith(self.tool[:-1])
        # mcp__server names a whole server
        return self.tool.startswith("mcp__") and self.tool.count("__") == 1 and tool_name.startswith(self.tool + "__")

    def matches(self, call: _Call) -> bool:
        """Whether the rule applies to any part of the call (how deny and ask rules apply)."""
        if not self.covers(call.tool):
            return False
        if self.specifier is None:
            return True
        if call.shell is not None:
            return _bash_pattern(self.specifier).hits(call.subject or "", call.shell)
        return any(_path_regex(self.specifier).fullmatch(path) for path in call.paths)

    def allows(self, call: _Call) -> bool:
        """Whether the rule alone covers the whole call (how allow rules apply)."""
        if not self.covers(call.tool):
            return False
        if self.specifier is None:
            return True
        if call.shell is not None:
            return _bash_pattern(self.specifier).allows(call.subject or "", call.shell)
        return bool(call.paths) and all(_path_regex(self.specifier).fullmatch(path) for path in call.paths)

    def __str__(self) -> str:
        return self.text


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    rule: str | None = None
    source: Literal["rule", "mode"]
    reason: str


class ApprovalRequest(BaseModel):
    """What a human is asked about a tool call."""

    agent_id: str
    tool: str
    input: dict[str, Any]
    subject: str | None = None
    preview: str | None = None  # a unified diff, for Write and Edit
    suggested_rule: str


class ApprovalAnswer(BaseModel):
    choice: Literal["allow_once", "allow_always", "deny"]
    reason: str | None = None


Approver = Callable[[ApprovalRequest], Awaitable[ApprovalAnswer]]


class PermissionPolicy:
    """The mode and the allow, ask and deny rules; ``decide`` rules on one tool call.

    With a ``workspace``, path subjects are compared both as given and with
    symlinks resolved (a deny rule on ``secrets/**`` also stops ``link-to-secrets``),
    and absolute paths inside the workspace are made relative.
    """

    def __init__(
        self,
        mode: PermissionMode = "default",
        allow: Iterable[str | Rule] = (),
        ask: Iterable[str | Rule] = (),
        deny: Iterable[str | Rule] = (),
        workspace: Path | None = None,
    ) -> None:
        self.mode: PermissionMode = mode
        self.workspace = workspace
        self.allow: list[Rule] = [_as_rule(rule) for rule in allow]
        self.ask: list[Rule] = [_as_rule(rule) for rule in ask]
        self.deny: list[Rule] = [_as_rule(rule) for rule in deny]

    def add_rule(self, list_name: RuleList, text: str) -> Rule:
        rules = {"allow": self.allow, "ask": self.ask, "deny": self.deny}.get(list_name)
        if rules is None:
            raise ValueError(f"No rule list named {list_name!r}; use allow, ask or deny")
        rule = Rule.parse(text)
        if rule not in rules:
            rules.append(rule)
        return rule

    def decide(self, tool: Tool[Any], params: BaseModel) -> Decision:
        call = self._call(tool, params)
        denying = next((rule for rule in self.deny if rule.matches(call)), None)
        if denying is not None:
            return Decision(verdict="deny", rule=denying.text, source="rule", reason=f"Denied by the rule {denying}")
        if self.mode == "plan" and tool.kind in ("write", "exec"):
            action = "changing files" if tool.kind == "write" else "running commands"
            return Decision(
                verdict="deny",
                source="mode",
                reason=f"Plan mode forbids {action} ({tool.name}); leave plan mode to carry out the plan",
            )
        if self.mode != "bypass":
            asking = next((rule for rule in self.ask if rule.matches(call)), None)
            if asking is not None:
                return Decision(verdict="ask", rule=asking.text, source="rule", reason=f"The rule {asking} asks first")
        allowing = self._allowing(call)
        if allowing:
            text = ", ".join(rule.text for rule in allowing)
            noun = "rule" if len(allowing) == 1 else "rules"
            return Decision(verdict="allow", rule=text, source="rule", reason=f"Allowed by the {noun} {text}")
        return self._by_mode(tool.kind)

    def suggest_rule(self, tool: Tool[Any], params: BaseModel) -> str:
        """The rule "allow always" adds for this call."""
        subject = tool.subject(params)
        if subject is None:
            return tool.name
        if tool.name == "Bash":
            return _suggest_bash(subject)
        name = _SUGGEST_AS.get(tool.name, tool.name)
        path = self._path_subjects(subject)[0]
        if tool.name in _FOLDER_TOOLS:
            return name if path == "." else f"{name}({_escape_glob(path)}/**)"
        # a pattern without a slash would match that name in every folder
        return f"{name}({'' if '/' in path else './'}{_escape_glob(path)})"

    def _allowing(self, call: _Call) -> list[Rule]:
        whole = next((rule for rule in self.allow if rule.allows(call)), None)
        if whole is not None:
            return [whole]
        shell = call.shell
        if shell is None or shell.opaque or not shell.parts:
            return []
        # a compound command is allowed when each part is, maybe by different rules
        used: list[Rule] = []
        for words in shell.parts:
            rule = next((r for r in self.allow if _allows_part(r, call.tool, words)), None)
            if rule is None:
                return []
            if rule not in used:
                used.append(rule)
        return used

    def _by_mode(self, kind: ToolKind) -> Decision:
        if kind in ("read", "agent", "interaction") or self.mode == "bypass":
            return Decision(verdict="allow", source="mode", reason=f"{self.mode} mode allows {kind} tools")
        if kind == "write" and self.mode == "acceptEdits":
            return Decision(verdict="allow", source="mode", reason="acceptEdits mode allows changing files")
        action = "changing files" if kind == "write" else "running commands"
        return Decision(verdict="ask", source="mode", reason=f"{self.mode} mode asks before {action}")

    def _call(self, tool: Tool[Any], params: BaseModel) -> _Call:
        subject = tool.subject(params)
        if tool.name == "Bash":
            return _Call(tool.name, subject, (), _analyse(subject or ""))
        paths = self._path_subjects(subject) if subject is not None else ()
        return _Call(tool.name, subject, tuple(paths), None)

    def _path_subjects(self, subject: str) -> list[str]:
        """The subject as rules see it: normalised and workspace-relative; then, if different, symlinks resolved."""
        literal = posixpath.normpath(subject or ".")
        if self.workspace is None:
            return [literal]
        if posixpath.isabs(literal):
            for root in (self.workspace.absolute(), self.workspace.resolve()):
                if Path(literal).is_relative_to(root):
                    literal = Path(literal).relative_to(root).as_posix()
                    break
        from workbench.tools.base import ToolFailure
        from workbench.tools.sandbox import resolve_in_workspace, workspace_relative

        subjects = [literal]
        try:
            real = workspace_relative(self.workspace, resolve_in_workspace(self.workspace, subject))
        except ToolFailure:  # outside the workspace: the tool itself will refuse
            return subjects
        if real != literal:
            subjects.append(real)
        return subjects


@dataclass(frozen=True)
class _Call:
    """One tool call as rules see it."""

    tool: str
    subject: str | None
    paths: tuple[str, ...]
    shell: _Shell | None  # set for Bash calls


# --- rule syntax ---------------------------------------------------------------------------

_RULE_SHAPE = re.compile(r"(?P<tool>[^\s()]+)(?:\((?P<spec>.*)\))?", re.DOTALL)
_TOOL_NAME = re.compile(r"[A-Za-z_][\w-]*")
_MCP_WILDCARD = re.compile(r"mcp__[\w-]+?__\*")


def _as_rule(rule: str | Rule) -> Rule:
    return rule if isinstance(rule, Rule) else Rule.parse(rule)


def _check_tool_name(text: str, tool: str) -> None:
    if _TOOL_NAME.fullmatch(tool) or _MCP_WILDCARD.fullmatch(tool):
        return
    if "*" in tool:
        raise PermissionRuleError(f"Bad wildcard in {text!r}: `*` is only allowed as mcp__server__*")
    raise PermissionRuleError(f"Bad tool name {tool!r} in {text!r}")


def _check_bash_specifier(text: str, specifier: str) -> None:
    command = specifier.removesuffix(":*").strip()
    if not command:
        raise PermissionRuleError(f"{text!r} has an empty command prefix")
    if "*" in command:
        raise PermissionRuleError(
            f"{text!r}: Bash rules take no wildcards except a trailing ':*', as in Bash(npm run test:*)"
        )
    try:
        shlex.split(command)
    except ValueError as exc:
        raise PermissionRuleError(f"{text!r}: {exc}") from exc


def _check_path_specifier(text: str, specifier: str) -> None:
    if specifier.startswith(("~", "//")):
        raise PermissionRuleError(f"{text!r}: paths in rules are relative to the workspace")
    if ".." in specifier.split("/"):
        raise PermissionRuleError(f"{text!r}: a rule's path must not leave the workspace with '..'")


@lru_cache(maxsize=512)
def _path_regex(specifier: str) -> re.Pattern[str]:
    """gitignore semantics: './x' and '/x' are anchored at the workspace root; 'x' (no slash) matches at any depth."""
    from workbench.tools.glob import compile_glob

    anchored = specifier.startswith(("/", "./"))
    pattern = specifier.removeprefix("./").lstrip("/")
    anywhere = not anchored and "/" not in pattern.rstrip("/")
    if pattern.endswith("/"):
        pattern += "**"
    return compile_glob(pattern, anywhere=anywhere)


def _escape_glob(path: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", path)


# --- shell commands ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Shell:
    """A command line split into the words of its simple commands."""

    parts: tuple[tuple[str, ...], ...]
    # some of it cannot be checked part by part: a command substitution, a write
    # through a redirection, or quoting the split cannot follow
    opaque: bool


_CONTROL = frozenset("();|&\n")
_REDIRECTION = frozenset("<>&|")
# words that open or close a compound command rather than name a program
_SHELL_KEYWORDS = frozenset({"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time"})
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=")
_HARMLESS_TARGET = re.compile(r"/dev/null|\d+|-")


def _analyse(command: str) -> _Shell:
    lexer = shlex.shlex(command, posix=True, punctuation_chars="();<>|&\n")
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = ""  # a '#' inside a word must not hide what follows
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes
        return _Shell(parts=(), opaque=True)
    opaque = any(marker in command for marker in ("`", "$(", "<(", ">("))
    parts: list[tuple[str, ...]] = []
    words: list[str] = []
    tokens.reverse()
    while tokens:
        token = tokens.pop()
        if set(token) <= _REDIRECTION and ("<" in token or ">" in token):
            target = tokens.pop() if tokens else ""
            if ">" in token and not _HARMLESS_TARGET.fullmatch(target):
                opaque = True
        elif set(token) <= _CONTROL:
            parts.append(_command_words(words))
            words = []
        else:
            words.append(token)
    parts.append(_command_words(words))
    return _Shell(parts=tuple(part for part in parts if part), opaque=opaque)


def _command_words(words: list[str]) -> tuple[str, ...]:
    """The words naming the program and its arguments, without leading keywords and VAR=value."""
    start = 0
    while start < len(words) and (words[start] in _SHELL_KEYWORDS or _ASSIGNMENT.match(words[start])):
        start += 1
    return tuple(words[start:])


@dataclass(frozen=True)
class _BashPattern:
    specifier: str
    words: tuple[str, ...]
    prefix: bool

    def matches_part(self, words: tuple[str, ...]) -> bool:
        if self.prefix:
            return words[: len(self.words)] == self.words
        return words == self.words

    def hits(self, command: str, shell: _Shell) -> bool:
        if command.strip() == self.specifier or any(self.matches_part(part) for part in shell.parts):
            return True
        # what the split cannot see into, search as text (erring towards a match)
        return shell.opaque and self._loose.search(command) is not None

    def allows(self, command: str, shell: _Shell) -> bool:
        if not self.prefix and command.strip() == self.specifier:
            return True
        return not shell.opaque and bool(shell.parts) and all(self.matches_part(part) for part in shell.parts)

    @property
    def _loose(self) -> re.Pattern[str]:
        words = r"\s+".join(re.escape(word) for word in self.words)
        return re.compile(rf"(?:^|[\s;&|(`$]){words}(?=$|[\s;&|)`])")


@lru_cache(maxsize=512)
def _bash_pattern(specifier: str) -> _BashPattern:
    prefix = specifier.endswith(":*")
    command = specifier.removesuffix(":*").strip()
    return _BashPattern(specifier=command, words=tuple(shlex.split(command)), prefix=prefix)


def _allows_part(rule: Rule, tool: str, words: tuple[str, ...]) -> bool:
    if not rule.covers(tool):
        return False
    return rule.specifier is None or _bash_pattern(rule.specifier).matches_part(words)


_SUBCOMMAND = re.compile(r"[a-z][a-z0-9_-]*")


def _suggest_bash(command: str) -> str:
    """``Bash(git status:*)`` from the program and its subcommand words; a compound line exactly."""
    shell = _analyse(command)
    if shell.opaque or len(shell.parts) != 1:
        return f"Bash({command.strip()})" if command.strip() else "Bash"
    words = shell.parts[0]
    prefix = [words[0]]
    rest = list(words[1:])
    while rest and len(prefix) < 3:
        if len(prefix) == 1 and rest[0] == "-m" and len(rest) > 1:  # python -m pytest
            prefix += rest[:2]
            break
        if not _SUBCOMMAND.fullmatch(rest[0]) or (len(prefix) == 2 and prefix[1] != "run"):
            break
        prefix.append(rest.pop(0))
    return f"Bash({shlex.join(prefix)}:*)"
