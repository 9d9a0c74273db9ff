"""Figures as people read them in a narrow pane: 1.2k tokens, 3:07 elapsed, 14:03:22."""

from __future__ import annotations

from datetime import datetime


def token_count(n: int) -> str:
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def size_text(size: int) -> str:
    """Bytes as ``812 B``, ``4.1 kB``, ``2.3 MB``."""
    for unit in ("B", "kB", "MB"):
        if size < 1000:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000  # type: ignore[assignment]
    return f"{size:.1f} GB"


def duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def time_of_day(ts: datetime) -> str:
    """Local wall-clock time of a (UTC) timestamp."""
    return f"{ts.astimezone():%H:%M:%S}"


def clip(text: str, width: int) -> str:
    """One line of at most ``width`` characters, ellipsised."""
    text = " ".join(text.split())
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"
