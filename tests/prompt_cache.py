"""Prompt caching as the Messages API documents it, for the fake server.

- A request's prefix runs block by block in the order tools → system → messages (a string
  ``system`` or message ``content`` is one text block).
- A block carrying ``cache_control`` is a breakpoint; a top-level ``cache_control`` puts one on
  the last block. At most four per request, and 1-hour breakpoints before 5-minute ones; no
  breakpoint on a thinking block or an empty text block.
- Every breakpoint whose prefix is at least the model's minimum cacheable length writes (or
  refreshes) a cache entry for exactly that prefix, living ``ttl`` from its last use.
- A read is the longest cached prefix found by looking back from each breakpoint over at most
  ``LOOKBACK_BLOCKS`` block boundaries. A hit refreshes the entry it read.
- Usage: ``cache_read_input_tokens`` is the prefix read; ``cache_creation_input_tokens`` runs from
  there to the last breakpoint written, each stretch counted under the TTL of the breakpoint that
  closes it (``cache_creation.ephemeral_5m_input_tokens`` / ``ephemeral_1h_input_tokens``);
  ``input_tokens`` is the rest.

Tokens are estimated (about four characters a token) block by block, so the figures add up exactly.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LOOKBACK_BLOCKS = 20
MAX_BREAKPOINTS = 4
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
# the minimum cacheable prompt length by model (the first prefix that matches wins)
MIN_CACHEABLE: tuple[tuple[str, int], ...] = (
    ("claude-opus-4-5", 4096),
    ("claude-opus-4-6", 4096),
    ("claude-haiku-4-5", 4096),
    ("claude-3-5-haiku", 2048),
    ("claude-3-haiku", 2048),
    ("claude-opus-5", 512),
    ("claude-fable-5", 512),
    ("claude-mythos-5", 512),
)
DEFAULT_MIN_CACHEABLE = 1024


class CacheRequestError(ValueError):
    """A request the API rejects for its cache_control (the server answers 400)."""


def min_cacheable(model: str) -> int:
    return next((tokens for prefix, tokens in MIN_CACHEABLE if model.startswith(prefix)), DEFAULT_MIN_CACHEABLE)


def _plain(block: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in block.items() if key != "cache_control"}


def block_tokens(block: dict[str, Any]) -> int:
    """A deterministic stand-in for the tokenizer: about four characters a token, at least one."""
    return max(1, len(json.dumps(_plain(block), sort_keys=True)) // 4)


def prefix_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The request's blocks in the order the cache sees them: tools, system, messages."""
    blocks: list[dict[str, Any]] = [dict(tool, type=tool.get("type", "tool")) for tool in body.get("tools") or []]
    system = body.get("system")
    if isinstance(system, str):
        if system:
            blocks.append({"type": "text", "text": system})
    elif system:
        blocks.extend(system)
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            blocks.append({"type": "text", "text": content, "role": message.get("role")})
        else:
            blocks.extend({**block, "role": message.get("role")} for block in content or [])
    return blocks


def count_tokens(body: dict[str, Any]) -> int:
    return sum(block_tokens(block) for block in prefix_blocks(body))


@dataclass
class _Entry:
    ttl: str
    expires: float


@dataclass(frozen=True)
class CacheUsage:
    input_tokens: int
    cache_read_input_tokens: int
    ephemeral_5m_input_tokens: int
    ephemeral_1h_input_tokens: int

    @property
    def cache_creation_input_tokens(self) -> int:
        return self.ephemeral_5m_input_tokens + self.ephemeral_1h_input_tokens

    def fields(self) -> dict[str, Any]:
        """The usage fields of a response."""
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.ephemeral_5m_input_tokens,
                "ephemeral_1h_input_tokens": self.ephemeral_1h_input_tokens,
            },
        }


class PromptCache:
    """The server's cache: prefix hashes and when each entry expires."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.entries: dict[str, _Entry] = {}

    def account(self, body: dict[str, Any]) -> CacheUsage:
        """Read and write the cache for one request; its usage. Raises CacheRequestError."""
        blocks = prefix_blocks(body)
        breakpoints = _breakpoints(body, blocks)
        now = self.clock()
        cumulative: list[int] = []
        hashes: list[str] = []
        running = 0
        chain = hashlib.sha256(str(body.get("model", "")).encode())
        for block in blocks:
            running += block_tokens(block)
            cumulative.append(running)
            chain.update(json.dumps(_plain(block), sort_keys=True).encode())
            hashes.append(chain.copy().hexdigest())

        read_at, read_ttl = -1, "5m"  # the last block of the prefix read (-1: nothing read), the TTL asked for it
        for position, ttl in breakpoints:
            for candidate in range(position, max(-1, position - LOOKBACK_BLOCKS - 1), -1):
                entry = self.entries.get(hashes[candidate])
                if entry is not None and entry.expires > now:
                    if candidate > read_at:
                        read_at, read_ttl = candidate, ttl
                    break
        if read_at >= 0:  # a hit refreshes the entry, for the longer of its TTL and the one asked for now
            entry = self.entries[hashes[read_at]]
            entry.ttl = max(entry.ttl, read_ttl, key=TTL_SECONDS.__getitem__)
            entry.expires = now + TTL_SECONDS[entry.ttl]
        read = cumulative[read_at] if read_at >= 0 else 0

        written = {"5m": 0, "1h": 0}
        start = read
        minimum = min_cacheable(str(body.get("model", "")))
        for position, ttl in breakpoints:
            if position <= read_at or cumulative[position] < minimum:
                continue
            self.entries[hashes[position]] = _Entry(ttl=ttl, expires=now + TTL_SECONDS[ttl])
            written[ttl] += cumulative[position] - start
            start = cumulative[position]
        total = cumulative[-1] if cumulative else 0
        return CacheUsage(
            input_tokens=total - read - written["5m"] - written["1h"],
            cache_read_input_tokens=read,
            ephemeral_5m_input_tokens=written["5m"],
            ephemeral_1h_input_tokens=written["1h"],
        )


def _breakpoints(body: dict[str, Any], blocks: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(block index, ttl) of every breakpoint, in order; checks them as the API does."""
    found: list[tuple[int, str]] = []
    for index, block in enumerate(blocks):
        control = block.get("cache_control")
        if control is None:
            continue
        if block.get("type") in ("thinking", "redacted_thinking"):
            raise CacheRequestError(f"blocks.{index}: cache_control cannot be set on a thinking block")
        if block.get("type") == "text" and not block.get("text"):
            raise CacheRequestError(f"blocks.{index}: cache_control cannot be set for empty text blocks")
        found.append((index, _ttl(control)))
    top = body.get("cache_control")
    if top is not None and blocks:
        found.append((len(blocks) - 1, _ttl(top)))
    if len(found) > MAX_BREAKPOINTS:
        raise CacheRequestError(
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {len(found)}."
        )
    ttls = [ttl for _, ttl in found]
    if "5m" in ttls and "1h" in ttls[ttls.index("5m") :]:
        raise CacheRequestError("a ttl='1h' cache_control block must not come after a ttl='5m' one")
    return found


def _ttl(control: dict[str, Any]) -> str:
    if control.get("type") != "ephemeral":
        raise CacheRequestError(f"cache_control.type: expected 'ephemeral', got {control.get('type')!r}")
    ttl = control.get("ttl", "5m")
    if ttl not in TTL_SECONDS:
        raise CacheRequestError(f"cache_control.ttl: expected '5m' or '1h', got {ttl!r}")
    return ttl
