"""Secrets of every common kind are masked wherever text is written: events, meta.json, exports.

The corpus has one real-shaped sample per kind (made up, of the right shape)
and look-alikes that must come through untouched.
"""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest

from tests.bundle_fixtures import make_session, store_of
from workbench.engine.config import Config
from workbench.frontends.cli.bundles import export_command
from workbench.frontends.cli.headless import list_bundles
from workbench.log.bundle import BundleWriter, parse_bundle
from workbench.log.export import export
from workbench.log.redact import MASK, Redactor
from workbench.protocol.events import ToolResult, UserMessage

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "-----END RSA PRIVATE KEY-----"
)
# (kind, text holding the secret, the secret itself)
SECRETS: list[tuple[str, str, str]] = [
    ("aws access key", "aws_access_key_id = AKIAQ3EGUMQ7RXBTW6ZF", "AKIAQ3EGUMQ7RXBTW6ZF"),
    (
        "aws secret key",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY1",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY1",
    ),
    (
        "github classic",
        "token ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234 here",
        "ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234",
    ),
    (
        "github fine-grained",
        "GH_TOKEN=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789abcdefghijklm",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789abcdefghijklm",
    ),
    ("gitlab", "glpat-xK3vQ9mN2pL8rT5wY1zA is the token", "glpat-xK3vQ9mN2pL8rT5wY1zA"),
    (
        "slack",
        "SLACK=xoxb-2048123456-4096123456789-aBcDeFgHiJkLmNoPqRsTuVwX",
        "xoxb-2048123456-4096123456789-aBcDeFgHiJkLmNoPqRsTuVwX",
    ),
    (
        "openai project",
        "OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
    ),
    (
        "anthropic",
        "export ANTHROPIC_API_KEY=sk-ant-api03-Xy7mK2pQ9vR4tW8zB1nC5dF0gH3jL6sA-9bE2kM7pQ1vR4tW8zB1nC5dF0gH3jL6sA",
        "sk-ant-api03-Xy7mK2pQ9vR4tW8zB1nC5dF0gH3jL6sA-9bE2kM7pQ1vR4tW8zB1nC5dF0gH3jL6sA",
    ),
    (
        "stripe",
        "stripe key sk_live_51HbQ2xLkR7pT9mN4vW8zA3cE6fG1hJ5kL0pQ2rS4tU6vW8xY0z",
        "sk_live_51HbQ2xLkR7pT9mN4vW8zA3cE6fG1hJ5kL0pQ2rS4tU6vW8xY0z",
    ),
    ("basic auth header", "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1lMTIz", "YWxhZGRpbjpvcGVuc2VzYW1lMTIz"),
    ("password in url", "git clone https://deploy:Tr0ub4dor-and-3@git.example.com/x.git", "Tr0ub4dor-and-3"),
    ("database url", "DATABASE_URL=postgres://app:s3cr3t-P4ss@db.internal:5432/prod", "s3cr3t-P4ss"),
    ("private key", f"the key:\n{PEM}\nend", "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"),
    ("x-api-key json", '{"headers": {"x-api-key": "k9Xq2Lm8Rt4Vw7Zp3Yb6"}}', "k9Xq2Lm8Rt4Vw7Zp3Yb6"),
    ("bearer next line", "Authorization: Bearer\nZm9vYmFyYmF6MTIzNDU2Nzg5MA", "Zm9vYmFyYmF6MTIzNDU2Nzg5MA"),
    ("header any case", "X-API-KEY: q7W3e9R1t5Y8u2I4o6P0", "q7W3e9R1t5Y8u2I4o6P0"),
    ("header lower case", "authorization: bearer aB3dE5gH7jK9mN1pQ3sT", "aB3dE5gH7jK9mN1pQ3sT"),
    (
        "split across a line break",
        "key: sk-ant-api03-Xy7mK2pQ9vR4tW8z\nB1nC5dF0gH3jL6sA9bE2kM7pQ1vR4tW8zB1nC5dF0gH3jL6sA",
        "B1nC5dF0gH3jL6sA9bE2kM7pQ1vR4tW8zB1nC5dF0gH3jL6sA",
    ),
    (
        "jwt",
        "cookie=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        "dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk",
    ),
]
# text that looks a little like a secret and must stay exactly as it is
LOOK_ALIKES = [
    "Use the Bearer authentication scheme described in RFC 6750.",
    "Set api_key = os.environ['API_KEY'] before calling the client.",
    'The config has "x-api-key": "YOUR_API_KEY_HERE" as a placeholder.',
    "git clone git@github.com:org/repo.git and https://github.com/org/repo",
    "The ghp_ prefix marks classic GitHub tokens; sk-ant- marks Anthropic keys.",
    "AKIA is the prefix of AWS access key ids (AKIAEXAMPLE is too short).",
    "-----BEGIN PUBLIC KEY----- is not a secret",
    "see https://docs.example.com:8443/path?q=1 and mailto:someone@example.com",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "Authorization header: see the docs",
    "basic usage: workbench run 'prompt'",
]


