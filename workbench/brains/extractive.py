"""Extractive summaries: pick and quote what a text or conversation already says.

Pure functions, no model involved. The scripted brain answers from them and
compaction reuses them, so a summary never contains words its source lacks
(apart from section labels).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any

from workbench.protocol.slash_command import as_typed

_STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during
    each few for from further had has have having he her here hers him his how i if
    in into is it its itself just me more most my no nor not now of off on once only
    or other our ours out over own same she should so some such than that the their
    them then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours""".split()
)

# tokens that carry a dot or slash yet are not paths
_NOT_PATHS = frozenset({"e.g", "i.e", "etc", "vs", "and/or", "either/or", "i/o", "yes/no", "on/off", "read/write"})
_EXTENSION = re.compile(r"\.[A-Za-z][\w-]{0,9}$")
_PATH_EDGES = "`'\"()[]{}<>,;:!?"

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_CODE_DEF = re.compile(r"^(?:async\s+def|def|class|function|fn|pub\s+fn|func|interface|struct|enum)\s+\w+")
_CODE_LINE = re.compile(
    r"^\s*(?:def |class |async def |import |from \S+ import |return\b|if .*:$|elif |else:|for .*:$|while .*:$"
    r"|try:|except\b|with .*:$|@\w|[\w.\[\]]+\s*[+\-*/]?=|[})\]];?,?$|#include|function |const |let |var |fn |pub )"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'`(\[])")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'-]+")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_DECISION = re.compile(
    r"\b(?:decided|decision|we'll|we will|let's|going to|chose|agreed|instead of|plan is|settled on|opted)\b",
    re.IGNORECASE,
)

MAX_SENTENCE_CHARS = 300


def paths_in(text: str) -> list[str]:
    """File-like tokens (a dot-extension or a slash), in order, without duplicates or globs."""
    found: list[str] = []
    for raw in text.split():
        token = raw.lstrip(_PATH_EDGES).rstrip(_PATH_EDGES + ".")
        if not token or "*" in token or "?" in token or "://" in token or token.startswith("-"):
            continue
        if token.lower() in _NOT_PATHS or not re.search(r"[A-Za-z0-9]", token):
            continue
        if ("/" in token or _EXTENSION.search(token)) and token not in found:
            found.append(token)
    return found


def clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, cut at a word with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rsplit(" ", 1)[0] + "…"


def headings(text: str) -> list[str]:
    """Markdown headings; for source code, its top-level definitions."""
    lines = text.splitlines()
    if _looks_like_code(lines):
        return [m[0] for line in lines if (m := _CODE_DEF.match(line))]
    found: list[str] = []
    in_fence = False
    for line in lines:
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        elif not in_fence and (match := _HEADING.match(line)):
            found.append(match.group(1))
    return found


def key_sentences(text: str, max_sentences: int) -> list[str]:
    """The most informative sentences, verbatim (whitespace folded), in document order.

    Informative = many of the text's frequent content words (Luhn's measure),
    with a bonus for the opening sentence, which usually says what the text is.
    """
    sentences = [s for s in prose_sentences(text) if _is_sentence(s)]
    if not sentences or max_sentences <= 0:
        return []
    frequency = Counter(w for s in sentences for w in _content_words(s))

    def score(index: int) -> float:
        words = _content_words(sentences[index])
        if not words:
            return 0.0
        value = sum(frequency[w] for w in set(words)) / math.sqrt(len(words))
        return value * 1.5 if index == 0 else value

    ranked = sorted(range(len(sentences)), key=lambda i: (-score(i), i))
    return [clip(sentences[i], MAX_SENTENCE_CHARS) for i in sorted(ranked[:max_sentences])]


def summarise_text(text: str, max_sentences: int = 5) -> str:
    """Headings plus the key sentences as quotes; the first lines when there is no prose."""
    parts: list[str] = []
    found = headings(text)
    if found:
        code = _looks_like_code(text.splitlines())
        shown = ", ".join(f"`{h}`" if code else h for h in found[:12])
        more = f" (+{len(found) - 12} more)" if len(found) > 12 else ""
        parts.append(f"{'Definitions' if code else 'Sections'}: {shown}{more}")
    sentences = key_sentences(text, max_sentences)
    if sentences:
        parts.append("\n".join(f"> {s}" for s in sentences))
    if not parts:
        first = [line for line in text.splitlines() if line.strip()][:5]
        if first:
            parts.append("First lines:\n```\n" + "\n".join(first) + "\n```")
    return "\n\n".join(parts)


