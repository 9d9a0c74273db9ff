"""Slash commands: the actions of the table that can be typed in the prompt.

``/prime-<name>`` stands for every primer the workspace has; the prompt gets
their names once the engine is open.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.frontends.tui.actions import ACTIONS, Action

PRIMER_PREFIX = "/prime-"


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

    @property
    def primer(self) -> str:
        """The primer named by ``/prime-<name>`` ('' for other commands)."""
        return self.word.removeprefix(PRIMER_PREFIX) if self.word.startswith(PRIMER_PREFIX) else ""


def slash_commands(primers: list[str] | None = None) -> list[SlashCommand]:
    commands: list[SlashCommand] = []
    for action in ACTIONS:
        if action.slash is None:
            continue
        if action.slash == PRIMER_PREFIX:
            names = primers or []
            commands.extend(SlashCommand(PRIMER_PREFIX + name, "[arguments]", action) for name in names)
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


def parse(text: str) -> SlashInput:
    word, _, argument = text.strip().partition(" ")
    argument = argument.strip()
    if word.startswith(PRIMER_PREFIX) and len(word) > len(PRIMER_PREFIX):
        prime = next(command for command in slash_commands() if command.word.startswith(PRIMER_PREFIX))
        return SlashInput(prime, word, argument)
    command = next((command for command in slash_commands() if command.word == word), None)
    return SlashInput(command, word, argument)
