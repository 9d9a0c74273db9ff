"""Token accounting: offline counts, exact usage wins, incremental cost."""

from __future__ import annotations

from workbench.engine.context.tokens import TiktokenCounter, TokenLedger, default_counter
from workbench.protocol.content import TextBlock
from workbench.protocol.events import AssistantMessage, Compaction, Reduction, ToolResult, Usage, UserMessage


class CountingCounter:
    """Counts words and how many characters it was asked to tokenise."""

    def __init__(self) -> None:
        self.chars = 0

    def count(self, text: str) -> int:
        self.chars += len(text)
        return len(text.split())


def test_offline_encoding_counts_without_network() -> None:
    counter = TiktokenCounter()
    assert counter.count("hello world") == 2
    assert counter.count("") == 0
    assert default_counter() is default_counter()


def test_usage_replaces_estimates_and_later_events_are_estimated() -> None:
    ledger = TokenLedger("primary", CountingCounter(), window=1000)
    ledger.observe(UserMessage(seq=1, text="one two three"))
    assert ledger.used == 3 and not ledger.exact
    ledger.observe(AssistantMessage(seq=2, content=[TextBlock(text="four five")]))
    ledger.observe(Usage(seq=3, input_tokens=40, output_tokens=2, cache_read_input_tokens=10))
    assert ledger.used == 52 and ledger.exact
    ledger.observe(UserMessage(seq=4, text="six seven"))
    assert ledger.used == 54 and not ledger.exact


def test_categories_and_compaction_and_reduction() -> None:
    ledger = TokenLedger("primary", CountingCounter(), window=1000)
    ledger.set_fixed("system words here", [])
    ledger.observe(UserMessage(seq=1, text="a b c d"))
    ledger.observe(ToolResult(seq=2, tool_use_id="t1", content="r " * 50))
    assert ledger.categories["system"] == 3
    assert ledger.categories["tool_results"] == 50
    ledger.observe(
        Reduction(seq=3, strategy="stale", tokens_before=50, tokens_after=2, replacements={"t1": "stub two"})
    )
    assert ledger.categories["tool_results"] == 2
    assert ledger.saved["stale"] == 48
    ledger.observe(Compaction(seq=4, summary="short", from_seq=1, to_seq=2))
    assert ledger.categories["history"] == 0 and ledger.categories["tool_results"] == 0
    assert ledger.categories["summaries"] > 0
    assert ledger.saved["compaction"] > 0


def test_appending_costs_the_same_at_any_history_length() -> None:
    counter = CountingCounter()
    ledger = TokenLedger("primary", counter)
    for seq in range(1, 20_001):
        ledger.observe(UserMessage(seq=seq, text="same words each time"))
    before = counter.chars
    ledger.observe(UserMessage(seq=20_001, text="same words each time"))
    assert counter.chars - before == len("same words each time")
