"""The body syntax of primers: ``$ARGUMENTS``, ``$ARGUMENTS[N]``/``$N``, ``@path`` and ``!`command```.

Arguments are numbered as Claude Code 2.1 numbers them: from 0 (``$0`` is the
first word, the same as ``$ARGUMENTS[0]``).

Pure text functions; :mod:`workbench.engine.priming.primers` gives the pieces meaning.
Code spans and fenced blocks are literal text, so ``@decorator`` written as
code is never taken for a file.
"""

from __future__ import annotations

import re
import shlex
from typing import Literal, NamedTuple

_FENCED = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?^ {0,3}\1[ \t]*$", re.MULTILINE | re.DOTALL)
_DIRECTIVE = re.compile(
    r"!`(?P<command>[^`\n]+)`"
    r"|(?P<code>(?P<ticks>`+)[^\n]*?(?P=ticks))"
    r"|(?<![\w@/\\`])@(?P<path>[^\s`'\"<>()\[\]{},;|]+)"
)
_ARGUMENT = re.compile(r"\$(?:ARGUMENTS\[(?P<index>\d+)\]|ARGUMENTS\b|(?P<n>\d+))")


class Segment(NamedTuple):
    kind: Literal["text", "command", "include"]
    value: str  # the text; the command; the path as written (maybe with $1)


def segments(text: str) -> list[Segment]:
    """``text`` cut into literal text, ``!`command``` and ``@path`` pieces; joined back, they give ``text``."""
    pieces: list[Segment] = []
    at = 0
    for fence in [*_FENCED.finditer(text), None]:
        end = fence.start() if fence is not None else len(text)
        for found in _DIRECTIVE.finditer(text, at, end):
            pieces.append(Segment("text", text[at : found.start()]))
            # a sentence's closing punctuation is not part of the path
            path = (found["path"] or "").rstrip(".:!?")
            if found["command"] is not None:
                pieces.append(Segment("command", found["command"]))
            elif path:
                pieces.append(Segment("include", path))
                pieces.append(Segment("text", found["path"][len(path) :]))
            else:
                pieces.append(Segment("text", found[0]))
            at = found.end()
        pieces.append(Segment("text", text[at:end]))
        if fence is not None:
            pieces.append(Segment("text", fence[0]))
            at = fence.end()
    return [piece for piece in pieces if piece.value or piece.kind != "text"]


def unparse(piece: Segment) -> str:
    """A segment as it was written."""
    return {"command": f"!`{piece.value}`", "include": f"@{piece.value}"}.get(piece.kind, piece.value)


def split_arguments(arguments: str) -> list[str]:
    """The words ``$0``, ``$1`` … stand for: shell-style, so quotes group words."""
    try:
        return shlex.split(arguments)
    except ValueError:  # an unbalanced quote: plain words are the best reading
        return arguments.split()


def substitute(text: str, arguments: str, *, quote: bool = False) -> str:
    """``text`` with the arguments in place. ``quote``: each word shell-quoted (inside a command)."""
    words = split_arguments(arguments)

    def value(found: re.Match[str]) -> str:
        number = found["index"] or found["n"]
        if number is None:
            return " ".join(map(shlex.quote, words)) if quote else arguments.strip()
        index = int(number)
        word = words[index] if index < len(words) else ""
        return shlex.quote(word) if quote and word else word

    return _ARGUMENT.sub(value, text)


def has_placeholder(text: str) -> bool:
    """Whether ``text`` places its arguments itself; if not, they are appended as ``ARGUMENTS: …``."""
    return _ARGUMENT.search(text) is not None
