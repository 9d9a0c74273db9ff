"""Git guardrails: built-in rules for what an agent's shell commands may do with git.

- ``force-push-main``: never force-push to ``main`` or ``master`` (``--force``, ``-f``,
  ``--force-with-lease``, ``--mirror``, a ``+refspec``; a push without a refspec pushes the current
  branch). Denied.
- ``amend-pushed``: never amend a commit that has been pushed (HEAD is on a remote-tracking branch). Denied.
- ``no-verify``: never skip the hooks (``--no-verify``, ``git commit -n``, ``-c core.hooksPath=…``). Denied.
- ``push``: never ``git push`` without asking. Asks, whatever the mode and the allow rules say.
- ``agent-commit``: agents do not commit on their own: every ``git commit`` asks the user.

They come before the user's rules and the mode, which cannot lift them; only naming a guardrail in
``[permissions] lift_guardrails`` does. The line is read as the permission rules read it
(:mod:`workbench.engine.policy.shell`): every simple command wherever it sits (lists, pipelines,
``$(…)``, ``if`` bodies), through wrappers (``sudo``, ``env``, ``nohup``, ``timeout`` …) and into
``sh -c '…'`` and ``eval``. A line with parts no one can read before it runs, that mentions git, asks.
A word only the running shell knows (``git push $FLAGS``) matches nothing, but a push or a commit
asks anyway. A guard against mistakes, like the rules, not a sandbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from workbench.engine.policy.shell import Words, analyse, by_name
from workbench.engine.workspaces.git import GitError, git, git_text

GuardrailName = Literal["force-push-main", "amend-pushed", "no-verify", "push", "agent-commit"]
PROTECTED_BRANCHES = frozenset({"main", "master"})
UNKNOWN_WORD = "\0"  # a word only the running shell knows: it matches no option and no branch


class Guardrail(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: GuardrailName
    verdict: Literal["deny", "ask"]
    rule: str  # what it says, for the user


GUARDRAILS: tuple[Guardrail, ...] = (
    Guardrail(name="force-push-main", verdict="deny", rule="never force-push to main or master"),
    Guardrail(name="amend-pushed", verdict="deny", rule="never amend a commit that has been pushed"),
    Guardrail(name="no-verify", verdict="deny", rule="never skip the hooks (--no-verify) unless you lift this"),
    Guardrail(name="push", verdict="ask", rule="never git push without asking"),
    Guardrail(name="agent-commit", verdict="ask", rule="agents commit only when you say so, call by call"),
)
GUARDRAIL_NAMES: frozenset[str] = frozenset(g.name for g in GUARDRAILS)
_BY_NAME = {g.name: g for g in GUARDRAILS}


@dataclass(frozen=True)
class Stop:
    """A guardrail that applies to a command, and why."""

    guardrail: Guardrail
    detail: str

    @property
    def reason(self) -> str:
        action = "Blocked" if self.guardrail.verdict == "deny" else "Asks first"
        return (
            f"{action} by the guardrail {self.guardrail.name} ({self.guardrail.rule}): {self.detail}. "
            f'Only `lift_guardrails = ["{self.guardrail.name}"]` in [permissions] lifts it.'
        )


class Guardrails:
    def __init__(self, lifted: Iterable[str] = ()) -> None:
        self.lifted = frozenset(lifted)

    @property
    def active(self) -> list[Guardrail]:
        return [g for g in GUARDRAILS if g.name not in self.lifted]

    def check(self, command: str, cwd: Path | None) -> Stop | None:
        """The first guardrail the command runs into (denials before questions), or None."""
        stops = [stop for stop in _stops(command, cwd) if stop.guardrail.name not in self.lifted]
        stops.sort(key=lambda stop: stop.guardrail.verdict != "deny")
        return stops[0] if stops else None


# ---------------------------------------------------------------- git commands


@dataclass(frozen=True)
class GitCall:
    subcommand: str
    args: list[str]
    cwd: Path | None
    config: list[str]  # -c name=value given before the subcommand


def git_call(words: Words, cwd: Path | None) -> GitCall | None:
    """The git command ``words`` runs (its global options read), or None when it runs something else."""
    named = by_name(words).words
    if not named or named[0] != "git":
        return None
    rest = list(named[1:])
    config: list[str] = []
    while rest and rest[0] is not None and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in ("-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path") and rest:
            value = rest.pop(0)
            if option == "-C" and cwd is not None and value is not None:
                cwd = cwd / value
            elif option == "-c":
                config.append(value or "")
    if not rest or rest[0] is None:
        return None
    return GitCall(rest[0], [word if word is not None else UNKNOWN_WORD for word in rest[1:]], cwd, config)


def _stops(command: str, cwd: Path | None) -> list[Stop]:
    analysis = analyse(command, cwd)
    stops: list[Stop] = []
    if analysis.unresolved and "git" in command:  # a part no one can read before it runs may be git
        stops.append(Stop(_BY_NAME["push"], f"it may run git where it cannot be read ({analysis.unresolved[0]})"))
    for simple in analysis.commands:
        for layer in simple.layers:  # as written, and past each wrapper (sudo, env, nohup, timeout …)
            call = git_call(layer, cwd)
            if call is not None:
                stops.extend(_judge(call))
    return stops


def _judge(call: GitCall) -> list[Stop]:
    stops: list[Stop] = []
    if any(c.split("=", 1)[0].lower() == "core.hookspath" for c in call.config):
        stops.append(Stop(_BY_NAME["no-verify"], "`-c core.hooksPath=…` skips the hooks"))
    if call.subcommand in ("commit", "push", "merge", "rebase", "am", "cherry-pick", "revert", "pull"):
        if "--no-verify" in call.args or (call.subcommand == "commit" and _short_flag(call.args, "n", "mFcCtS")):
            stops.append(Stop(_BY_NAME["no-verify"], f"`git {call.subcommand}` without running the hooks"))
    if call.subcommand == "push":
        stops.extend(_judge_push(call))
    elif call.subcommand == "commit":
        if "--amend" in call.args and (remote := _pushed_head(call.cwd)):
            stops.append(Stop(_BY_NAME["amend-pushed"], f"HEAD is already on {remote}"))
        stops.append(Stop(_BY_NAME["agent-commit"], "the agent asks to commit"))
    return stops


def _judge_push(call: GitCall) -> list[Stop]:
    args = call.args
    forced = any(a in ("--force", "--mirror") or a.startswith("--force-with-lease") for a in args) or _short_flag(
        args, "f", "o"
    )
    positional = _positional(args, takes_value={"-o", "--push-option", "--repo", "--receive-pack", "--exec"})
    refspecs = positional[1:]
    targets: list[tuple[str, bool]] = []  # (branch pushed to, forced by a + refspec)
    for spec in refspecs:
        plus = spec.startswith("+")
        source, _, destination = spec.lstrip("+").partition(":")
        targets.append(((destination or source).removeprefix("refs/heads/"), plus))
    if not refspecs or "--all" in args or "--mirror" in args:
        current = _current_branch(call.cwd)
        targets.append((current, False))
        if "--all" in args or "--mirror" in args:
            targets += [(branch, False) for branch in PROTECTED_BRANCHES]
    stops: list[Stop] = []
    hit = next((branch for branch, plus in targets if branch in PROTECTED_BRANCHES and (forced or plus)), None)
    if hit is not None:
        stops.append(Stop(_BY_NAME["force-push-main"], f"a forced push to {hit}"))
    stops.append(Stop(_BY_NAME["push"], "`git push` sends commits to a remote"))
    return stops


def _short_flag(args: list[str], flag: str, value_flags: str) -> bool:
    """Whether a cluster of short options (``-fu``, ``-nm msg``) holds ``flag`` before any option that
    takes the rest of the word as its value."""
    for arg in args:
        if arg == "--":
            return False
        if not arg.startswith("-") or arg.startswith("--") or len(arg) < 2:
            continue
        for letter in arg[1:]:
            if letter == flag:
                return True
            if letter in value_flags:
                break
    return False


def _positional(args: list[str], takes_value: set[str]) -> list[str]:
    found: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in takes_value:
            skip = True
        elif not arg.startswith("-") or arg == "-":
            found.append(arg)
    return found


def _current_branch(cwd: Path | None) -> str:
    if cwd is None:
        return ""
    try:
        return git_text(["symbolic-ref", "--quiet", "--short", "HEAD"], cwd)
    except GitError:
        return ""


def _pushed_head(cwd: Path | None) -> str:
    """A remote-tracking branch that holds HEAD ('' when none does, or git cannot tell)."""
    if cwd is None:
        return ""
    try:
        done = git(["branch", "--remotes", "--contains", "HEAD", "--format=%(refname:short)"], cwd, check=False)
    except GitError:
        return ""
    names = done.stdout.decode().split() if done.returncode == 0 else []
    return names[0] if names else ""
