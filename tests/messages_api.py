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
            elif block["type"] == "image":
                assert role == "user", f"message {i}: an image outside a user message"
                _assert_valid_image(block, f"message {i}")
            elif block["type"] == "tool_result" and isinstance(block["content"], list):
                assert block["content"], f"message {i}: a tool_result with an empty content list"
                for part in block["content"]:
                    assert part["type"] in ("text", "image"), f"message {i}: a tool_result holds a {part['type']}"
                    if part["type"] == "image":
                        _assert_valid_image(part, f"message {i}")
                    else:
                        assert part["text"].strip(), f"message {i}: an empty text in a tool_result"
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


def _assert_valid_image(block: dict[str, Any], where: str) -> None:
    source = block["source"]
    if source["type"] == "url":
        assert source["url"], f"{where}: an image without a url"
        return
    assert source["type"] == "base64", f"{where}: image source {source['type']}"
    assert source["media_type"].startswith("image/"), f"{where}: image media type {source['media_type']!r}"
    assert source["data"], f"{where}: an image without data"


def results_of(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Every tool result the messages hold, by the id of the call it answers."""
    return {
        block["tool_use_id"]: block["content"]
        for message in messages
        for block in message["content"]
        if block["type"] == "tool_result"
    }
