"""Changing one setting of the user's config file while keeping the rest of it as written."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

_TABLE_HEADER = re.compile(r"^\s*\[")
_THEME_LINE = re.compile(r"^(\s*)theme\s*=.*$")


class ConfigWriteError(Exception):
    pass


def with_theme(text: str, theme: str) -> str:
    """``text`` with its top-level ``theme`` set: the existing line replaced, or one added before any table."""
    line = f"theme = {json.dumps(theme)}"
    lines = text.splitlines()
    top_level_end = next((i for i, row in enumerate(lines) if _TABLE_HEADER.match(row)), len(lines))
    for i in range(top_level_end):
        if match := _THEME_LINE.match(lines[i]):
            lines[i] = match[1] + line
            break
    else:
        lines.insert(top_level_end, line)
    return "\n".join(lines) + "\n"


def remember_theme(path: Path, theme: str) -> None:
    """Set ``theme`` in the config file at ``path`` (created if missing); nothing else changes."""
    try:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        before = tomllib.loads(old)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigWriteError(f"{path} was left as it is: it cannot be read ({exc})") from None
    new = with_theme(old, theme)
    try:
        after = tomllib.loads(new)
    except tomllib.TOMLDecodeError:
        after = None
    if after != {**before, "theme": theme}:
        raise ConfigWriteError(f"{path} was left as it is: its layout is too unusual to change safely")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new, encoding="utf-8")
    except OSError as exc:
        raise ConfigWriteError(f"cannot write {path}: {exc.strerror}") from None