@pytest.mark.parametrize(("kind", "text", "secret"), SECRETS, ids=[row[0] for row in SECRETS])
def test_each_kind_of_secret_is_masked(kind: str, text: str, secret: str) -> None:
    out = Redactor()(text)
    assert secret not in out and MASK in out, out
    # and in its JSON-escaped form, as a bundle line holds it, the line staying valid JSON
    line = json.dumps({"content": text})
    masked = Redactor()(line)
    assert secret not in masked and secret not in json.loads(masked)["content"], masked


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_stay_as_they_are(text: str) -> None:
    assert Redactor()(text) == text
    line = json.dumps({"content": text})
    assert Redactor()(line) == line


def test_masking_never_breaks_the_json_line_it_is_in() -> None:
    line = json.dumps({"a": "https://x.com", "b": "u:p4ssw0rd9@h", "c": "\nn0123456789abcdef0123456789abcdef-us1"})
    masked = Redactor()(line.replace(" ", ""))
    json.loads(masked)


async def _bundle_with(tmp_path: Path, *texts: str) -> Path:
    folder = tmp_path / "s1"
    writer = BundleWriter(folder, "s1", fsync="never")
    await writer.start()
    for text in texts:
        await writer.append(UserMessage(agent="primary", text=text))
        await writer.append(ToolResult(agent="primary", tool_use_id="t", content=text))
    await writer.close()
    return folder


async def test_the_whole_corpus_through_a_bundle_and_its_meta(tmp_path: Path) -> None:
    folder = await _bundle_with(tmp_path, *(text for _, text, _ in SECRETS), *LOOK_ALIKES)
    written = (folder / "events.jsonl").read_text()
    meta = (folder / "meta.json").read_text()
    for kind, _, secret in SECRETS:
        assert secret not in written, kind
        assert secret not in meta, kind
    contents = parse_bundle((folder / "events.jsonl").read_bytes())
    assert not contents.problems
    texts = [event.text for event in contents.events if isinstance(event, UserMessage)]
    assert texts[len(SECRETS) :] == LOOK_ALIKES


async def test_a_key_in_the_first_prompt_does_not_leak_through_the_title(tmp_path: Path) -> None:
    key = "sk-ant-api03-Xy7mK2pQ9vR4tW8zB1nC5dF0gH3jL6sA-9bE2kM7pQ1vR4tW8zB1nC5dF0gH3jL6sA"
    session = await make_session(tmp_path, [f"use the key {key} to call the API"])
    store = store_of(tmp_path)
    meta = (store.folder(session) / "meta.json").read_text()
    assert key[:20] not in meta and MASK in json.loads(meta)["title"]
    listing = io.StringIO()
    await list_bundles(Config(bundles=store.root), out=listing)
    assert key[:20] not in listing.getvalue() and MASK in listing.getvalue()
    exported = "".join(await export(store, session, "markdown"))
    assert key[:20] not in exported
    assert f"# use the key {MASK}" in exported


async def test_an_export_over_an_existing_file_is_made_private(tmp_path: Path) -> None:
    session = await make_session(tmp_path, ["read README.md"])
    target = tmp_path / "out.md"
    target.write_text("old")
    os.chmod(target, 0o644)
    code = await export_command(Config(bundles=store_of(tmp_path).root), session, "markdown", target, err=io.StringIO())
    assert code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "read README.md" in target.read_text()
