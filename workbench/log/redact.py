"""Secrets never reach a bundle, a summary or an export: known key shapes are masked before text is written.

The shapes come from detect-secrets (Yelp's scanner, maintained and widely
used): its regex plugins for AWS, GitHub, GitLab, Slack, Stripe, OpenAI,
private keys, basic auth in URLs, JWTs, SendGrid, npm, PyPI, Square and Azure
keys. A few shapes it does
not know are added here (Anthropic, OpenAI project and GitHub fine-grained
keys, bearer and API-key headers), and every shape is matched the way text is
written: inside JSON (``\\"x-api-key\\": \\"…\\"``, ``\\n`` for a line break),
with header names in any case, and with a token split across a line break.

Most lines hold none of it: one Aho-Corasick pass over the lowercased text
finds which shapes' hints occur (usually none), and only those shapes' patterns
run. detect-secrets plugins with no literal anchor (Telegram, Twilio,
Mailchimp, Discord, Artifactory) are left out: they would need a full regex
scan of every line and match ordinary words.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench.log.secret_rules import Shape

MASK = "[REDACTED]"


class Redactor:
    """Masks secrets of known shapes, and the literal values of secrets from the environment."""

    def __init__(self, extra_secrets: Iterable[str] = ()) -> None:
        secrets = [s for s in extra_secrets if len(s) >= 8]
        for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
            value = os.environ.get(name, "")
            if len(value) >= 8:
                secrets.append(value)
        self._literals = sorted(set(secrets), key=len, reverse=True)
        from workbench.log import secret_rules  # a quarter of a second: loaded with the first redactor

        self._rules = secret_rules

    def __call__(self, text: str) -> str:
        for literal in self._literals:
            if literal in text:
                text = text.replace(literal, MASK)
        hints = self._rules.HINTS.find_matches_as_strings(text.lower(), overlapping=True)
        if not hints:
            return text
        shapes = list({id(shape): shape for hint in hints for shape in self._rules.BY_HINT[hint]}.values())
        spans = _spans(text, shapes)
        if spans:
            text = _masked(text, spans)
        # a token split across a line break: look again with the breaks between token characters taken out
        if self._rules.JOINABLE.search(text) is not None:
            text = _mask_joined(text, shapes, self._rules.JOINABLE)
        return text


def _spans(text: str, shapes: list[Shape]) -> list[tuple[int, int]]:
    """The character ranges of ``text`` that hold a secret, kept from breaking the JSON they may sit in."""
    spans = []
    for shape in shapes:
        for pattern in shape.patterns:
            for found in pattern.finditer(text):
                start, end = found.span(found.lastindex or 0) if shape.grouped else found.span()
                span = _within_string(text, start, end)
                if span is not None:
                    spans.append(span)
    return spans


def _within_string(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span cut short of any quote (a mask must never join two JSON strings), and not starting inside an
    escape sequence (``\\n`` must not lose its backslash's partner)."""
    quote = text.find('"', start, end)
    if quote != -1:
        end = quote
        while end > start and text[end - 1] == "\\":
            end -= 1
    backslashes = 0
    while start - backslashes > 0 and text[start - backslashes - 1] == "\\":
        backslashes += 1
    if backslashes % 2:
        start += 1
    return (start, end) if end > start else None


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    position = 0
    for start, end in sorted(spans):
        if end <= position:
            continue
        start = max(start, position)
        out.append(text[position:start])
        out.append(MASK)
        position = end
    out.append(text[position:])
    return "".join(out)


def _mask_joined(text: str, shapes: list[Shape], joinable: re.Pattern[str]) -> str:
    """Find secrets in the text with line breaks between token characters removed; mask them in place."""
    cuts: list[int] = []  # where, in the joined text, each removed break was
    removed: list[int] = []  # how many characters were removed up to and including each break
    total = 0
    for found in joinable.finditer(text):
        cuts.append(found.start() - total)
        total += found.end() - found.start()
        removed.append(total)
    joined = joinable.sub("", text)

    def original(index: int) -> int:
        before = bisect.bisect_right(cuts, index)
        return index + (removed[before - 1] if before else 0)

    spans = [
        (original(start), original(end - 1) + 1)
        for start, end in _spans(joined, shapes)
        if MASK not in joined[start:end]
    ]
    return _masked(text, spans) if spans else text


_DEFAULT: Redactor | None = None


def redact(text: str) -> str:
    """``text`` with secrets masked, by a redactor that knows this process's environment."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Redactor()
    return _DEFAULT(text)
