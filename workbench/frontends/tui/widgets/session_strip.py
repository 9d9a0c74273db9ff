"""Session-wide figures under the budget: agents by state, tokens in and out, tokens per second now, the fleet's cost.

Refreshed when events arrive (once per burst, a few times a second at most) and every second, from the
engine's running totals at the injected clock's time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.content import Content
from textual.widgets import Static

from workbench.engine.views.session_stats import StatsSnapshot
from workbench.engine.views.spend import Cost, cost_text, money
from workbench.frontends.tui.agent_glyphs import STATE_GLYPHS
from workbench.frontends.tui.humanize import token_count
from workbench.frontends.tui.stylesheet import css_beside
from workbench.frontends.tui.throttle import Throttle

Stats = Callable[[datetime], StatsSnapshot]
Count = tuple[str, str, str]  # (field, glyph, style)
ACTIVE: tuple[Count, ...] = (
    ("running", STATE_GLYPHS["thinking"], "$primary"),
    ("queued", STATE_GLYPHS["queued"], "$foreground-muted"),
    ("paused", STATE_GLYPHS["paused"], "$warning"),
)
FINISHED: tuple[Count, ...] = (
    ("done", STATE_GLYPHS["done"], "$success"),
    ("failed", STATE_GLYPHS["failed"], "$error"),
    ("cancelled", STATE_GLYPHS["cancelled"], "$foreground-muted"),
)
ALWAYS = frozenset({"running", "queued", "done", "failed"})  # paused and cancelled only when there are any


def rate(tokens_per_s: float) -> str:
    return f"{tokens_per_s:.1f}" if tokens_per_s < 10 else f"{tokens_per_s:,.0f}"


def count_line(stats: StatsSnapshot, counts: tuple[Count, ...], width: int) -> Content:
    """Words where they fit (``3 running · 1 queued``), glyphs where they do not (``◐3 ◌1``)."""
    shown = [(name, glyph, style) for name, glyph, style in counts if name in ALWAYS or getattr(stats, name)]
    words = Content(" · ").join(
        Content.assemble((f"{getattr(stats, name)}", f"bold {style}"), f" {name}") for name, _, style in shown
    )
    if len(words) <= width:
        return words
    return Content(" ").join(
        Content.assemble((glyph, style), f"{getattr(stats, name)}") for name, glyph, style in shown
    )


def cost_line(cost: Cost) -> Content:
    """The fleet's cost, the share of input read from the prompt cache, and what the cache saved."""
    parts = [("cost ", "$foreground-muted"), (cost_text(cost), "bold")]
    if cost.tokens.cache_read or cost.tokens.cache_write:
        parts += [(" · cached ", "$foreground-muted"), (f"{cost.tokens.cache_read_share:.0%}", "bold")]
        if cost.uncached_usd > cost.usd:
            parts += [(" · saved ", "$foreground-muted"), (money(cost.uncached_usd - cost.usd), "bold $success")]
    return Content.assemble(*parts)


def strip_lines(stats: StatsSnapshot, width: int) -> list[Content]:
    """Active and finished agents on a line each, then the tokens, then what the fleet cost."""
    tokens = Content.assemble(
        ("in ", "$foreground-muted"), (token_count(stats.tokens_in), "bold"),
        (" · out ", "$foreground-muted"), (token_count(stats.tokens_out), "bold"),
        (" · ", "$foreground-muted"), (rate(stats.tokens_per_s), "bold"), (" tok/s", "$foreground-muted"),
    )  # fmt: skip
    return [count_line(stats, ACTIVE, width), count_line(stats, FINISHED, width), tokens, cost_line(stats.cost)]


class SessionStrip(Static):
    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.stats: Stats | None = None
        self._changes = Throttle(self, self.refresh_figures)
        self._lines = 0

    def on_mount(self) -> None:
        self.border_title = "session"
        self.set_interval(1.0, self.refresh_figures)

    def changed(self) -> None:
        """Events arrived: refresh once for a burst of them, a few times a second at most."""
        self._changes.due()

    def refresh_figures(self) -> None:
        if self.stats is None:
            return
        width = self.content_region.width or 30
        lines = strip_lines(self.stats(self.clock()), width)
        # the strip's height follows its lines (they do not wrap): only a change in their number needs a layout
        self.update(Content("\n").join(lines), layout=len(lines) != self._lines)
        self._lines = len(lines)

    def on_resize(self) -> None:
        self.refresh_figures()
