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
