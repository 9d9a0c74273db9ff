"""The lines of one session that match the search, each with a line of context either side."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from workbench.engine.library import SearchHit

MATCH_STYLE = "bold reverse $accent"


def marked(line: str, query: str) -> Content:
    """The line with each occurrence of the query (ASCII letters in any case) highlighted."""
    content = Content(line)
    folded, needle = line.lower(), query.lower()
    at = folded.find(needle) if needle else -1
    while at >= 0:
        content = content.stylize(MATCH_STYLE, at, at + len(needle))
        at = folded.find(needle, at + len(needle))
    return content


def match_prompt(hit: SearchHit, query: str) -> Content:
    lines = [Content.styled(f"seq {hit.seq} · {hit.agent or 'session'} · {hit.kind}", "$secondary")]
    lines += [Content.styled(f"  {line}", "$foreground-muted") for line in hit.before]
    lines.append(Content("  ") + marked(hit.line, query))
    lines += [Content.styled(f"  {line}", "$foreground-muted") for line in hit.after]
    return Content("\n").join(lines)


class SearchMatches(OptionList):
    """Each option's id is the seq of the event holding the line."""

    def __init__(self) -> None:
        super().__init__(id="preview-matches")

    def show(self, hits: list[SearchHit], query: str, total: int) -> None:
        self.clear_options()
        pairs = [(Option(match_prompt(hit, query), id=f"{n}:{hit.seq}"), None) for n, hit in enumerate(hits)]
        self.add_options([item for pair in pairs for item in pair])  # None: a rule between two matches
        more = f" · first {len(hits)} of {total}" if total > len(hits) else ""
        self.border_title = f"Matches · {total}{more}"

    @staticmethod
    def seq_of(option: Option) -> int:
        return int((option.id or "0:0").split(":")[1])
