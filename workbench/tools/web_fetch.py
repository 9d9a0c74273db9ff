"""WebFetch: fetch a URL, turn the page into Markdown, and answer the model's question about it.

The page is fetched with httpx (the HTTP client the Anthropic SDK brings), its
HTML converted to Markdown by html2text, and the Markdown — capped — goes to a
small model with the model's ``prompt``; its answer is the result (with the
offline scripted brain, the Markdown itself). What the engine decides is in
:class:`WebAccess`, given in ``ToolContext.extras``.

Every address a host resolves to is checked before connecting, and the
connection goes to that very address (no second lookup an attacker's DNS could
change): private, loopback, link-local and other non-public addresses are
refused unless the configuration allows their network. Redirects within the
same host are followed (each hop checked again); a redirect to another host is
reported to the model, which fetches that URL in a call of its own, so the
permission rules judge it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx2 as httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput

WEB_ACCESS = "web_access"  # the key of the WebAccess in ToolContext.extras
MAX_MARKDOWN_CHARS = 100_000  # of the page given to the model that answers
USER_AGENT = "workbench-webfetch/1 (+https://github.com)"
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml+xml", "application/javascript")

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Answer = Callable[[str, str, str], Awaitable[str]]  # (prompt, markdown, url) -> the answer


async def markdown_itself(prompt: str, markdown: str, url: str) -> str:
    """The answer when no model can be asked (the offline brain): the page's Markdown."""
    return markdown


@dataclass
class WebAccess:
    """What the session allows a fetch, and who answers questions about a page."""

    answer: Answer = markdown_itself
    allow_networks: list[IpNetwork] = field(default_factory=list)
    max_bytes: int = 5 << 20
    max_redirects: int = 5
    timeout_s: float = 30.0

    def check(self, host: str, address: str) -> None:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_global or any(ip in network for network in self.allow_networks):
            return
        raise ToolFailure(
            f"Refused: {host} is at {ip}, a {_kind_of(ip)} address; fetching it would reach into this machine "
            "or its network. A person can allow that network in the config ([web] allow_networks)."
        )


def _kind_of(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    for kind in ("loopback", "link_local", "private", "multicast", "unspecified", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return "non-public"


class WebFetchInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="The full URL to fetch (http or https)")
    prompt: str = Field(description="What you want to know from the page: it is answered from the page's content")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return url.strip()


class WebFetch(Tool[WebFetchInput]):
    name = "WebFetch"
    description = (
        "Fetch a web page and get an answer to a question about it: the page (HTML converted to Markdown) is "
        "read by a fast model that answers your prompt from it. Give the full URL and say exactly what you "
        "need. A redirect to another host is reported: fetch the new URL then. Pages of this machine or its "
        "private network are refused unless allowed."
    )
    Input = WebFetchInput
    kind = "network"

    def subject(self, params: WebFetchInput) -> str:
        return params.url

    async def run(self, params: WebFetchInput, ctx: ToolContext) -> ToolOutput:
        access = ctx.extras.get(WEB_ACCESS)
        if not isinstance(access, WebAccess):
            raise ToolFailure("Fetching web pages is not available to this agent")
        page = await fetch(params.url, access)
        if page.redirect is not None:
            return ToolOutput(
                content=f"{params.url} redirects to another host: {page.redirect}\n"
                f'To read it, call WebFetch again with url "{page.redirect}" and the same prompt.'
            )
        answer = await access.answer(params.prompt, page.markdown, page.url)
        cut = f", cut at {access.max_bytes:,} bytes" if page.cut else ""
        return ToolOutput(
            content=f"{page.url} ({page.status}, {page.content_type}, {page.size:,} bytes{cut})\n\n{answer}"
        )


@dataclass
class Page:
    url: str
    status: int = 0
    content_type: str = ""
    size: int = 0
    cut: bool = False
    markdown: str = ""
    redirect: str | None = None  # another host's URL the page sent us to


async def fetch(url: str, access: WebAccess) -> Page:
    """The page at ``url`` as Markdown, following same-host redirects; raises ToolFailure with the reason."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=access.timeout_s, trust_env=False) as client:
        for _ in range(access.max_redirects + 1):
            page, location = await _one_hop(client, url, access)
            if location is None:
                return page
            target = urljoin(url, location)
            if not _same_site(url, target):
                return Page(url=url, status=page.status, redirect=target)
            url = target
    raise ToolFailure(f"{url}: more than {access.max_redirects} redirects")


async def _one_hop(client: httpx.AsyncClient, url: str, access: WebAccess) -> tuple[Page, str | None]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = await _address(host, port, access)
    literal = f"[{address}]" if ":" in address else address
    direct = parts._replace(netloc=f"{literal}:{port}").geturl()
    headers = {
        "Host": parts.netloc.rsplit("@", 1)[-1],
        "User-Agent": USER_AGENT,
        "Accept": "text/html, text/*;q=0.9, */*;q=0.5",
    }
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    try:
        async with client.stream("GET", direct, headers=headers, extensions=extensions) as response:
            if response.is_redirect and "location" in response.headers:
                return Page(url=url, status=response.status_code), response.headers["location"]
            if response.status_code >= 400:
                raise ToolFailure(f"{url} answered {response.status_code} {response.reason_phrase}")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type and not content_type.startswith(_TEXT_TYPES):
                raise ToolFailure(f"{url} is {content_type}, not a page: WebFetch reads HTML and text")
            body, cut = await _capped_body(response, access.max_bytes)
            text = body.decode(response.encoding or "utf-8", errors="replace")
    except httpx.HTTPError as exc:
        raise ToolFailure(f"{url} could not be fetched: {type(exc).__name__}: {exc}") from None
    markdown = _markdown(text) if content_type in ("text/html", "application/xhtml+xml") or _looks_html(text) else text
    if len(markdown) > MAX_MARKDOWN_CHARS:
        markdown, cut = markdown[:MAX_MARKDOWN_CHARS], True
    page = Page(
        url=url, status=response.status_code, content_type=content_type or "text/plain", size=len(body), cut=cut
    )
    page.markdown = markdown
    return page, None


async def _address(host: str, port: int, access: WebAccess) -> str:
    """The address to connect to: every address the host resolves to must pass the network check."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ToolFailure(f"{host} could not be resolved: {exc.strerror}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        access.check(host, address)
    return addresses[0]


async def _capped_body(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk[: limit - len(body)]
        if len(body) >= limit:
            return bytes(body), True
    return bytes(body), False


def _same_site(url: str, target: str) -> bool:
    """A redirect that stays on the same host (http to https counts as the same)."""
    before, after = urlsplit(url), urlsplit(target)
    if after.scheme not in ("http", "https"):
        return False
    return (before.hostname, before.port) == (after.hostname, after.port) or (
        before.hostname == after.hostname and before.scheme == "http" and after.scheme == "https" and not after.port
    )


def _looks_html(text: str) -> bool:
    head = text.lstrip()[:200].lower()
    return head.startswith(("<!doctype html", "<html"))


def _markdown(html: str) -> str:
    import html2text

    converter = html2text.HTML2Text()
    converter.body_width = 0  # no hard wrapping: the model reads lines, not a terminal
    converter.ignore_images = False
    return converter.handle(html).strip()
