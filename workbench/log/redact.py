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
from dataclasses import dataclass

import ahocorasick_rs
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector

MASK = "[REDACTED]"

# what a token is made of, and a line break between two parts of one (raw, or escaped in JSON)
_TOKEN_CHAR = r"[A-Za-z0-9_\-]"
_BREAK = r"(?:\\r\\n|\\n|\r?\n)"
# a quote as text holds it: bare, or escaped inside a JSON string
_QUOTE = r"(?:\\*[\"'])?"
_SPACE = r"(?:\s|\\[nrt])"
# a token as keys are: long, and holding a digit (prose such as "Bearer authentication" holds none)
_KEYLIKE = r"(?=[A-Za-z0-9_\-.=:/+~]{8,})[A-Za-z0-9_\-.=:/+~]*[0-9][A-Za-z0-9_\-.=:/+~]*"
_KEY_SETTINGS = (
    "x-api-key|api[-_]?key|x-auth-token|private-token|anthropic_api_key|openai_api_key|anthropic_auth_token|"
    "aws_secret_access_key|aws_session_token"
)
_GITLAB_PREFIXES = ("glpat", "gldt", "glft", "glsoat", "glrt", "glptt", "glcbt", "gloas", "glimt", "glagent")


@dataclass(frozen=True)
class _Shape:
    """A kind of secret: patterns (whole match masked; with groups, the last group) and the lowercase
    strings one of which any text holding it contains."""

    hints: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    grouped: bool = False


def _plugin(plugin: type, hints: tuple[str, ...]) -> _Shape:
    """A detect-secrets plugin's patterns; they match a token's first characters, so each runs to the token's end."""
    patterns = tuple(re.compile(f"(?:{p.pattern}){_TOKEN_CHAR}*", p.flags) for p in plugin.denylist)
    return _Shape(hints, patterns)


def _private_key_blocks() -> _Shape:
    """detect-secrets finds a private key by its header line: the block, to its END line, is masked (cut
    short, to the end of the string that holds it)."""
    headers = "|".join(p.pattern for p in PrivateKeyDetector.denylist)
    block = rf"(?:-----)?(?:{headers})(?:-----)?(?:.|\n)*?(?:-----END[A-Z0-9 ]*-----|(?=(?<!\\)\"|$))"
    return _Shape(("private key", "putty-user-key"), (re.compile(block),))


