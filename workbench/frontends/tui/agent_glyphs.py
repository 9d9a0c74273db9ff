"""How an agent's state is drawn: one glyph each."""

STATE_GLYPHS: dict[str, str] = {
    "queued": "◌",
    "idle": "○",
    "thinking": "◐",
    "tool": "⚙",
    "awaiting_approval": "?",
    "paused": "‖",
    "done": "✓",
    "failed": "✗",
    "cancelled": "⊘",
}


def glyph(state: str) -> str:
    return STATE_GLYPHS.get(state, "·")
