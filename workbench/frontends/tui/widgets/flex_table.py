"""A row table whose one flexible column takes the width the fixed columns leave.

The flexible width is known only once the table is laid out, and it changes
with the terminal: the rows are built again whenever it does, and the cursor
stays on the row it was on. In a narrow table the less useful columns go.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from textual.content import Content
from textual.widgets import DataTable

Row = TypeVar("Row")
FLEX_MIN = 16


@dataclass(frozen=True)
class FlexColumn:
    key: str
    label: str
    width: int | None = None  # None: the flexible column
    hidden_below: int = 0  # the column goes when the table is narrower than this


class FlexTable(DataTable[Content], Generic[Row]):
    def __init__(
        self,
        columns: Sequence[FlexColumn],
        cells: Callable[[Row, int], Sequence[Content]],
        key: Callable[[Row], str],
        *,
        id: str | None = None,
    ) -> None:
        """``cells(row, flex_width)`` draws a row; ``key(row)`` names it."""
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.flex_columns = tuple(columns)
        self.cells = cells
        self.key = key
        self.shown: list[Row] = []
        self._flex_width = 0
        self._columns_shown: list[FlexColumn] = []

    @property
    def columns_shown(self) -> list[FlexColumn]:
        return [c for c in self.flex_columns if self.size.width >= c.hidden_below]

    @property
    def flex_width(self) -> int:
        shown = self.columns_shown
        fixed = [c.width for c in shown if c.width is not None]
        # every cell is padded by one on each side; one more cell for the scrollbar
        return max(FLEX_MIN, self.size.width - sum(fixed) - 2 * len(shown) - 1)

    @property
    def highlighted(self) -> Row | None:
        if not self.row_count or not 0 <= self.cursor_row < len(self.shown):
            return None
        return self.shown[self.cursor_row]

    def show(self, rows: Sequence[Row], cursor: str | None = None) -> None:
        """Show ``rows``, the cursor on the row keyed ``cursor`` (default: the one it is on)."""
        if cursor is None and (row := self.highlighted) is not None:
            cursor = self.key(row)
        self.shown = list(rows)
        self._flex_width = self.flex_width
        self._columns_shown = columns = self.columns_shown
        self.clear(columns=True)
        for column in columns:
            self.add_column(column.label, key=column.key, width=column.width or self._flex_width)
        keep = [column in columns for column in self.flex_columns]
        self.add_rows(
            [cell for cell, kept in zip(self.cells(row, self._flex_width), keep) if kept] for row in self.shown
        )
        keys = [self.key(row) for row in self.shown]
        self.move_cursor(row=keys.index(cursor) if cursor in keys else 0, animate=False)

    def point_at(self, key: str) -> None:
        keys = [self.key(row) for row in self.shown]
        if key in keys:
            self.move_cursor(row=keys.index(key), animate=False, scroll=True)

    def on_resize(self) -> None:
        if self.shown and (self.flex_width, self.columns_shown) != (self._flex_width, self._columns_shown):
            self.show(self.shown)
