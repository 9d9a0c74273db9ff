"""The secret shapes redaction looks for, compiled once: detect-secrets' patterns and our additions.

Kept apart from :mod:`workbench.log.redact` because loading detect-secrets
takes a quarter of a second: it loads when the first redactor is made (the
app loads it in a thread before the engine opens), not with every command that
merely imports the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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
class Shape:
    """A kind of secret: patterns (whole match masked; with groups, the last group) and the lowercase
    strings one of which any text holding it contains."""

    hints: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    grouped: bool = False


def _plugin(plugin: Any, hints: tuple[str, ...]) -> Shape:
    """A detect-secrets plugin's patterns; they match a token's first characters, so each runs to the token's end."""
    patterns = tuple(re.compile(f"(?:{p.pattern}){_TOKEN_CHAR}*", p.flags) for p in plugin.denylist)
    return Shape(hints, patterns)


def _private_key_blocks() -> Shape:
    """detect-secrets finds a private key by its header line: the block, to its END line, is masked (cut
    short, to the end of the string that holds it)."""
    headers = "|".join(p.pattern for p in PrivateKeyDetector.denylist)
    block = rf"(?:-----)?(?:{headers})(?:-----)?(?:.|\n)*?(?:-----END[A-Z0-9 ]*-----|(?=(?<!\\)\"|$))"
    return Shape(("private key", "putty-user-key"), (re.compile(block),))


_SHAPES = (
    _private_key_blocks(),
    _plugin(AWSKeyDetector, ("akia", "asia", "abia", "acca", "a3t", "aws")),
    Shape(
        ("aws",),
        (re.compile(rf"(?i)(aws.{{0,20}}?(?:secret|key).{{0,20}}?[=:]{_SPACE}*{_QUOTE})([0-9a-zA-Z/+]{{40}})"),),
        grouped=True,
    ),
    Shape(("://",), tuple(BasicAuthDetector.denylist), grouped=True),
    _plugin(GitHubTokenDetector, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    Shape(("github_pat_",), (re.compile(r"github_pat_[A-Za-z0-9_]{22,}"),)),
    _plugin(GitLabTokenDetector, (*(f"{prefix}-" for prefix in _GITLAB_PREFIXES), "gr1348941")),
    Shape(
        tuple(f"{p}-" for p in _GITLAB_PREFIXES),
        (re.compile(rf"(?:{'|'.join(_GITLAB_PREFIXES)})-{_TOKEN_CHAR}{{20,}}"),),
    ),
    _plugin(JwtTokenDetector, ("eyj",)),
    _plugin(NpmDetector, ("_authtoken",)),
    _plugin(OpenAIDetector, ("sk-",)),
    Shape(("sk-",), (re.compile(rf"sk-(?:ant-(?:api|admin|oat)\d*|proj|svcacct|admin)-{_TOKEN_CHAR}{{20,}}"),)),
    _plugin(PypiTokenDetector, ("pypi-",)),
    _plugin(SendGridDetector, ("sg.",)),
    _plugin(SlackDetector, ("xox", "hooks.slack.com")),
    Shape(("xapp-",), (re.compile(r"xapp-\d-[A-Za-z0-9]+-\d+-[a-z0-9]+"),)),
    _plugin(SquareOAuthDetector, ("sq0csp-",)),
    _plugin(StripeDetector, ("sk_live_", "rk_live_")),
    Shape(("sk_live_", "rk_live_", "sk_test_", "rk_test_"), (re.compile(r"(?:r|s)k_(?:live|test)_[0-9a-zA-Z]{24,}"),)),
    _plugin(AzureStorageKeyDetector, ("accountkey=",)),
    # a bearer token, also on the line after the word; basic credentials
    Shape(("bearer",), (re.compile(rf"(?i)(\bbearer{_SPACE}+)({_KEYLIKE})"),), grouped=True),
    Shape(
        ("basic",),
        (re.compile(rf"(?i)(\bbasic{_SPACE}+)((?=[A-Za-z0-9+/]{{12,}})[A-Za-z0-9+/]*[0-9][A-Za-z0-9+/]*=*)"),),
        grouped=True,
    ),
    # key headers and settings: as headers, in JSON (escaped or not), as environment assignments
    Shape(
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
    Shape(
        ("authorization",),
        (
            re.compile(
                rf"(?i)(authorization{_QUOTE}{_SPACE}*[:=]{_SPACE}*{_QUOTE}(?:(?:token|bearer|basic){_SPACE}+)?)({_KEYLIKE})"
            ),
        ),
        grouped=True,
    ),
)
BY_HINT: dict[str, list[Shape]] = {}
for _shape in _SHAPES:
    for _hint in _shape.hints:
        BY_HINT.setdefault(_hint, []).append(_shape)
# one pass over the lowercased text finds every hint at once (most lines hold none, and cost no more)
HINTS = ahocorasick_rs.AhoCorasick(list(BY_HINT))
JOINABLE = re.compile(rf"(?<={_TOKEN_CHAR}){_BREAK}(?={_TOKEN_CHAR})")
