"""One line of JSON (a bundle line, a transcript line) read without surprises.

Every failure is an :class:`UnreadableLine` whose message says what is wrong, never
another error: bytes that are not UTF-8, numbers or nesting beyond the parser's limits
(more than 4,300 digits, more than 200 levels), a torn line. Escapes of lone surrogates
(what ``JSON.stringify`` writes for a file name that is not valid Unicode) are read,
each such character replaced by U+FFFD, as everything the bundle writes must be.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic_core

MAX_NESTING = 200  # levels of arrays and objects the parser accepts (pydantic_core's limit)


class UnreadableLine(ValueError):
    """A line that is not what it should be at all (torn, corrupt, not an object)."""


def json_value(raw: bytes | str) -> Any:
    """The JSON value of one line; raises UnreadableLine with the reason."""
    try:
        return pydantic_core.from_json(raw, allow_inf_nan=False)
    except ValueError as exc:
        error = exc
    if "surrogate" in str(error):
        try:
            return without_surrogates(json.loads(raw, parse_constant=_no_constants))
        except (ValueError, RecursionError):
            pass
    data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableLine(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {exc.start + 1})") from None
    raise UnreadableLine(f"not valid JSON ({error})") from None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def without_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate replaced by U+FFFD, so that it can be written as UTF-8."""
    if isinstance(value, str):
        # through UTF-16: a high and a low surrogate side by side make their character, a lone one U+FFFD
        return value if encodable(value) else value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, list):
        return [without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    return value


def encodable(text: str) -> bool:
    """Whether UTF-8 can hold ``text`` (it cannot hold a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
