"""Where a request's prompt-cache breakpoints go: the Messages API's ``cache_control`` markers.

The API caches a request's prefix in the order tools → system → messages, up to a
block marked ``cache_control``, for 5 minutes (or an hour) from its last use; a later
request reads the longest prefix it finds cached, looking back from each of its
breakpoints over some 20 blocks. At most four breakpoints, in this order of value:

1. **rolling**: the newest message's last block, so the next request reads everything up to here;
2. **bridge**: when this turn added more blocks than the API looks back over (a reply with
   many tool calls and their results), the previous request's rolling position as well, so
   what it wrote is still found;
3. **stable**: the end of the system prompt (tools and system: the same all session);
4. **standing**: the end of the standing primer (the memory files), shared by the agents that
   start with it;
5. **tools**: the end of the tool list, shared by agents whose system prompts differ.

The lifetime is the marker's ``ttl`` (``"1h"``; the 5-minute default is left unsaid), a
field of ``cache_control`` in the current API and SDK: no beta header is sent for it.
"""

from __future__ import annotations

from typing import Any

from workbench.protocol.brain_io import PromptCache

MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20
_UNCACHEABLE = frozenset({"thinking", "redacted_thinking"})

# where a breakpoint goes: ("tools", index), ("system", 0) or (message index, block index)
Position = tuple[str | int, int]


def with_breakpoints(params: dict[str, Any], cache: PromptCache) -> dict[str, Any]:
    """A copy of the request's parameters with ``cache_control`` on the chosen blocks (the input is not changed)."""
    chosen: list[Position] = []
    for position in _candidates(params, cache):
        if position is not None and position not in chosen and len(chosen) < MAX_BREAKPOINTS:
            chosen.append(position)
    marker: dict[str, Any] = {"type": "ephemeral"} if cache.ttl == "5m" else {"type": "ephemeral", "ttl": cache.ttl}
    marked = dict(params)
    for where, index in chosen:
        if where == "tools":
            tools = marked["tools"] = list(marked["tools"])
            tools[index] = {**tools[index], "cache_control": marker}
        elif where == "system":
            marked["system"] = [{"type": "text", "text": params["system"], "cache_control": marker}]
        else:
            assert isinstance(where, int)
            messages = marked["messages"] = list(marked["messages"])
            message = messages[where]
            content = _blocks(message)
            content[index] = {**content[index], "cache_control": marker}
            messages[where] = {**message, "content": content}
    return marked


def _candidates(params: dict[str, Any], cache: PromptCache) -> list[Position | None]:
    messages: list[dict[str, Any]] = params.get("messages") or []
    tools: list[dict[str, Any]] = params.get("tools") or []
    last_tool: Position | None = ("tools", len(tools) - 1) if tools else None
    stable = ("system", 0) if params.get("system") else last_tool
    standing = None
    if cache.standing_blocks and messages:
        index = min(cache.standing_blocks, len(_blocks(messages[0]))) - 1
        standing = _cacheable_at_or_before(messages, 0, index)
    rolling = _cacheable_at_or_before(messages, len(messages) - 1) if messages else None
    return [rolling, _bridge(messages), stable, standing, last_tool]


def _bridge(messages: list[dict[str, Any]]) -> Position | None:
    """The previous request's rolling position, when this turn added more blocks than the API looks back over.

    A turn ends on the user's side: the previous request ended three messages back
    (its user message, then the reply, then this message).
    """
    if len(messages) < 3 or messages[-1]["role"] != "user" or messages[-2]["role"] != "assistant":
        return None
    added = len(_blocks(messages[-2])) + len(_blocks(messages[-1]))
    return _cacheable_at_or_before(messages, len(messages) - 3) if added > LOOKBACK_BLOCKS else None


def _cacheable_at_or_before(messages: list[dict[str, Any]], message: int, block: int | None = None) -> Position | None:
    """The last block of ``messages[message]`` (up to ``block``) that may carry a breakpoint."""
    content = _blocks(messages[message])
    last = len(content) - 1 if block is None else block
    for index in range(last, -1, -1):
        candidate = content[index]
        if candidate.get("type") not in _UNCACHEABLE and (candidate.get("type") != "text" or candidate.get("text")):
            return (message, index)
    return None


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
