"""WebFetch against a real HTTP server on loopback: HTML to Markdown, redirects, caps, refusals, rules."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine_driver import ask
from tests.fake_api import FakeAnthropicServer, Reply
from tests.fake_api import ToolCall as FakeToolCall
from tests.web_server import web_server
from workbench.brains.anthropic import AnthropicBrain
from workbench.engine.config import Config, ConfigError, PermissionsConfig, WebSettings, load_config
from workbench.engine.engine import Engine
from workbench.engine.policy.permissions import PermissionPolicy, PermissionRuleError, Rule
from workbench.protocol.events import PermissionDecision, ToolResult
from workbench.tools.base import ToolContext, ToolOutput
from workbench.tools.registry import ToolRegistry
from workbench.tools.web_fetch import WEB_ACCESS, WebAccess, WebFetch, WebFetchInput

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]


@pytest.fixture
def site() -> Iterator[str]:
    with web_server() as url:
        yield url


async def fetch(url: str, access: WebAccess | None = None, prompt: str = "What wind does a kite need?") -> ToolOutput:
    access = access or WebAccess(allow_networks=LOOPBACK)
    tool = WebFetch()
    ctx = ToolContext(workspace=Path("."), extras={WEB_ACCESS: access})
    return await ToolRegistry([tool]).invoke(tool, WebFetchInput(url=url, prompt=prompt), ctx)


async def test_html_becomes_markdown(site: str) -> None:
    out = await fetch(f"{site}/article")
    assert not out.is_error
    head, _, body = out.content.partition("\n\n")
    assert head.startswith(f"{site}/article (200, text/html, ") and head.endswith(" bytes)")
    assert "# Flying kites" in body and "**steady wind**" in body and "  * Diamond kites are easy" in body
    assert "[the guide](/guide)" in body
    assert "track()" not in body and "color: red" not in body


async def test_plain_text_comes_as_it_is(site: str) -> None:
    out = await fetch(f"{site}/notes.txt")
    assert out.content.endswith("\n\nplain notes\nline two\n")


async def test_a_redirect_on_the_same_host_is_followed(site: str) -> None:
    out = await fetch(f"{site}/moved")
    assert out.content.startswith(f"{site}/article (200,")
    assert "# Flying kites" in out.content


async def test_a_redirect_to_another_host_is_reported_for_a_fetch_of_its_own(site: str) -> None:
    port = site.rsplit(":", 1)[1]
    out = await fetch(f"{site}/elsewhere")
    assert not out.is_error
    assert out.content == (
        f"{site}/elsewhere redirects to another host: http://localhost:{port}/article\n"
        f'To read it, call WebFetch again with url "http://localhost:{port}/article" and the same prompt.'
    )


async def test_a_redirect_loop_ends(site: str) -> None:
    out = await fetch(f"{site}/loop")
    assert out.is_error and out.content == f"{site}/loop: more than 5 redirects"


async def test_a_huge_page_is_cut_at_the_cap(site: str) -> None:
    out = await fetch(f"{site}/huge", WebAccess(allow_networks=LOOPBACK, max_bytes=1 << 20))
    assert out.content.startswith(f"{site}/huge (200, text/html, 1,048,576 bytes, cut at 1,048,576 bytes)")


async def test_a_private_address_is_refused_unless_its_network_is_allowed(site: str) -> None:
    out = await fetch(f"{site}/article", WebAccess())
    assert out.is_error
    assert out.content.startswith("Refused: 127.0.0.1 is at 127.0.0.1, a loopback address;")
    assert "[web] allow_networks" in out.content
    assert not (await fetch(f"{site}/article", WebAccess(allow_networks=LOOPBACK))).is_error


@pytest.mark.parametrize(
    ("path", "message"),
    [("/logo.png", "is image/png, not a page: WebFetch reads HTML and text"), ("/missing", "answered 404 Not Found")],
)
async def test_what_is_not_a_page_is_refused_clearly(site: str, path: str, message: str) -> None:
    out = await fetch(f"{site}{path}")
    assert out.is_error and message in out.content


def test_the_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="must be an http:// or https:// URL with a host"):
        WebFetchInput(url="file:///etc/passwd", prompt="x")


def test_domain_rules_in_claude_codes_syntax() -> None:
    tool, policy = (
        WebFetch(),
        PermissionPolicy(allow=["WebFetch(domain:docs.python.org)"], deny=["WebFetch(domain:*.internal.example)"]),
    )

    def decide(url: str) -> str:
        return policy.decide(tool, WebFetchInput(url=url, prompt="x")).verdict

    assert decide("https://docs.python.org/3/library/") == "allow"
    assert decide("https://python.org/") == "ask"  # not that domain: the mode asks before reaching the network
    assert decide("https://wiki.internal.example/page") == "deny"
    assert policy.suggest_rule(tool, WebFetchInput(url="https://peps.python.org/pep-8/", prompt="x")) == (
        "WebFetch(domain:peps.python.org)"
    )
    with pytest.raises(PermissionRuleError, match="a WebFetch rule names a domain"):
        Rule.parse("WebFetch(docs.python.org)")
    assert PermissionPolicy(mode="plan").decide(tool, WebFetchInput(url="https://a.org/", prompt="x")).verdict == "ask"


def test_a_bad_network_in_the_config_is_reported(tmp_path: Path) -> None:
    (tmp_path / ".workbench").mkdir()
    (tmp_path / ".workbench" / "config.toml").write_text('[web]\nallow_networks = ["localhost"]\n')
    with pytest.raises(ConfigError, match="web.allow_networks: 'localhost' is not a network"):
        load_config(tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "none")})


async def test_with_claude_a_small_model_answers_the_prompt_from_the_page(site: str, tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    url = f"{site}/article"
    replies = [
        Reply(text="Fetching.", tool_calls=[FakeToolCall(name="WebFetch", input={"url": url, "prompt": "Wind?"})]),
        Reply(text="Steady wind of 10 to 25 km/h."),  # the small model, answering about the page
        Reply(text="It needs 10-25 km/h."),
    ]
    config = Config(
        bundles=tmp_path / "bundles",
        fsync="never",
        web=WebSettings(allow_networks=["127.0.0.0/8"]),
        permissions=PermissionsConfig(allow=["WebFetch(domain:127.0.0.1)"]),
    )
    async with FakeAnthropicServer(*replies) as server:
        brain = AnthropicBrain("claude-sonnet-4-6", base_url=server.base_url, api_key="k")
        engine = await Engine.open(config, tmp_path / "ws", brain)
        assert await ask(engine, "what wind does a kite need?") == "It needs 10-25 km/h."
        await engine.close()
        side: dict[str, Any] = server.message_requests[1].body
    assert side["model"] == "claude-haiku-4-5" and "tools" not in side
    asked = side["messages"][0]["content"][0]["text"]
    assert "# Flying kites" in asked and asked.endswith("Wind?")
    decision = next(e for e in engine.events if isinstance(e, PermissionDecision))
    assert (decision.decision, decision.rule) == ("allow", "WebFetch(domain:127.0.0.1)")
    result = next(e for e in engine.events if isinstance(e, ToolResult))
    assert result.content.startswith(f"{url} (200, text/html,")
    assert result.content.endswith("\n\nSteady wind of 10 to 25 km/h.")
