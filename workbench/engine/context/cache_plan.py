"""The prompt-cache policy of an agent's request: on or off, how long its entries live, what stands for the session.

The foreground agent talks with a person who answers within minutes: 5-minute
entries. Background and delegated agents run on their own, and a parent's summary
request may come long after its children started: 1-hour entries (``[cache]`` in
the config sets both). The standing primer (the memory files) leads the first
message of every agent that starts with it, so a breakpoint after it is a prefix
that a parent and its children share.
"""

from __future__ import annotations

from typing import Any

from workbench.engine.config import CacheSettings
from workbench.engine.context.tokens import MEMORY_PRIMER
from workbench.protocol.brain_io import PromptCache
from workbench.protocol.events import AgentMode

STANDING_OPENING = f'<primer name="{MEMORY_PRIMER}">'


def prompt_cache(settings: CacheSettings, mode: AgentMode, messages: list[dict[str, Any]]) -> PromptCache | None:
    """How the agent's next request is cached (None: not at all)."""
    if not settings.enabled:
        return None
    ttl = {
        "foreground": settings.ttl_foreground,
        "background": settings.ttl_background,
        "delegated": settings.ttl_delegated,
    }[mode]
    return PromptCache(ttl=ttl, standing_blocks=standing_blocks(messages))


def standing_blocks(messages: list[dict[str, Any]]) -> int:
    """How many leading blocks of the first message are the standing primer."""
    if not messages or messages[0]["role"] != "user" or isinstance(messages[0]["content"], str):
        return 0
    count = 0
    for block in messages[0]["content"]:
        if block.get("type") != "text" or not block["text"].startswith(STANDING_OPENING):
            break
        count += 1
    return count
