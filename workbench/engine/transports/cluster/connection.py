"""A connection to the cluster's NATS server: credentials, TLS, and errors a person can act on.

The URL may carry a user and password or a token (``nats://user:pass@host:4222``,
``nats://token@host:4222``); ``[cluster] creds`` names a credentials file (a user JWT and
its nkey seed), ``[cluster] nkey`` a file holding an nkey seed. ``tls://`` (or a
``tls_ca``) turns TLS on. A refused credential ends the connection at once with
:class:`ClusterRefused`; a server that cannot be reached raises :class:`ClusterUnreachable`.
Once connected, the connection is kept: it reconnects for as long as it takes.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

import nats
from nats.aio.client import Client as NATS

from workbench.engine.config import ClusterConfig

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5
RECONNECT_WAIT_S = 0.5
AUTH_MARKERS = ("authorization violation", "authentication", "user authentication expired", "permissions violation")


class ClusterError(Exception):
    """The cluster cannot be used; the message says why and what to do."""


class ClusterRefused(ClusterError):
    """The server turned the credentials down."""


class ClusterUnreachable(ClusterError):
    """No server answered at the URL."""


def shown_url(url: str) -> str:
    """The URL without its credentials, to show and to log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def tls_context(settings: ClusterConfig) -> ssl.SSLContext | None:
    """TLS when the URL says ``tls://`` or a certificate is configured; None for plain ``nats://``."""
    wants = urlsplit(settings.url or "").scheme == "tls" or settings.tls_ca or settings.tls_cert
    if not wants:
        return None
    try:
        context = ssl.create_default_context(cafile=str(settings.tls_ca) if settings.tls_ca else None)
        if settings.tls_cert:
            key = str(settings.tls_key) if settings.tls_key else None
            context.load_cert_chain(str(settings.tls_cert), key)
    except (OSError, ssl.SSLError) as exc:
        raise ClusterError(f"the cluster's TLS files cannot be used: {exc}") from None
    return context


Callback = Callable[[], Awaitable[None]]


async def connect(
    settings: ClusterConfig,
    *,
    name: str,
    on_disconnected: Callback | None = None,
    on_reconnected: Callback | None = None,
) -> NATS:
    """Connect to ``settings.url``; raises ClusterRefused or ClusterUnreachable with a sentence to act on."""
    if not settings.url:
        raise ClusterError("no cluster is configured: give --cluster nats://HOST:4222 or set [cluster] url")
    where = shown_url(settings.url)
    for path in (settings.creds, settings.nkey):
        if path is not None and not path.is_file():
            raise ClusterError(f"the credentials file {path} does not exist")
    errors: list[Exception] = []

    async def error_cb(exc: Exception) -> None:
        errors.append(exc)
        log.debug("cluster %s: %s", where, exc)

    async def quiet() -> None:
        return None

    try:
        client = await nats.connect(
            settings.url,
            name=name,
            tls=tls_context(settings),
            user_credentials=str(settings.creds) if settings.creds else None,
            nkeys_seed=str(settings.nkey) if settings.nkey else None,
            connect_timeout=CONNECT_TIMEOUT_S,
            reconnect_time_wait=RECONNECT_WAIT_S,  # type: ignore[arg-type,unused-ignore]  # seconds; typed int
            # the first connection is tried once (a refusal is final; the client would retry it forever)
            allow_reconnect=False,
            max_reconnect_attempts=1,
            error_cb=error_cb,
            disconnected_cb=on_disconnected or quiet,
            reconnected_cb=on_reconnected or quiet,
        )
        # once in, a lost server is waited for, however long it takes
        client.options.update(allow_reconnect=True, max_reconnect_attempts=-1)
        return client
    except Exception as exc:  # nats raises plain Errors, OSErrors and timeouts for the same few causes
        text = " ".join(str(e) for e in [*errors, exc]).lower()
        if any(marker in text for marker in AUTH_MARKERS):
            raise ClusterRefused(
                f"the cluster at {where} refused the credentials ({_reason(errors, exc)}): "
                "check the user and password or token in the URL, or the creds/nkey file"
            ) from None
        raise ClusterUnreachable(f"no NATS server answered at {where} ({_reason(errors, exc)})") from None


def _reason(errors: list[Exception], exc: Exception) -> str:
    last = errors[-1] if errors else exc
    text = str(last).removeprefix("nats: ").strip("'") or type(last).__name__
    return text
