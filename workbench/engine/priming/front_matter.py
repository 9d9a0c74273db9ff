"""The YAML front matter of Markdown command, primer and agent files, read as Claude Code does.

Claude Code writes some values unquoted that strict YAML rejects or misreads —
``argument-hint: [pr-number] [priority]``, ``description: Fix: the login bug`` —
so single-line values of the :data:`VERBATIM_KEYS` are taken as plain strings
before the rest is parsed as YAML. Anything else that is not valid YAML is a
:class:`FrontMatterError`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

# keys whose one-line value is always a plain string, however it looks
VERBATIM_KEYS = frozenset({"description", "argument-hint", "model", "name"})

_FENCE = "---"
_VERBATIM_LINE = re.compile(r"^(?P<key>[A-Za-z][\w-]*):[ \t]+(?P<value>\S.*?)[ \t]*$")


class FrontMatterError(ValueError):
    """Front matter that cannot be read; the message says where and why."""


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The front matter as a mapping (empty when there is none) and the body after it."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    lines = text.split("\n")
    if lines[0].rstrip() != _FENCE:
        return {}, text
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == _FENCE), None)
    if end is None:
        raise FrontMatterError("the front matter opened with '---' is never closed by a '---' line")
    raw = "\n".join(_quote_verbatim(line) for line in lines[1:end])
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise FrontMatterError(f"the front matter is not valid YAML{where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterError(f"the front matter must be 'key: value' lines, not a {type(data).__name__}")
    return {str(key): value for key, value in data.items()}, "\n".join(lines[end + 1 :])


def _quote_verbatim(line: str) -> str:
    found = _VERBATIM_LINE.match(line)
    if found is None or found["key"] not in VERBATIM_KEYS:
        return line
    value = found["value"]
    if value[0] in "\"'|>":  # already quoted, or a block scalar: YAML reads it right
        return line
    return f"{found['key']}: {json.dumps(value, ensure_ascii=False)}"


def string_field(data: dict[str, Any], key: str) -> str | None:
    """A text value; numbers are accepted as text, anything else is an error."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise FrontMatterError(f"'{key}' must be text, not a {type(value).__name__}")
    return str(value).strip()


def list_field(data: dict[str, Any], key: str, separators: str = ",") -> list[str] | None:
    """A list given as a YAML list or as one string (``Read, Grep, Bash(git diff:*)``).

    A string is split at the ``separators`` that are not inside parentheses.
    """
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        items = _split_outside_parentheses(value, separators)
    elif isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        items = [str(v) for v in value]
    else:
        raise FrontMatterError(f"'{key}' must be a list of text or a comma-separated string")
    return [item.strip() for item in items if item.strip()]


def _split_outside_parentheses(text: str, separators: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth += (char == "(") - (char == ")")
        if depth == 0 and char in separators:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items
