"""The permission policy: whether a tool call runs, asks a human first, or is refused.

Rules use the syntax of Claude Code settings: ``Bash``, ``Bash(git status:*)``
(that command, alone or followed by anything), ``Bash(npm run test)`` (exactly
that), ``Edit(src/**)``, ``Read(./docs/*.md)``, ``mcp__server``,
``mcp__server__tool``, ``mcp__server__*``. Paths are workspace-relative,
gitignore-style globs. Deny rules win over ask rules, ask rules over allow
rules; a call no rule matches is decided by the mode.

Bash rules see the simple commands a line would run, as the bash parser of
:mod:`workbench.engine.policy.shell` finds them — in lists, pipelines,
substitutions, ``sh -c`` and ``eval`` strings, behind wrappers (``sudo``,
``env``, ``nohup``, ``timeout``, ``xargs``, ``find -exec`` …), with quoting and
``$'…'`` decoded and ``/bin/rm`` read as ``rm`` by deny rules. A deny or ask rule
applies when it matches any of them; an allow rule only when every one is
allowed and nothing on the line is beyond a prefix rule (an environment
assignment, a substitution, ``eval``, ``sh -c``, a pipe into an interpreter, a
redirection outside the workspace): then only an exact rule for the whole line
allows it. A file a redirection writes inside the workspace is judged as an Edit
of that file. What cannot be resolved before the line runs asks, and in bypass
mode is denied when a deny rule could match it.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from workbench.engine.policy.shell import (
    ShellAnalysis,
    SimpleCommand,
    analyse,
    by_name,
    could_match,
    definitely_matches,
)
from workbench.protocol.modes import PermissionMode, RuleList

# the tools (and through them the brains' and content models) load only when a call is judged:
# the config, which validates rules with this module, must stay cheap to import
if TYPE_CHECKING:
    from workbench.tools.base import Tool, ToolKind


Verdict = Literal["allow", "ask", "deny"]
# the API's server-side search: the model's call never reaches the engine, so only a deny rule governs it
WEB_SEARCH = "WebSearch"

# a rule naming the key also governs these tools, as in Claude Code
RULE_COVERS: dict[str, frozenset[str]] = {
    "Edit": frozenset({"Edit", "Write", "NotebookEdit"}),
    "Read": frozenset({"Read", "Glob", "Grep"}),
}
# "allow always" for these tools suggests a rule in the covering tool's name
_SUGGEST_AS = {"Write": "Edit", "NotebookEdit": "Edit", "Glob": "Read", "Grep": "Read"}
# tools whose subject is a folder to search
_FOLDER_TOOLS = frozenset({"Glob", "Grep"})


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
            if tool == WEB_SEARCH:
                raise PermissionRuleError(f"{text!r}: WebSearch rules take no parentheses; write WebSearch")
            if tool == "Bash":
                _check_bash_specifier(text, specifier)
            elif tool in _SUBJECT_RULES:
                _SUBJECT_RULES[tool].check(text, specifier)
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
        """Whether the rule applies to any part of the call for certain (how deny and ask rules apply)."""
        if not self.covers(call.tool):
            return False
        if self.specifier is None:
            return True
        if call.shell is not None:
            return _bash_pattern(self.specifier).hits(call.subject or "", call.shell)
        if call.tool in _SUBJECT_RULES:
            return _SUBJECT_RULES[call.tool].matches(self.specifier, call.subject or "")
        return any(_path_regex(self.specifier).fullmatch(path) for path in call.paths)

    def could_match(self, call: _Call) -> bool:
        """Whether the rule may apply to a part of a command line only the running shell can know."""
        if call.shell is None or not self.covers(call.tool):
            return False
        return self.specifier is None or _bash_pattern(self.specifier).might_hit(call.shell)

    def allows(self, call: _Call) -> bool:
        """Whether the rule alone covers the whole call (how allow rules apply)."""
        if not self.covers(call.tool):
            return False
        if self.specifier is None:
            return True
        if call.shell is not None:
            pattern = _bash_pattern(self.specifier)
            return pattern.is_line(call.subject or "") or (
                _prefix_rules_apply(call.shell) and all(pattern.allows(command) for command in call.shell.commands)
            )
        if call.tool in _SUBJECT_RULES:
            return _SUBJECT_RULES[call.tool].matches(self.specifier, call.subject or "")
        return bool(call.paths) and all(_path_regex(self.specifier).fullmatch(path) for path in call.paths)

    def allows_exactly(self, call: _Call) -> bool:
        """Whether this is an exact Bash rule for the whole line: it allows what no prefix rule can."""
        return (
            call.shell is not None
            and self.covers(call.tool)
            and self.specifier is not None
            and _bash_pattern(self.specifier).is_line(call.subject or "")
        )

    def __str__(self) -> str:
        return self.text


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    rule: str | None = None
    source: Literal["rule", "mode"]
    reason: str


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

    def denies_outright(self, tool_name: str) -> bool:
        """Whether a deny rule refuses every call of the tool (``WebSearch``, ``mcp__server``): it is not offered."""
        return any(rule.specifier is None and rule.covers(tool_name) for rule in self.deny)

    def decide(self, tool: Tool[Any], params: BaseModel) -> Decision:
        call = self._call(tool, params)
        if call.shell is not None:
            return self._decide_shell(tool, call)
        denying = next((rule for rule in self.deny if rule.matches(call)), None)
        if denying is not None:
            return Decision(verdict="deny", rule=denying.text, source="rule", reason=f"Denied by the rule {denying}")
        if self.mode == "plan" and tool.kind in ("write", "exec"):
            return _plan_denies(tool)
        if self.mode != "bypass":
            asking = next((rule for rule in self.ask if rule.matches(call)), None)
            if asking is not None:
                return Decision(verdict="ask", rule=asking.text, source="rule", reason=f"The rule {asking} asks first")
        allowing = self._allowing(call)
        if allowing:
            return _allowed_by(allowing)
        return self._by_mode(tool.kind)

    def _decide_shell(self, tool: Tool[Any], call: _Call) -> Decision:
        shell = call.shell
        assert shell is not None
        writes = [self._write_call(target.inside) for target in shell.writes if target.inside is not None]
        for rule in self.deny:
            if rule.matches(call):
                return Decision(verdict="deny", rule=rule.text, source="rule", reason=f"Denied by the rule {rule}")
            written = next((w for w in writes if rule.matches(w)), None)
            if written is not None:
                reason = f"Denied by the rule {rule}: the command writes {written.subject}"
                return Decision(verdict="deny", rule=rule.text, source="rule", reason=reason)
        exact = next((rule for rule in self.allow if rule.allows_exactly(call)), None)
        doubtful = next((rule for rule in self.deny if rule.could_match(call)), None)
        if doubtful is not None and exact is None:
            why = "; ".join(shell.unresolved) or "a word only the running shell knows"
            if self.mode == "bypass":
                reason = f"Denied: the rule {doubtful} could match what this runs ({why})"
                return Decision(verdict="deny", rule=doubtful.text, source="rule", reason=reason)
            reason = f"Asks: the rule {doubtful} denies what this might run ({why})"
            return Decision(verdict="ask", rule=doubtful.text, source="rule", reason=reason)
        if self.mode == "plan":
            return _plan_denies(tool)
        if self.mode != "bypass":
            asking = next(
                (r for r in self.ask if r.matches(call) or r.could_match(call) or any(r.matches(w) for w in writes)),
                None,
            )
            if asking is not None:
                return Decision(verdict="ask", rule=asking.text, source="rule", reason=f"The rule {asking} asks first")
        if exact is not None:
            return _allowed_by([exact])
        allowing = self._allowing(call)
        if allowing and all(self._may_write(w) for w in writes):
            return _allowed_by(allowing)
        if self.mode != "bypass" and not _prefix_rules_apply(shell):
            reason = "Asks: no rule can allow it part by part: " + "; ".join(shell.concerns)
            return Decision(verdict="ask", source="mode", reason=reason)
        return self._by_mode(tool.kind)

    def _write_call(self, inside: str) -> _Call:
        return _Call("Write", inside, tuple(self._path_subjects(inside)), None)

    def _may_write(self, write: _Call) -> bool:
        """A file a redirection writes: allowed as an Edit of it would be, without asking."""
        return self.mode in ("acceptEdits", "bypass") or any(rule.allows(write) for rule in self.allow)

    def suggest_rule(self, tool: Tool[Any], params: BaseModel) -> str:
        """The rule "allow always" adds for this call."""
        subject = tool.subject(params)
        if subject is None:
            return tool.name
        if tool.name == "Bash":
            return _suggest_bash(subject)
        if tool.name in _SUBJECT_RULES:
            return _SUBJECT_RULES[tool.name].suggest(tool.name, subject)
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
        if shell is None or not shell.commands or not _prefix_rules_apply(shell):
            return []
        # a compound command is allowed when each part is, maybe by different rules
        used: list[Rule] = []
        for command in shell.commands:
            rule = next((r for r in self.allow if _allows_part(r, call.tool, command)), None)
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
        action = {"write": "changing files", "network": "reaching the network"}.get(kind, "running commands")
        return Decision(verdict="ask", source="mode", reason=f"{self.mode} mode asks before {action}")

    def _call(self, tool: Tool[Any], params: BaseModel) -> _Call:
        subject = tool.subject(params)
        if tool.name == "Bash":
            return _Call(tool.name, subject, (), analyse(subject or "", self.workspace))
        if tool.name in _SUBJECT_RULES:
            return _Call(tool.name, subject, (), None)
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
    shell: ShellAnalysis | None  # set for Bash calls


def _plan_denies(tool: Tool[Any]) -> Decision:
    action = "changing files" if tool.kind == "write" else "running commands"
    return Decision(
        verdict="deny",
        source="mode",
        reason=f"Plan mode forbids {action} ({tool.name}); leave plan mode to carry out the plan",
    )


def _allowed_by(rules: list[Rule]) -> Decision:
    text = ", ".join(rule.text for rule in rules)
    noun = "rule" if len(rules) == 1 else "rules"
    return Decision(verdict="allow", rule=text, source="rule", reason=f"Allowed by the {noun} {text}")


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


# --- rules on what is not a path: a URL's domain, a skill's name ----------------------------


class _DomainRule:
    """``WebFetch(domain:example.com)``: the URL's host is that domain; ``domain:*.example.com`` its subdomains."""

    @staticmethod
    def check(text: str, specifier: str) -> None:
        domain = specifier.removeprefix("domain:").strip()
        if not specifier.startswith("domain:") or not domain or "/" in domain:
            raise PermissionRuleError(f"{text!r}: a WebFetch rule names a domain, as in WebFetch(domain:example.com)")

    @staticmethod
    def matches(specifier: str, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        domain = specifier.removeprefix("domain:").strip().lower()
        if domain.startswith("*."):
            return host.endswith(domain[1:])
        return host == domain

    @staticmethod
    def suggest(tool: str, url: str) -> str:
        host = urlsplit(url).hostname
        return f"{tool}(domain:{host})" if host else tool


class _NameRule:
    """``Skill(commit)``: that skill; ``Skill(review *)`` (or ``review:*``): it with any arguments."""

    @staticmethod
    def check(text: str, specifier: str) -> None:
        if not specifier.removesuffix(":*").removesuffix(" *").strip():
            raise PermissionRuleError(f"{text!r}: name the skill, as in Skill(commit) or Skill(review *)")

    @staticmethod
    def matches(specifier: str, subject: str) -> bool:
        name = subject.split(" ", 1)[0]
        for suffix in (" *", ":*"):
            if specifier.endswith(suffix):
                return name == specifier.removesuffix(suffix).strip()
        return subject.strip() == specifier or (name == specifier and " " not in subject.strip())

    @staticmethod
    def suggest(tool: str, subject: str) -> str:
        return f"{tool}({subject.split(' ', 1)[0]} *)"


_SUBJECT_RULES: dict[str, type[_DomainRule] | type[_NameRule]] = {"WebFetch": _DomainRule, "Skill": _NameRule}


# --- shell commands ------------------------------------------------------------------------


def _prefix_rules_apply(shell: ShellAnalysis) -> bool:
    """Whether rules may judge the line part by part: nothing on it is beyond a prefix rule."""
    return not shell.concerns and bool(shell.commands)


@dataclass(frozen=True)
class _BashPattern:
    specifier: str
    words: tuple[str, ...]
    prefix: bool

    def is_line(self, command: str) -> bool:
        """An exact rule written for this whole line."""
        return not self.prefix and command.strip() == self.specifier

    def hits(self, command: str, shell: ShellAnalysis) -> bool:
        """Some layer of some command matches for certain; a program given by path counts by its name."""
        if command.strip() == self.specifier:
            return True
        return any(
            definitely_matches(self.words, self.prefix, words)
            or definitely_matches(self.words, self.prefix, by_name(words))
            for simple in shell.commands
            for words in simple.layers
        )

    def might_hit(self, shell: ShellAnalysis) -> bool:
        """Some run of the line might match: an unknown word could be these words, or the line is unresolved."""
        if shell.unresolved:
            return True
        return any(
            could_match(self.words, self.prefix, words) or could_match(self.words, self.prefix, by_name(words))
            for simple in shell.commands
            for words in simple.layers
        )

    def allows(self, simple: SimpleCommand) -> bool:
        return any(definitely_matches(self.words, self.prefix, words) for words in simple.layers[: simple.allowable])


@lru_cache(maxsize=512)
def _bash_pattern(specifier: str) -> _BashPattern:
    prefix = specifier.endswith(":*")
    command = specifier.removesuffix(":*").strip()
    return _BashPattern(specifier=command, words=tuple(shlex.split(command)), prefix=prefix)


def _allows_part(rule: Rule, tool: str, command: SimpleCommand) -> bool:
    if not rule.covers(tool):
        return False
    return rule.specifier is None or _bash_pattern(rule.specifier).allows(command)


_SUBCOMMAND = re.compile(r"[a-z][a-z0-9_-]*")


def _suggest_bash(command: str) -> str:
    """``Bash(git status:*)`` from the program and its subcommand words; anything else exactly as written."""
    shell = analyse(command)
    exactly = f"Bash({command.strip()})" if command.strip() else "Bash"
    if not _prefix_rules_apply(shell) or len(shell.commands) != 1 or shell.writes:
        return exactly
    written = shell.commands[0].layers[0].words
    if any(word is None for word in written):
        return exactly
    words = [word for word in written if word is not None]
    settings = [word for word in words if "=" in word and not word.startswith("-")][: len(words) - 1]
    words = words[len(settings) :]
    prefix = [*settings, words[0]]
    rest = list(words[1:])
    while rest and len(prefix) - len(settings) < 3:
        if len(prefix) - len(settings) == 1 and rest[0] == "-m" and len(rest) > 1:  # python -m pytest
            prefix += rest[:2]
            break
        if not _SUBCOMMAND.fullmatch(rest[0]) or (len(prefix) - len(settings) == 2 and prefix[-1] != "run"):
            break
        prefix.append(rest.pop(0))
    return f"Bash({shlex.join(prefix)}:*)"
