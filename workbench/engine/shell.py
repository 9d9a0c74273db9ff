"""A command line split into the words of its simple commands (``shlex``, as a POSIX shell splits it).

Permission rules match these words, and the facts ledger reads from them
which files a command read or wrote.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

_CONTROL = frozenset("();|&\n")
_REDIRECTION = frozenset("<>&|")
# words that open or close a compound command rather than name a program
_SHELL_KEYWORDS = frozenset({"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time"})
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=")
_HARMLESS_TARGET = re.compile(r"/dev/null|\d+|-")


@dataclass(frozen=True)
class Shell:
    """The simple commands of a command line, in order."""

    parts: tuple[tuple[str, ...], ...]
    # some of it cannot be checked part by part: a command substitution, a write
    # through a redirection, or quoting the split cannot follow
    opaque: bool
    writes: tuple[str, ...] = ()  # files a ``>`` or ``>>`` redirection writes


def analyse(command: str) -> Shell:
    lexer = shlex.shlex(command, posix=True, punctuation_chars="();<>|&\n")
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    lexer.commenters = ""  # a '#' inside a word must not hide what follows
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes
        return Shell(parts=(), opaque=True)
    opaque = any(marker in command for marker in ("`", "$(", "<(", ">("))
    parts: list[tuple[str, ...]] = []
    words: list[str] = []
    writes: list[str] = []
    tokens.reverse()
    while tokens:
        token = tokens.pop()
        if set(token) <= _REDIRECTION and ("<" in token or ">" in token):
            target = tokens.pop() if tokens else ""
            if ">" in token and not _HARMLESS_TARGET.fullmatch(target):
                opaque = True
                writes.append(target)
        elif set(token) <= _CONTROL:
            parts.append(_command_words(words))
            words = []
        else:
            words.append(token)
    parts.append(_command_words(words))
    return Shell(parts=tuple(part for part in parts if part), opaque=opaque, writes=tuple(writes))


def _command_words(words: list[str]) -> tuple[str, ...]:
    """The words naming the program and its arguments, without leading keywords and VAR=value."""
    start = 0
    while start < len(words) and (words[start] in _SHELL_KEYWORDS or _ASSIGNMENT.match(words[start])):
        start += 1
    return tuple(words[start:])
