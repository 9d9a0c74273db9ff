"""The API's web searches in the conversation: each search as a block (its query, what it found), and the
sources a reply cites listed under its text."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Collapsible, Static

from workbench.frontends.tui.humanize import clip
from workbench.frontends.tui.stylesheet import css_beside
from workbench.protocol.content import Citation, WebSearch

SHOWN_HITS = 10


def hits_view(search: WebSearch) -> Content:
    """Each result's title and URL, or why the search failed."""
    if search.result is None:
        return Content.styled("no result came back", "$foreground-muted")
    if search.result.error_code is not None:
        return Content.styled(f"the search failed: {search.result.error_code}", "$error")
    hits = search.result.hits
    if not hits:
        return Content.styled("nothing found", "$foreground-muted")
    lines = [
        Content.assemble(
            clip(hit.title, 90),
            "\n  ",
            (hit.url, "$text-primary"),
            (f"  · {hit.page_age}" if hit.page_age else "", "$foreground-muted"),
        )
        for hit in hits[:SHOWN_HITS]
    ]
    if len(hits) > SHOWN_HITS:
        lines.append(Content.styled(f"… {len(hits) - SHOWN_HITS} more", "$foreground-muted"))
    return Content("\n").join(lines)


class WebSearchBlock(Collapsible):
    """One search the API ran for the model: folded to its query and the number of results."""

    DEFAULT_CSS = css_beside(__file__)

    def __init__(self, search: WebSearch) -> None:
        self.search = search
        failed = search.result is None or search.result.error_code is not None
        found = len(search.result.hits) if search.result is not None else 0
        note = "failed" if failed else f"{found} result{'s' if found != 1 else ''}"
        title = Content.assemble(
            ("✗ " if failed else "✓ "),
            ("WebSearch", "bold"),
            f"  {clip(search.query, 72)}",
            (f"  · {note}", "$foreground-muted"),
        )
        super().__init__(Static(hits_view(search), classes="search-hits"), title="", collapsed=True)
        self.title = title  # type: ignore[assignment]  # a Content title shows the query verbatim
        self.add_class("-error" if failed else "-done")


def sources_view(citations: list[Citation]) -> Content:
    lines = [Content.styled("sources", "$foreground-muted")]
    for number, citation in enumerate(citations, 1):
        title = clip(citation.title or citation.url, 80)
        lines.append(
            Content.assemble((f"[{number}] ", "$foreground-muted"), title, "  ", (citation.url, "$text-primary"))
        )
    return Content("\n").join(lines)


class Sources(Static):
    """The sources a reply cites, under its text (styled by conversation.tcss, where it appears)."""

    def __init__(self, citations: list[Citation]) -> None:
        self.citations = citations
        super().__init__(sources_view(citations))
