"""An agent's place and changes drawn as text: ``2 +12 -3`` in a pane's row, a line of detail under it."""

from __future__ import annotations

from textual.content import Content

from workbench.engine.views.workspaces import AgentWorkspace
from workbench.frontends.tui.humanize import clip, token_count

CHANGES_CELLS = 11  # "12 +999 -99"
STATE_WORDS = {"merged": "merged", "discarded": "discarded", "kept": "kept"}


def change_counts(place: AgentWorkspace | None) -> Content:
    """Files changed and lines added/removed, e.g. ``2 +12 -3``; a closed worktree's word; blank otherwise."""
    if place is None:
        return Content("")
    if place.worktree is not None and place.state in STATE_WORDS:
        return Content.styled(STATE_WORDS[place.state], "$foreground-muted")
    if not place.files:
        return Content.styled("⚠ shared", "$warning") if place.warning else Content("")
    return Content.assemble((f"{len(place.files)} ", "$foreground-muted"), _lines(place))


def _lines(place: AgentWorkspace) -> Content:
    return Content.assemble((f"+{token_count(place.added)}", "$success"), (f" -{token_count(place.removed)}", "$error"))


def change_cell(place: AgentWorkspace | None) -> Content:
    """:func:`change_counts` right-aligned in a column of fixed width."""
    counts = change_counts(place)
    return Content.assemble(" " * max(0, CHANGES_CELLS - len(counts)), counts)


def workspace_line(place: AgentWorkspace | None, diff_key: str) -> list[Content]:
    """The lines of an agent's detail about its place: its worktree and what became of it, a conflict, a
    warning."""
    if place is None:
        return []
    lines: list[Content] = []
    files = f"{len(place.files)} file{'s' if len(place.files) != 1 else ''}"
    counts = Content.assemble(files, " ", _lines(place)) if place.files else Content(files)
    created = place.worktree
    if created is not None:
        state = place.state or "open"
        if state == "open":
            hint = (f" · {diff_key} diff", "$foreground-muted") if diff_key else ""
            lines.append(Content.assemble(("worktree ", "$foreground-muted"), counts, hint))
        else:
            lines.append(Content.assemble(("worktree ", "$foreground-muted"), (state, "bold"), " · ", counts))
        lines.append(Content.assemble(("branch ", "$foreground-muted"), created.branch))
    elif place.files:
        lines.append(
            Content.assemble(("changed ", "$foreground-muted"), counts, ("  in the shared folder", "$foreground-muted"))
        )
    if place.conflicts:
        lines.append(Content.styled(f"conflict, not merged: {clip(', '.join(place.conflicts), 160)}", "$error"))
    if place.warning:
        lines.append(Content.styled(f"⚠ {clip(place.warning, 200)}", "$warning"))
    return lines
