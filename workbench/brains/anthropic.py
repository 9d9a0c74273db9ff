"""AnthropicBrain: the real Messages API through ``AsyncAnthropic().messages.stream``.

Importing ``anthropic`` takes about a second, so import this module lazily.

The SDK's own retries are switched off (``max_retries=0``) and done here instead,
so that every wait is visible to the user as a ``RetryNotice``. Only failures
before any content has streamed are retried: once deltas have reached the
caller, a retry would show them twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import anthropic
import httpx2  # the SDK's HTTP transport: its errors surface raw when a stream breaks mid-body
from anthropic.lib.streaming import AsyncMessageStream
from pydantic import BaseModel, TypeAdapter

from workbench.brains.base import MAX_ATTEMPTS, REQUEST_TIMEOUT_S, STALL_TIMEOUT_S
from workbench.brains.cache_breakpoints import with_breakpoints
from workbench.protocol.brain_io import (
    BrainError,
    BrainEvent,
    BrainRequest,
    MessageDone,
    RetryNotice,
    TextDelta,
    ThinkingDelta,
    ToolUseStarted,
    UsageReport,
)
from workbench.protocol.content import ContentBlock
from workbench.protocol.events import CacheCreation

_T = TypeVar("_T")
_CONTENT = TypeAdapter(ContentBlock)
_KNOWN_BLOCKS = {"text", "tool_use", "thinking", "redacted_thinking"}
# the SDK's own events derived from a raw one ("text" accompanies a text_delta …): not counted
_DERIVED_EVENTS = {"text", "thinking", "signature", "input_json", "citation"}


class _Failure(BaseModel):
    """One failed attempt, classified."""

    error_type: str  # auth | rate_limit | overloaded | server | connection | stream_cut | bad_request
    summary: str  # "Rate limited by the API (429)"
    detail: str = ""  # what the server or the transport said
    retryable: bool
    retry_after_s: float | None = None

    def describe(self, attempts: int = 1) -> str:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return f"{self.summary}{tries}: {self.detail}" if self.detail else f"{self.summary}{tries}"


class _StreamCut(Exception):
    """The response ended (or broke) before ``message_stop``."""


class _Stalled(Exception):
    """Nothing came for too long: no response at all, or no event of the reply (pings aside)."""

    def __init__(self, waited_s: float, out_of_time: bool) -> None:
        super().__init__(f"nothing for {waited_s:g} s")
        self.waited_s = waited_s
        self.out_of_time = out_of_time  # the whole request's deadline, not a stall, ran out


class _Progress:
    """What one attempt got through: decides whether a failure may be retried."""

    def __init__(self) -> None:
        self.responded = False  # the response's status and headers arrived
        self.events = 0  # raw SSE events received (pings aside)
        self.content_started = False


class AnthropicBrain:
    name = "anthropic"

    def __init__(
        self,
        model: str,
        *,
        max_tokens: int = 8192,
        base_url: str | None = None,
        api_key: str | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 30.0,
        request_timeout_s: float = REQUEST_TIMEOUT_S,
        stall_timeout_s: float = STALL_TIMEOUT_S,
    ) -> None:
        """``base_url`` None: the SDK default (honours ``ANTHROPIC_BASE_URL``);
        ``api_key`` None: ``ANTHROPIC_API_KEY``. ``max_tokens`` caps every request's own.
        ``request_timeout_s``: the longest a whole reply may take, retries included;
        ``stall_timeout_s``: the longest wait for the response, then for each event of it (pings
        do not count: a server that only pings is stalled)."""
        self.model = model
        self.max_tokens = max_tokens
        self.base_url = base_url
        self.max_attempts = max(1, max_attempts)
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.request_timeout_s = request_timeout_s
        self.stall_timeout_s = stall_timeout_s
        self._api_key = api_key
        self._client: anthropic.AsyncAnthropic | None = None

    @property
    def label(self) -> str:
        return f"{self.model} · api"

    @property
    def client(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            self._client = anthropic.AsyncAnthropic(api_key=self._api_key, base_url=self.base_url, max_retries=0)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def prepare(self) -> None:
        """Build the API client now (some 40 ms: a TLS context, certificates), say in a thread,
        rather than on the event loop at the first request. A credentials problem waits for that request."""
        with contextlib.suppress(anthropic.CredentialsError):
            _ = self.client

    async def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        params = self._params(request)
        self._require_credentials()
        clock = asyncio.get_running_loop().time
        deadline = clock() + self.request_timeout_s
        attempt = 1
        while True:
            progress = _Progress()
            try:
                async for event in self._attempt(params, progress, deadline):
                    yield event
                return
            except (anthropic.APIError, httpx2.TransportError, _StreamCut, _Stalled) as err:
                failure = self._classify(err, progress)
                cause: Exception = err
            except Exception as err:  # the SDK could not follow what the server sent
                failure = _Failure(
                    error_type="bad_response",
                    summary="The API sent a stream that could not be read",
                    detail=f"{type(err).__name__}: {err}",
                    retryable=False,
                )
                cause = err
            delay = self._delay(attempt, failure.retry_after_s)
            out_of_time = clock() + delay >= deadline
            if not failure.retryable or progress.content_started or attempt >= self.max_attempts or out_of_time:
                message = failure.describe(attempt)
                if out_of_time and failure.retryable and not progress.content_started and attempt < self.max_attempts:
                    message += f"; no time was left to try again within {self.request_timeout_s:g} s"
                raise BrainError(message, error_type=failure.error_type, retryable=failure.retryable) from cause
            yield RetryNotice(message=f"{failure.describe()}; retrying", attempt=attempt, delay_s=delay)
            await asyncio.sleep(delay)
            attempt += 1

    async def count_tokens(self, request: BrainRequest) -> int:
        """The API's exact input-token count for ``request`` (no reply is generated)."""
        self._require_credentials()
        params = self._params(request, cached=False)
        del params["max_tokens"]
        try:
            result = await self.client.messages.count_tokens(**params)
        except anthropic.APIError as err:
            failure = self._classify(err, _Progress())
            raise BrainError(failure.describe(), error_type=failure.error_type, retryable=failure.retryable) from err
        return result.input_tokens

    # -- one attempt -------------------------------------------------------

    async def _attempt(self, params: dict[str, Any], progress: _Progress, deadline: float) -> AsyncIterator[BrainEvent]:
        stopped = False
        opening = self.client.messages.stream(**params)
        stream = await self._within(opening.__aenter__(), deadline)
        progress.responded = True
        async with contextlib.AsyncExitStack() as closing:
            closing.push_async_exit(opening)
            events = aiter(stream)
            while True:
                try:
                    event = await self._within(anext(events), deadline)
                except StopAsyncIteration:
                    break
                if event.type not in _DERIVED_EVENTS:
                    progress.events += 1
                if event.type == "text":
                    progress.content_started = True
                    yield TextDelta(text=event.text)
                elif event.type == "thinking":
                    progress.content_started = True
                    yield ThinkingDelta(thinking=event.thinking)
                elif event.type == "content_block_start" and event.content_block.type == "tool_use":
                    progress.content_started = True
                    yield ToolUseStarted(id=event.content_block.id, name=event.content_block.name)
                elif event.type == "message_stop":
                    stopped = True
            if not stopped:
                raise _StreamCut
            usage, done = self._finish(stream)
        yield usage
        yield done

    async def _within(self, step: Awaitable[_T], deadline: float) -> _T:
        """``step``, if it comes within the stall timeout and before the deadline."""
        left = deadline - asyncio.get_running_loop().time()
        wait = min(self.stall_timeout_s, left)
        try:
            async with asyncio.timeout(max(0.0, wait)):
                return await step
        except TimeoutError:
            raise _Stalled(wait, out_of_time=left <= self.stall_timeout_s) from None

    @staticmethod
    def _finish(stream: AsyncMessageStream[Any]) -> tuple[UsageReport, MessageDone]:
        message = stream.current_message_snapshot
        usage = message.usage
        split = usage.cache_creation
        report = UsageReport(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
            cache_read_input_tokens=usage.cache_read_input_tokens or 0,
            cache_creation=CacheCreation.model_validate(split.model_dump()) if split is not None else None,
            model=message.model,
        )
        content = [_CONTENT.validate_python(b.model_dump()) for b in message.content if b.type in _KNOWN_BLOCKS]
        return report, MessageDone(content=content, stop_reason=message.stop_reason)

    def _params(self, request: BrainRequest, *, cached: bool = True) -> dict[str, Any]:
        """The request as the SDK takes it; with ``cached``, its prompt-cache breakpoints placed."""
        params: dict[str, Any] = {
            "model": request.model or self.model,
            "max_tokens": min(request.max_tokens, self.max_tokens),
            "messages": request.messages,
        }
        if request.system:
            params["system"] = request.system
        if request.tools:
            params["tools"] = [tool.model_dump() for tool in request.tools]
        if request.thinking.enabled:
            params["thinking"] = {"type": "enabled", "budget_tokens": request.thinking.budget_tokens}
        if cached and request.cache is not None:
            return with_breakpoints(params, request.cache)
        return params

    def _require_credentials(self) -> None:
        """Fail before any request when the SDK has no way to authenticate."""
        try:
            client = self.client
        except anthropic.CredentialsError as err:  # e.g. a broken profile under ANTHROPIC_CONFIG_DIR
            raise BrainError(f"Credentials could not be loaded: {err}", error_type="auth") from err
        if client.api_key is None and client.auth_token is None and client.credentials is None:
            raise BrainError("No API key: set ANTHROPIC_API_KEY", error_type="auth")

    # -- failures ------------------------------------------------------------

    def _classify(self, err: Exception, progress: _Progress) -> _Failure:
        if isinstance(err, _Stalled) and err.out_of_time:
            return _Failure(
                error_type="timeout",
                summary=f"The API did not finish the reply within the {self.request_timeout_s:g} s allowed",
                detail="api.request_timeout_s in the config allows more",
                retryable=False,
            )
        if isinstance(err, _Stalled) and not progress.responded:
            return _Failure(
                error_type="timeout",
                summary=f"The API at {self.client.base_url} did not answer within {err.waited_s:g} s",
                retryable=True,
            )
        if isinstance(err, _Stalled):
            return _Failure(
                error_type="timeout",
                summary="The API stopped sending the reply",
                detail=f"nothing for {err.waited_s:g} s after {_events(progress.events)} (keep-alive pings do not count)",
                retryable=True,
            )
        if isinstance(err, (_StreamCut, httpx2.TransportError)):
            return _Failure(
                error_type="stream_cut",
                summary="The API closed the stream mid-reply",
                detail=f"the stream ended after {_events(progress.events)}",
                retryable=True,
            )
        if isinstance(err, anthropic.APITimeoutError):
            return _Failure(
                error_type="connection", summary=f"The API at {self.client.base_url} timed out", retryable=True
            )
        if isinstance(err, anthropic.APIConnectionError):
            return _Failure(
                error_type="connection",
                summary=f"Could not connect to the API at {self.client.base_url}",
                detail=_cause(err),
                retryable=True,
            )
        if isinstance(err, anthropic.APIStatusError):
            if err.status_code == 200:  # an ``event: error`` inside a streamed reply
                return _mid_stream_failure(err)
            return _status_failure(err)
        return _Failure(error_type="bad_request", summary="Unexpected API error", detail=str(err), retryable=False)

    def _delay(self, attempt: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None:
            return min(max(0.0, retry_after_s), self.backoff_cap_s)
        # exponential, with jitter so that many agents rate-limited together spread out
        backoff = min(self.backoff_base_s * 2 ** (attempt - 1), self.backoff_cap_s)
        return backoff * random.uniform(0.75, 1.0)


def _events(count: int) -> str:
    return f"{count} event{'' if count == 1 else 's'}"


def _status_failure(err: anthropic.APIStatusError) -> _Failure:
    status = err.status_code
    detail = err.api_message or str(err)
    wait = _retry_after(err.response.headers)
    if status == 401:
        return _Failure(
            error_type="auth", summary="Authentication failed (401)", detail="check ANTHROPIC_API_KEY", retryable=False
        )
    if status == 403:
        return _Failure(error_type="auth", summary="Permission denied (403)", detail=detail, retryable=False)
    if status == 429:
        return _Failure(
            error_type="rate_limit", summary="Rate limited by the API (429)", retryable=True, retry_after_s=wait
        )
    if status == 529:
        return _Failure(
            error_type="overloaded", summary="The API is overloaded (529)", retryable=True, retry_after_s=wait
        )
    if status >= 500:
        return _Failure(
            error_type="server", summary=f"Server error ({status})", detail=detail, retryable=True, retry_after_s=wait
        )
    if status == 404:
        return _Failure(
            error_type="bad_request",
            summary="Not found (404)",
            detail=f"check the model name and base URL ({detail})",
            retryable=False,
        )
    return _Failure(
        error_type="bad_request", summary=f"The API rejected the request ({status})", detail=detail, retryable=False
    )


# error types an ``event: error`` may carry that are worth another attempt
_MID_STREAM_RETRYABLE = {"overloaded_error": "overloaded", "rate_limit_error": "rate_limit", "api_error": "server"}


def _mid_stream_failure(err: anthropic.APIStatusError) -> _Failure:
    kind = err.type or "error"
    return _Failure(
        error_type=_MID_STREAM_RETRYABLE.get(kind, "bad_request"),
        summary=f"The API reported an error mid-reply ({kind})",
        detail=err.api_message or str(err),
        retryable=kind in _MID_STREAM_RETRYABLE,
    )


def _retry_after(headers: httpx2.Headers) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, else ``retry-after`` (seconds)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return float(headers[name]) * scale
        except (KeyError, ValueError):
            continue
    return None


def _cause(err: Exception) -> str:
    cause = err.__cause__
    return str(cause) if cause is not None and str(cause) else str(err)


def credentials_problem(base_url: str | None = None) -> str | None:
    """What would stop every request from authenticating (no key, a broken credentials profile), or None."""
    try:
        AnthropicBrain("", base_url=base_url)._require_credentials()
    except BrainError as err:
        return err.message
    return None
