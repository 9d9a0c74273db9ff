"""How Claude Code writes a slash command the user ran into its transcript's user line.

``<command-message>…</command-message> <command-name>/NAME</command-name>
<command-args>ARGS</command-args>``: the importer keeps the line as it is; what
reads the user's words from it sees ``/NAME ARGS``, as the user typed it.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"<command-name>\s*/?(?P<name>[^<\s]+)\s*</command-name>")
_ARGS = re.compile(r"<command-args>(?P<args>.*?)</command-args>", re.DOTALL)


def slash_command(text: str) -> tuple[str, str] | None:
    """The slash command a user line ran, as ``(name, arguments)``; None for any other text."""
    found = _NAME.search(text)
    if found is None:
        return None
    args = _ARGS.search(text)
    return found["name"], args["args"].strip() if args else ""


def as_typed(text: str) -> str:
    """A user line as the user typed it: ``/NAME ARGS`` for a slash command, else the text itself."""
    command = slash_command(text)
    return f"/{command[0]} {command[1]}".strip() if command is not None else text
