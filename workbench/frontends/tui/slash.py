"""Slash commands: the actions of the table that can be typed in the prompt.

``/prime-<name>`` stands for every primer the workspace has, and so does
``/<name>`` — a Claude Code command from ``.claude/commands`` runs as it does
there (``frontend/component.md`` answers to ``/frontend:component`` and, when no
other primer ends the same way, to ``/component``). A built-in command wins over
a primer of the same name; :func:`clashes` names those once. The prompt gets the
primers' names once the engine is open.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.frontends.tui.actions import ACTIONS, Action

PRIMER_PREFIX = "/prime-"
AGENT_OPTION = "--agent"


@dataclass(frozen=True)
class SlashCommand:
    word: str  # what is typed, e.g. "/background"
    args: str  # a hint for the arguments, e.g. "<task>"
    action: Action

    @property
    def description(self) -> str:
        return self.action.description


@dataclass(frozen=True)
class SlashInput:
    command: SlashCommand | None
    word: str
    argument: str
    primer: str = ""  # the primer a /prime-<name> or /<name> runs ('' for other commands)


@dataclass(frozen=True)
class DelegateInput:
    """``/delegate [--agent NAME] <task>``: the agent type (None: a plain sub-agent) and the task."""

    agent_type: str | None
    task: str
    error: str = ""


def _prime_action() -> Action:
    return next(action for action in ACTIONS if action.slash == PRIMER_PREFIX)


def _builtin_words() -> set[str]:
    return {action.slash for action in ACTIONS if action.slash and action.slash != PRIMER_PREFIX}


def primer_words(primers: list[str]) -> dict[str, str]:
    """``/<word>`` → primer, for every primer whose word a built-in command does not take."""
    builtin = _builtin_words()
    words: dict[str, str] = {}
    ends: dict[str, list[str]] = {}
    for name in primers:
        ends.setdefault(name.rsplit(":", 1)[-1], []).append(name)
    for name in primers:
        if "/" + name not in builtin:
            words["/" + name] = name
    for end, names in ends.items():
        if len(names) == 1 and "/" + end not in builtin:
            words.setdefault("/" + end, names[0])
    return words


def clashes(primers: list[str]) -> list[str]:
    """The primers whose ``/<name>`` is a built-in command: they stay reachable as ``/prime-<name>``."""
    builtin = _builtin_words()
    return [name for name in primers if "/" + name in builtin]


def slash_commands(primers: list[str] | None = None) -> list[SlashCommand]:
    commands: list[SlashCommand] = []
    for action in ACTIONS:
        if action.slash is None:
            continue
        if action.slash == PRIMER_PREFIX:
            names = primers or []
            commands.extend(SlashCommand(PRIMER_PREFIX + name, "[arguments]", action) for name in names)
            commands.extend(SlashCommand(word, "[arguments]", action) for word in primer_words(names))
            if not names:
                commands.append(SlashCommand(PRIMER_PREFIX + "<primer>", "[arguments]", action))
        else:
            commands.append(SlashCommand(action.slash, action.slash_args, action))
    return commands


def completions(text: str, primers: list[str] | None = None) -> list[SlashCommand]:
    """The commands the prompt's text could be the start of (only while typing the command word)."""
    if not text.startswith("/") or any(ch.isspace() for ch in text):
        return []
    return [command for command in slash_commands(primers) if command.word.startswith(text) and command.word != text]


def parse(text: str, primers: list[str] | None = None) -> SlashInput:
    word, _, argument = text.strip().partition(" ")
    argument = argument.strip()
    if word.startswith(PRIMER_PREFIX) and len(word) > len(PRIMER_PREFIX):
        prime = SlashCommand(word, "[arguments]", _prime_action())
        return SlashInput(prime, word, argument, primer=word.removeprefix(PRIMER_PREFIX))
    command = next((command for command in slash_commands() if command.word == word), None)
    if command is None and (name := primer_words(primers or []).get(word)) is not None:
        return SlashInput(SlashCommand(word, "[arguments]", _prime_action()), word, argument, primer=name)
    return SlashInput(command, word, argument)


def parse_delegate(argument: str) -> DelegateInput:
    """The argument of ``/delegate``: ``--agent NAME`` (or ``--agent=NAME``) may lead the task."""
    text = argument.strip()
    if not text.startswith(AGENT_OPTION):
        return DelegateInput(None, text)
    option, _, rest = text.partition(" ")
    if option.startswith(AGENT_OPTION + "="):
        name = option.removeprefix(AGENT_OPTION + "=")
    elif option == AGENT_OPTION:
        name, _, rest = rest.strip().partition(" ")  # agent type names have no spaces
    else:
        return DelegateInput(None, text)
    if not name:
        return DelegateInput(None, "", error="--agent needs the name of an agent type: /delegate --agent NAME <task>")
    return DelegateInput(name, rest.strip())