def message_text(message: dict[str, Any]) -> str:
    """The text a Messages-API message carries (tool calls and results left out)."""
    content = message.get("content", "")
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")


def blocks_of(message: dict[str, Any], block_type: str) -> list[dict[str, Any]]:
    content = message.get("content", "")
    if isinstance(content, str):
        return []
    return [b for b in content if isinstance(b, dict) and b.get("type") == block_type]


def result_text(block: dict[str, Any]) -> str:
    """The text of a tool_result block, whose content is a string or a list of blocks."""
    content = block.get("content", "")
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")


def tool_calls(messages: list[dict[str, Any]]) -> dict[str, tuple[str, dict[str, Any]]]:
    """tool_use id -> (tool name, input), over every assistant message."""
    return {
        b.get("id", ""): (b.get("name", "?"), b.get("input") or {})
        for m in messages
        if m.get("role") == "assistant"
        for b in blocks_of(m, "tool_use")
    }


def summarise_conversation(messages: list[dict[str, Any]]) -> str:
    """A Markdown digest of a conversation: goal, instructions, files, open errors, decisions, last request."""
    user_texts = [t for m in messages if m.get("role") == "user" and (t := message_text(m).strip())]
    goal = clip(user_texts[0], 600) if user_texts else "(no user message)"
    last = clip(user_texts[-1], 600) if user_texts else "(no user message)"
    instructions = [clip(t, 200) for t in user_texts[1:-1]]
    sections = [
        ("Goal", goal),
        ("Instructions", _bullets(instructions[-20:], omitted=max(0, len(instructions) - 20))),
        ("Files touched", _bullets([f"`{p}` ({', '.join(tools)})" for p, tools in _files_touched(messages).items()])),
        ("Open errors", _bullets(_open_errors(messages))),
        ("Decisions", _bullets(_decisions(messages))),
        ("Last request", last),
    ]
    return "\n\n".join(f"## {title}\n{body}" for title, body in sections)


# context the engine put into the conversation (primers, summaries, the facts ledger): not the user's words
INJECTED = re.compile(r"<(primer|conversation-summary|facts)\b[^>]*>.*?</\1>", re.S)
_SUMMARY_GOAL = re.compile(
    r"<conversation-summary>.*?^## Goal\s*\n(?P<goal>.*?)(?:^## |</conversation-summary>)", re.S | re.M
)
_PLAN = re.compile(r"\b(?:next|then|will|going to|remaining|still|todo|need to|plan)\b", re.IGNORECASE)


def compaction_summary(messages: list[dict[str, Any]]) -> str:
    """What a compaction keeps besides the engine's facts ledger, quoted from the conversation:
    the goal (the first request, or the one an earlier summary gave) and the latest request, the
    state (the agent's last reply), the next steps (what that reply or the open request says)."""
    said = [m for m in messages if m.get("role") == "user" and message_text(m).strip()]
    earlier = next((g["goal"] for m in said if (g := _SUMMARY_GOAL.search(message_text(m)))), "")
    requests = [as_typed(t) for m in said if (t := INJECTED.sub("", message_text(m)).strip())]
    goal = clip(earlier, 600) if earlier.strip() else clip(requests[0], 400) if requests else "(no request yet)"
    if len(requests) > 1 or (earlier.strip() and requests):
        goal += f"\nLatest request: {clip(requests[-1], 400)}"
    replies = [t for m in messages if m.get("role") == "assistant" and (t := message_text(m).strip())]
    state = clip(replies[-1], 600) if replies else "(no reply yet)"
    if messages and messages[-1].get("role") == "user" and requests:
        steps = [f"Answer the latest request: {clip(requests[-1], 300)}"]
    else:
        steps = [clip(s, 300) for s in prose_sentences(replies[-1] if replies else "") if _PLAN.search(s)][-3:]
    return "\n\n".join(
        [
            f"## Goal\n{goal}",
            f"## State\n{state}",
            f"## Next steps\n{_bullets(steps or ['Continue with the latest request.'])}",
        ]
    )


def _bullets(items: list[str], omitted: int = 0) -> str:
    if not items:
        return "- none"
    lead = [f"- ({omitted} earlier not shown)"] if omitted else []
    return "\n".join(lead + [f"- {item}" for item in items])


