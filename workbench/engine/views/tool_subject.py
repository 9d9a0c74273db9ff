"""What a tool call is about, in a few words: its command, path or pattern."""

from __future__ import annotations

from typing import Any

# the input fields that name a call's subject, most telling first
SUBJECT_FIELDS = ("command", "file_path", "path", "pattern", "description", "url", "query", "prompt")


def subject_of(tool_input: dict[str, Any]) -> str:
    for key in SUBJECT_FIELDS:
        value = tool_input.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""
