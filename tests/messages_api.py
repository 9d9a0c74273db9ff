"""What the Messages API accepts, as a checker the tests share."""

from __future__ import annotations

from typing import Any


def assert_valid_messages(messages: list[dict[str, Any]]) -> None:
    """Raise AssertionError naming the first rule the message list breaks."""
    seen_ids: set[str] = set()
    for i, message in enumerate(messages):
        role = message["role"]
        assert role in ("user", "assistant"), f"message {i}: bad role {role}"
        if i == 0:
            assert role == "user", "the first message must come from the user"
        else:
            assert role != messages[i - 1]["role"], f"message {i}: roles must alternate"
        content = message["content"]
        assert content, f"message {i}: empty content"
        for block in content:
            if block["type"] == "text":
                assert block["text"].strip(), f"message {i}: empty text block"
        results = [b for b in content if b["type"] == "tool_result"]
        if results:
            assert role == "user", f"message {i}: tool_result outside a user message"
            first_other = next((j for j, b in enumerate(content) if b["type"] != "tool_result"), len(content))
            assert all(b["type"] != "tool_result" for b in content[first_other:]), (
                f"message {i}: tool_result blocks must come first"
            )
            previous = messages[i - 1] if i else {"content": []}
            offered = {b["id"] for b in previous["content"] if b["type"] == "tool_use"}
            for result in results:
                assert result["tool_use_id"] in offered, f"message {i}: result for unknown {result['tool_use_id']}"
        if role == "assistant":
            calls = [b["id"] for b in content if b["type"] == "tool_use"]
            for call in calls:
                assert call not in seen_ids, f"message {i}: duplicate tool_use id {call}"
                seen_ids.add(call)
            if calls:
                assert i + 1 < len(messages), f"message {i}: tool_use without a following tool_result"
                answered = {b.get("tool_use_id") for b in messages[i + 1]["content"]}
                missing = set(calls) - answered
                assert not missing, f"message {i}: tool_use without result: {missing}"


def without_cache_control(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages as they read without their prompt-cache breakpoints (a string content stays a string)."""
    return [
        {
            **message,
            "content": message["content"]
            if isinstance(message["content"], str)
            else [{k: v for k, v in block.items() if k != "cache_control"} for block in message["content"]],
        }
        for message in messages
    ]