def _paths_of_call(tool_input: dict[str, Any]) -> list[str]:
    paths = [v for k, v in tool_input.items() if k.endswith("path") and isinstance(v, str) and v]
    command = tool_input.get("command")
    return paths + (paths_in(command) if isinstance(command, str) else [])


def _files_touched(messages: list[dict[str, Any]]) -> dict[str, list[str]]:
    touched: dict[str, list[str]] = {}
    for name, tool_input in tool_calls(messages).values():
        for path in _paths_of_call(tool_input):
            tools = touched.setdefault(path, [])
            if name not in tools:
                tools.append(name)
    return touched


def _subject(tool_input: dict[str, Any]) -> str:
    for key in ("file_path", "path", "command", "pattern", "description"):
        if isinstance(tool_input.get(key), str):
            return tool_input[key]
    return ""


def _open_errors(messages: list[dict[str, Any]]) -> list[str]:
    """Failed tool calls not followed by a success of the same call (same tool, same input)."""
    calls = tool_calls(messages)
    latest: dict[str, str | None] = {}  # call key -> error line, or None once it succeeded
    for m in messages:
        if m.get("role") != "user":
            continue
        for block in blocks_of(m, "tool_result"):
            name, tool_input = calls.get(block.get("tool_use_id", ""), ("a tool", {}))
            key = name + json.dumps(tool_input, sort_keys=True, default=str)
            if block.get("is_error"):
                subject = _subject(tool_input)
                label = f"`{name}` ({clip(subject, 80)})" if subject else f"`{name}`"
                latest[key] = f"{label}: {clip(result_text(block), 200)}"
            else:
                latest[key] = None
    return [error for error in latest.values() if error is not None]


def decisions_in(text: str) -> list[str]:
    """The sentences of a text that state a decision ("we decided …", "instead of …"), verbatim."""
    if not _DECISION.search(text):
        return []
    return [clip(sentence, MAX_SENTENCE_CHARS) for sentence in prose_sentences(text) if _DECISION.search(sentence)]


def _decisions(messages: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for m in messages:
        found += [decision for decision in decisions_in(message_text(m)) if decision not in found]
    return found[-8:]


def _looks_like_code(lines: list[str]) -> bool:
    body = [line for line in lines if line.strip()]
    return bool(body) and sum(1 for line in body if _CODE_LINE.match(line)) / len(body) > 0.3


def _prose_blocks(text: str) -> list[str]:
    """Paragraphs and list items, leaving out headings, code fences and tables.

    For source code, the prose is its docstrings and comments.
    """
    lines = text.splitlines()
    if _looks_like_code(lines):
        lines = _code_prose(lines)
    blocks: list[str] = []
    current: list[str] = []
    in_fence = False

    def flush() -> None:
        if current:
            blocks.append(" ".join(current))
            current.clear()

    for line in lines:
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
            flush()
        elif in_fence or not stripped or _HEADING.match(line) or stripped.startswith(("|", "<", "---", "===")):
            flush()
        elif _BULLET.match(line):
            flush()
            current.append(_BULLET.sub("", line).strip())
        else:
            current.append(stripped)
    flush()
    return blocks


def _code_prose(lines: list[str]) -> list[str]:
    prose: list[str] = []
    in_docstring = False
    for line in lines:
        stripped = line.strip()
        quotes = stripped.count('"""') + stripped.count("'''")
        if in_docstring or quotes:
            prose.append(stripped.replace('"""', "").replace("'''", "").strip())
            if quotes % 2:
                in_docstring = not in_docstring
            if not in_docstring:
                prose.append("")
        elif stripped.startswith(("#", "//")) and not stripped.startswith("#!"):
            prose.append(stripped.lstrip("#/ ").strip())
        else:
            prose.append("")
    return prose


def prose_sentences(text: str) -> list[str]:
    """The sentences of a text's paragraphs and list items (for code, of its docstrings and comments)."""
    return [s.strip() for block in _prose_blocks(text) for s in _SENTENCE_END.split(block) if s.strip()]


def _is_sentence(text: str) -> bool:
    letters = sum(1 for c in text if c.isalpha() or c == " ")
    return len(_WORD.findall(text)) >= 4 and letters / len(text) >= 0.6


def _content_words(sentence: str) -> list[str]:
    return [w for w in (m.lower() for m in _WORD.findall(sentence)) if w not in _STOPWORDS and len(w) > 2]
