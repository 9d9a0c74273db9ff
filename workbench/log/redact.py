"""Secrets never reach a bundle: known key shapes are masked before a line is written."""

from __future__ import annotations

import os
import re

MASK = "[REDACTED]"

_PATTERNS = [
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-\.=:/+]{8,}"),
    re.compile(r"(?i)(x-api-key[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(ANTHROPIC_API_KEY\s*[=:]\s*[\"']?)[^\s\"']{8,}"),
]
# cheap pre-check so the common line (no secret-like text at all) skips the regexes
_HINTS = ("sk-ant-", "earer", "EARER", "api-key", "API-KEY", "ANTHROPIC_API_KEY")


class Redactor:
    """Masks API keys, bearer tokens and the literal values of secret env variables."""

    def __init__(self, extra_secrets: list[str] | None = None) -> None:
        secrets = list(extra_secrets or [])
        key = os.environ.get("ANTHROPIC_API_KEY", "")
        if len(key) >= 8:
            secrets.append(key)
        self._literals = sorted(set(secrets), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for literal in self._literals:
            if literal in text:
                text = text.replace(literal, MASK)
        if not any(h in text for h in _HINTS):
            return text
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
        return text
