"""Which of an agent's events the conversation builds blocks for: the tail at once, older events in
chunks as the user scrolls up to them (a session of 100k events would otherwise mount tens of
thousands of widgets before its last reply shows).

A chunk starts where a step starts (a prompt, or a reply: its tool calls and their results follow
it), so a tool call and its result are always built together.
"""

from __future__ import annotations

from workbench.protocol.events import AssistantMessage, Event, PromptQueued, UserMessage

TAIL_EVENTS = 200  # built when the conversation opens
CHUNK_EVENTS = 200  # built each time the user reaches the top of what is built

_STEP_STARTS = (UserMessage, PromptQueued, AssistantMessage)


def chunk_start(events: list[Event], end: int, size: int) -> int:
    """Where the chunk that ends before ``end`` starts: at least ``size`` events back, at a step's start."""
    start = max(0, end - size)
    while start > 0 and not isinstance(events[start], _STEP_STARTS):
        start -= 1
    if not any(isinstance(event, _STEP_STARTS) for event in events[:start]):
        return 0  # what is left before it makes no block of its own (the session's start): it comes along
    return start