_SHAPES = (
    _private_key_blocks(),
    _plugin(AWSKeyDetector, ("akia", "asia", "abia", "acca", "a3t", "aws")),
    _Shape(
        ("aws",),
        (re.compile(rf"(?i)(aws.{{0,20}}?(?:secret|key).{{0,20}}?[=:]{_SPACE}*{_QUOTE})([0-9a-zA-Z/+]{{40}})"),),
        grouped=True,
    ),
    _Shape(("://",), tuple(BasicAuthDetector.denylist), grouped=True),
    _plugin(GitHubTokenDetector, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    _Shape(("github_pat_",), (re.compile(r"github_pat_[A-Za-z0-9_]{22,}"),)),
    _plugin(GitLabTokenDetector, (*(f"{prefix}-" for prefix in _GITLAB_PREFIXES), "gr1348941")),
    _Shape(
        tuple(f"{p}-" for p in _GITLAB_PREFIXES),
        (re.compile(rf"(?:{'|'.join(_GITLAB_PREFIXES)})-{_TOKEN_CHAR}{{20,}}"),),
    ),
    _plugin(JwtTokenDetector, ("eyj",)),
    _plugin(NpmDetector, ("_authtoken",)),
    _plugin(OpenAIDetector, ("sk-",)),
    _Shape(("sk-",), (re.compile(rf"sk-(?:ant-(?:api|admin|oat)\d*|proj|svcacct|admin)-{_TOKEN_CHAR}{{20,}}"),)),
    _plugin(PypiTokenDetector, ("pypi-",)),
    _plugin(SendGridDetector, ("sg.",)),
    _plugin(SlackDetector, ("xox", "hooks.slack.com")),
    _Shape(("xapp-",), (re.compile(r"xapp-\d-[A-Za-z0-9]+-\d+-[a-z0-9]+"),)),
    _plugin(SquareOAuthDetector, ("sq0csp-",)),
    _plugin(StripeDetector, ("sk_live_", "rk_live_")),
    _Shape(("sk_live_", "rk_live_", "sk_test_", "rk_test_"), (re.compile(r"(?:r|s)k_(?:live|test)_[0-9a-zA-Z]{24,}"),)),
    _plugin(AzureStorageKeyDetector, ("accountkey=",)),
    # a bearer token, also on the line after the word; basic credentials
    _Shape(("bearer",), (re.compile(rf"(?i)(\bbearer{_SPACE}+)({_KEYLIKE})"),), grouped=True),
    _Shape(
        ("basic",),
        (re.compile(rf"(?i)(\bbasic{_SPACE}+)((?=[A-Za-z0-9+/]{{12,}})[A-Za-z0-9+/]*[0-9][A-Za-z0-9+/]*=*)"),),
        grouped=True,
    ),
    # key headers and settings: as headers, in JSON (escaped or not), as environment assignments
    _Shape(
        (
            "api-key",
            "api_key",
            "apikey",
            "x-auth-token",
            "private-token",
            "auth_token",
            "secret_access_key",
            "session_token",
        ),
        (re.compile(rf"(?i)((?:{_KEY_SETTINGS}){_QUOTE}{_SPACE}*[:=]{_SPACE}*{_QUOTE})({_KEYLIKE})"),),
        grouped=True,
    ),
    _Shape(
        ("authorization",),
        (
            re.compile(
                rf"(?i)(authorization{_QUOTE}{_SPACE}*[:=]{_SPACE}*{_QUOTE}(?:(?:token|bearer|basic){_SPACE}+)?)({_KEYLIKE})"
            ),
        ),
        grouped=True,
    ),
)
_BY_HINT: dict[str, list[_Shape]] = {}
for _shape in _SHAPES:
    for _hint in _shape.hints:
        _BY_HINT.setdefault(_hint, []).append(_shape)
# one pass over the lowercased text finds every hint at once (most lines hold none, and cost no more)
_HINTS = ahocorasick_rs.AhoCorasick(list(_BY_HINT))
_JOINABLE = re.compile(rf"(?<={_TOKEN_CHAR}){_BREAK}(?={_TOKEN_CHAR})")


class Redactor:
    """Masks secrets of known shapes, and the literal values of secrets from the environment."""

    def __init__(self, extra_secrets: Iterable[str] = ()) -> None:
        secrets = [s for s in extra_secrets if len(s) >= 8]
        for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
            value = os.environ.get(name, "")
            if len(value) >= 8:
                secrets.append(value)
        self._literals = sorted(set(secrets), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for literal in self._literals:
            if literal in text:
                text = text.replace(literal, MASK)
        hints = _HINTS.find_matches_as_strings(text.lower(), overlapping=True)
        if not hints:
            return text
        shapes = list({id(shape): shape for hint in hints for shape in _BY_HINT[hint]}.values())
        spans = _spans(text, shapes)
        if spans:
            text = _masked(text, spans)
        # a token split across a line break: look again with the breaks between token characters taken out
        if _JOINABLE.search(text) is not None:
            text = _mask_joined(text, shapes)
        return text


def _spans(text: str, shapes: list[_Shape]) -> list[tuple[int, int]]:
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


def _mask_joined(text: str, shapes: list[_Shape]) -> str:
    """Find secrets in the text with line breaks between token characters removed; mask them in place."""
    cuts: list[int] = []  # where, in the joined text, each removed break was
    removed: list[int] = []  # how many characters were removed up to and including each break
    total = 0
    for found in _JOINABLE.finditer(text):
        cuts.append(found.start() - total)
        total += found.end() - found.start()
        removed.append(total)
    joined = _JOINABLE.sub("", text)

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
