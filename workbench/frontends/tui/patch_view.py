"""A unified diff drawn for reading: the code highlighted in its own language, added and removed lines on
tinted backgrounds, hunk headers in the accent colour. Theme variables throughout, so every theme works."""

from __future__ import annotations

from textual.content import Content
from textual.highlight import highlight

MAX_LINES = 4000  # past this a patch is cut (the rest is said, not drawn)
SIGN_STYLES = {"+": "bold $success", "-": "bold $error", " ": "$foreground-muted"}
LINE_BACKGROUNDS = {"+": "on $success-muted", "-": "on $error-muted"}


def render_patch(patch: str, path: str) -> Content:
    lines = patch.splitlines()
    cut = len(lines) - MAX_LINES
    lines = lines[:MAX_LINES]
    shown: list[Content] = []
    at = 0
    while at < len(lines):
        line = lines[at]
        if not line.startswith("@@"):
            shown.append(Content.styled(line, "$foreground-muted"))
            at += 1
            continue
        end = at + 1
        while end < len(lines) and not lines[end].startswith(("@@", "diff --git")):
            end += 1
        shown.append(Content.styled(line, "$accent"))
        shown.extend(_hunk(lines[at + 1 : end], path))
        at = end
    if cut > 0:
        shown.append(Content.styled(f"… {cut:,} more lines of this diff are not shown", "$warning"))
    return Content("\n").join(shown)


def _side(lines: list[str], path: str) -> list[Content]:
    """The lines of one side of a hunk, highlighted together (a string or comment spanning lines stays one)."""
    if not lines:
        return []
    highlighted = highlight("\n".join(lines), path=path).split("\n")
    return highlighted if len(highlighted) == len(lines) else [Content(line) for line in lines]


def _hunk(body: list[str], path: str) -> list[Content]:
    old = _side([line[1:] for line in body if line[:1] in (" ", "-")], path)
    new = _side([line[1:] for line in body if line[:1] in (" ", "+")], path)
    old_at = new_at = 0
    width = max((len(line) for line in body), default=0)
    drawn: list[Content] = []
    for line in body:
        sign = line[:1]
        if sign == "-" and old_at < len(old):
            code = old[old_at]
            old_at += 1
        elif sign in ("+", " ") and new_at < len(new):
            code = new[new_at]
            new_at += 1
            old_at += sign == " "
        else:  # "\ No newline at end of file"
            drawn.append(Content.styled(line, "$foreground-muted italic"))
            continue
        row = Content.assemble((sign, SIGN_STYLES[sign]), code)
        background = LINE_BACKGROUNDS.get(sign)
        # a changed line is tinted as wide as the hunk's widest, so the changes read as blocks
        drawn.append(row.pad_right(width - row.cell_length).stylize_before(background) if background else row)
    return drawn
