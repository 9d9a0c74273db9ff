"""The session browser's filter fields (since, until, model) read into a ``SessionFilter``.

Dates are typed as the list shows them, in local time: ``2026-01-02``, or a
time too (``2026-01-02 15:30``). An ``until`` day includes that whole day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from workbench.engine.library import SessionFilter

DAY_CHARS = len("2026-01-02")


class FilterError(ValueError):
    def __init__(self, field: str, text: str) -> None:
        super().__init__(f"{field}: '{text}' is not a date; type YYYY-MM-DD, or YYYY-MM-DD HH:MM")
        self.field = field


def _when(field: str, text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise FilterError(field, text) from None
    return value if value.tzinfo else value.astimezone()  # a time without a zone is local


def session_filter(since: str, until: str, model: str) -> SessionFilter:
    """Raises FilterError naming the field that does not read as a date."""
    end = _when("until", until)
    if end is not None and len(until.strip()) == DAY_CHARS:
        end += timedelta(days=1)
    return SessionFilter(since=_when("since", since), until=end, model=model.strip() or None)
