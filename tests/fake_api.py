"""A fake Anthropic Messages API on loopback, speaking the real wire format.

The real ``anthropic`` client talks to it unchanged (``AsyncAnthropic(base_url=server.base_url)``).
What it answers is scripted: a queue of responses, each either a :class:`Reply`
(streamed as the API's SSE events, optionally slow, cut off or interrupted by an
``event: error``), an :class:`HttpError` (429 with ``retry-after``, 529, 500, 401 …),
or a stall: :class:`NoHeaders` (never answers) or :class:`PingsOnly` (keeps the stream
alive with pings and never replies).
When the queue is empty a *responder* (request JSON → response) decides, so
rule-based traffic is one small callable; :class:`RhythmResponder` is the one the
benchmarks use (N tokens/s, a tool call every k turns).

Three ways to run it::

    async with FakeAnthropicServer(Reply(text="hi")) as server: ...   # in a test's loop
    with serve_in_thread(Reply(text="hi")) as server: ...              # own loop, own thread
    python -m tests.fake_api --port 8765 --tokens-per-s 50 --tool-every 3   # own process

Only the stdlib is used: ``asyncio.start_server`` and just enough HTTP/1.1
(keep-alive, ``Content-Length`` request bodies, chunked SSE responses, so that
an abrupt close mid-stream is a protocol error the client notices).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import itertools
import json
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Union

from pydantic import BaseModel, ConfigDict, Field

from tests.prompt_cache import CacheRequestError, CacheUsage, PromptCache, count_tokens


class ToolCall(BaseModel):
    """A ``tool_use`` block of a reply. ``id`` is generated when left out."""

    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class Reply(BaseModel):
    """One successful reply, and how to stream it.

    ``text`` / ``thinking`` given as a string are streamed word by word (one
    delta per word, whitespace kept); a list gives the exact deltas.
    ``cut_after``, ``end_after`` and ``error_after`` count SSE events sent (``ping`` included).
    """

    model_config = ConfigDict(frozen=True)

    text: str | list[str] = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    thinking: str | list[str] | None = None
    signature: str = "fake-signature"
    redacted_thinking: str | None = None  # the opaque ``data`` of a redacted_thinking block
    other_blocks: list[dict[str, Any]] = Field(default_factory=list)  # sent whole, e.g. server_tool_use
    stop_reason: str | None = None  # None: "tool_use" when there are tool calls, else "end_turn"
    # None: as the prompt cache accounts the request (see tests/prompt_cache.py)
    input_tokens: int | None = None
    output_tokens: int | None = None  # None: the number of delta events
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    token_delay_s: float = 0.0  # pause before every delta event: "slow tokens"
    json_pieces: int = 3  # how many input_json_delta pieces each tool input is split into
    cut_after: int | None = None  # close the connection abruptly after this many events
    end_after: int | None = None  # end the response cleanly after this many events (no message_stop)
    error_after: int | None = None  # send ``event: error`` after this many events, then end
    error_type: str = "overloaded_error"
    error_message: str = "Overloaded"


class HttpError(BaseModel):
    """An error answer instead of a reply (before any streaming)."""

    model_config = ConfigDict(frozen=True)

    status: int
    error_type: str = "api_error"
    message: str = "Internal server error"
    retry_after: float | None = None  # seconds, sent as ``retry-after``
    retry_after_ms: int | None = None  # sent as ``retry-after-ms``


class NoHeaders(BaseModel):
    """Read the request, then never answer it: no status line, no headers (a hung proxy)."""

    model_config = ConfigDict(frozen=True)


class PingsOnly(BaseModel):
    """Answer 200 and keep the stream alive with ``event: ping`` every ``every_s``, never a reply.

    ``message_start``: send the reply's first event before the pings, as a server that stalls
    after accepting the request would.
    """

    model_config = ConfigDict(frozen=True)

    every_s: float = 0.05
    message_start: bool = False


Response = Union[Reply, HttpError, NoHeaders, PingsOnly]
Responder = Callable[[dict[str, Any]], Response]


def rate_limited(retry_after: float | None = 0.0, retry_after_ms: int | None = None) -> HttpError:
    return HttpError(
        status=429,
        error_type="rate_limit_error",
        message="Number of request tokens has exceeded your per-minute rate limit",
        retry_after=retry_after,
        retry_after_ms=retry_after_ms,
    )


def overloaded() -> HttpError:
    return HttpError(status=529, error_type="overloaded_error", message="Overloaded")


def server_error(status: int = 500) -> HttpError:
    return HttpError(status=status, error_type="api_error", message="Internal server error")


def unauthorized() -> HttpError:
    return HttpError(status=401, error_type="authentication_error", message="invalid x-api-key")


class RecordedRequest(BaseModel):
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any = None  # parsed JSON, or None
    usage: dict[str, Any] | None = None  # what a message request was answered with


def estimate_tokens(body: dict[str, Any]) -> int:
    """A deterministic stand-in for the tokenizer (about four characters a token): the input a request counts."""
    return count_tokens(body)


def echo_responder(body: dict[str, Any]) -> Response:
    """The default: answer with the text of the last user message."""
    return Reply(text=f"echo: {_last_user_text(body)}".strip())


class RhythmResponder:
    """Rule-based traffic for benchmarks: ``words`` words at ``tokens_per_s``,
    and every ``tool_every``-th turn ends in a tool call instead of ``end_turn``.

    The turn is read from the request (assistant messages so far + 1), so one
    responder serves any number of agents. ``tool_name`` None means the first
    tool the request offers (no tool call when it offers none).
    """

    def __init__(
        self,
        tokens_per_s: float = 50.0,
        tool_every: int = 0,
        words: int = 40,
        tool_name: str | None = None,
        tool_input: dict[str, Any] | None = None,
    ) -> None:
        self.token_delay_s = 1.0 / tokens_per_s if tokens_per_s > 0 else 0.0
        self.tool_every = tool_every
        self.words = words
        self.tool_name = tool_name
        self.tool_input = tool_input or {}

    def __call__(self, body: dict[str, Any]) -> Response:
        messages = body.get("messages", [])
        turn = 1 + sum(1 for m in messages if m.get("role") == "assistant")
        text = " ".join(f"w{turn}.{i}" for i in range(self.words))
        tool = self.tool_name or next((t["name"] for t in body.get("tools", [])), None)
        if self.tool_every and turn % self.tool_every == 0 and tool:
            return Reply(
                text=text,
                tool_calls=[ToolCall(name=tool, input=self.tool_input)],
                token_delay_s=self.token_delay_s,
            )
        return Reply(text=text, token_delay_s=self.token_delay_s)


class _Disconnect(Exception):
    """The scripted fault: drop the connection without finishing the response."""


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    529: "Overloaded",
}


class FakeAnthropicServer:
    """The server. ``responses`` are queued; each POST /v1/messages takes the next one.

    ``enqueue`` and ``requests`` may be used from another thread (deque and list
    appends are atomic), which is what :func:`serve_in_thread` relies on.
    """

    def __init__(
        self,
        *responses: Response,
        responder: Responder = echo_responder,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue: deque[Response] = deque(responses)
        self.responder = responder
        self.requests: list[RecordedRequest] = []
        self.cache = PromptCache(clock)
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> FakeAnthropicServer:
        self._server = await asyncio.start_server(self._serve_connection, self._host, self._port)
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> FakeAnthropicServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    # -- scripting and inspection -------------------------------------------

    def enqueue(self, *responses: Response) -> None:
        self.queue.extend(responses)

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """The POST /v1/messages requests received (count_tokens left out)."""
        return [r for r in self.requests if r.path == "/v1/messages"]

    def _next_response(self, body: dict[str, Any]) -> Response:
        try:
            return self.queue.popleft()
        except IndexError:
            return self.responder(body)

    # -- HTTP --------------------------------------------------------------

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The exchange runs as a task of its own so that stop() can cancel it: on
        # Python 3.11 a cancelled start_server handler task makes asyncio log a
        # spurious CancelledError.
        exchange = asyncio.create_task(self._exchange(reader, writer))
        self._connections.add(exchange)
        try:
            await exchange
        except (asyncio.CancelledError, _Disconnect, ConnectionError, asyncio.IncompleteReadError):
            writer.transport.abort()
        finally:
            self._connections.discard(exchange)
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await self._serve_one(reader, writer):
            pass

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection should close."""
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        raw = await reader.readexactly(int(headers.get("content-length", "0")))
        body = json.loads(raw) if raw else None
        path = target.split("?", 1)[0]
        recorded = RecordedRequest(method=method, path=path, headers=headers, body=body)
        self.requests.append(recorded)

        if method == "POST" and path == "/v1/messages/count_tokens":
            await self._send_json(writer, 200, {"input_tokens": estimate_tokens(body or {})})
        elif method == "POST" and path == "/v1/messages":
            response = self._next_response(body or {})
            if isinstance(response, NoHeaders):
                await reader.read()  # until the client gives up and closes the connection
                raise _Disconnect
            if isinstance(response, PingsOnly):
                await self._send_pings(writer, response, body or {})
            elif isinstance(response, HttpError):
                await self._send_error(writer, response)
                return headers.get("connection", "").lower() != "close"
            try:
                cached = self.cache.account(body or {})
            except CacheRequestError as exc:
                invalid = HttpError(status=400, error_type="invalid_request_error", message=str(exc))
                await self._send_error(writer, invalid)
                return headers.get("connection", "").lower() != "close"
            blocks = self._content(response)
            message = self._message_json(response, body or {}, blocks, cached)
            recorded.usage = message["usage"]
            if (body or {}).get("stream"):
                await self._send_stream(writer, response, message, blocks)
            else:
                await self._send_json(writer, 200, message)
        else:
            await self._send_json(
                writer, 404, {"type": "error", "error": {"type": "not_found_error", "message": f"Not found: {path}"}}
            )
        return headers.get("connection", "").lower() != "close"

    def _send_head(self, writer: asyncio.StreamWriter, status: int, headers: dict[str, str]) -> None:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}", f"request-id: req_fake_{next(self._ids)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    async def _send_json(
        self, writer: asyncio.StreamWriter, status: int, payload: Any, extra: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        headers = {"content-type": "application/json", "content-length": str(len(data)), **(extra or {})}
        self._send_head(writer, status, headers)
        writer.write(data)
        await writer.drain()

    async def _send_error(self, writer: asyncio.StreamWriter, error: HttpError) -> None:
        extra: dict[str, str] = {}
        if error.retry_after is not None:
            extra["retry-after"] = f"{error.retry_after:g}"
        if error.retry_after_ms is not None:
            extra["retry-after-ms"] = str(error.retry_after_ms)
        payload = {"type": "error", "error": {"type": error.error_type, "message": error.message}}
        await self._send_json(writer, error.status, payload, extra)

    async def _send_stream(
        self, writer: asyncio.StreamWriter, reply: Reply, message: dict[str, Any], blocks: list[_Block]
    ) -> None:
        headers = {"content-type": "text/event-stream", "cache-control": "no-cache", "transfer-encoding": "chunked"}
        self._send_head(writer, 200, headers)
        sent = 0
        for name, data, delay in self._events(reply, message, blocks):
            if reply.cut_after is not None and sent >= reply.cut_after:
                await writer.drain()
                raise _Disconnect
            if reply.end_after is not None and sent >= reply.end_after:
                break
            if reply.error_after is not None and sent >= reply.error_after:
                error = {"type": "error", "error": {"type": reply.error_type, "message": reply.error_message}}
                _write_chunk(writer, _sse("error", error))
                break
            if delay:
                await asyncio.sleep(delay)
            _write_chunk(writer, _sse(name, data))
            await writer.drain()
            sent += 1
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def _send_pings(self, writer: asyncio.StreamWriter, stall: PingsOnly, body: dict[str, Any]) -> None:
        """Pings until the client gives up (a write then fails) or the server stops."""
        headers = {"content-type": "text/event-stream", "cache-control": "no-cache", "transfer-encoding": "chunked"}
        self._send_head(writer, 200, headers)
        if stall.message_start:
            never = Reply(text="never sent")
            blocks = self._content(never)
            uncached = CacheUsage(count_tokens(body), 0, 0, 0)  # nothing is written to the cache for a stall
            message = self._message_json(never, body, blocks, uncached)
            name, data, _ = next(self._events(never, message, blocks))
            _write_chunk(writer, _sse(name, data))
        while True:
            _write_chunk(writer, _sse("ping", {"type": "ping"}))
            await writer.drain()
            await asyncio.sleep(stall.every_s)

    # -- the message itself ----------------------------------------------------

    def _content(self, reply: Reply) -> list[_Block]:
        blocks: list[_Block] = []
        if reply.thinking is not None:
            chunks = _chunks(reply.thinking)
            blocks.append(
                _Block(
                    final={"type": "thinking", "thinking": "".join(chunks), "signature": reply.signature},
                    start={"type": "thinking", "thinking": "", "signature": ""},
                    deltas=[{"type": "thinking_delta", "thinking": c} for c in chunks]
                    + [{"type": "signature_delta", "signature": reply.signature}],
                )
            )
        if reply.redacted_thinking is not None:
            redacted = {"type": "redacted_thinking", "data": reply.redacted_thinking}
            blocks.append(_Block(final=redacted, start=redacted, deltas=[]))
        blocks += [_Block(final=block, start=block, deltas=[]) for block in reply.other_blocks]
        if reply.text:
            chunks = _chunks(reply.text)
            blocks.append(
                _Block(
                    final={"type": "text", "text": "".join(chunks)},
                    start={"type": "text", "text": ""},
                    deltas=[{"type": "text_delta", "text": c} for c in chunks],
                )
            )
        for call in reply.tool_calls:
            head = {"type": "tool_use", "id": call.id or f"toolu_fake_{next(self._ids)}", "name": call.name}
            pieces = _split(json.dumps(call.input), reply.json_pieces)
            blocks.append(
                _Block(
                    final={**head, "input": call.input},
                    start={**head, "input": {}},
                    deltas=[{"type": "input_json_delta", "partial_json": p} for p in pieces],
                )
            )
        return blocks

    def _message_json(
        self, reply: Reply, body: dict[str, Any], blocks: list[_Block], cached: CacheUsage
    ) -> dict[str, Any]:
        output_tokens = reply.output_tokens
        if output_tokens is None:
            output_tokens = sum(len(b.deltas) for b in blocks)
        usage = cached.fields()
        for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
            if getattr(reply, name) is not None:  # scripted figures win over the cache's own
                usage[name] = getattr(reply, name)
        if reply.cache_creation_input_tokens is not None:
            usage["cache_creation"] = {
                "ephemeral_5m_input_tokens": reply.cache_creation_input_tokens,
                "ephemeral_1h_input_tokens": 0,
            }
        return {
            "id": f"msg_fake_{next(self._ids)}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "fake-model"),
            "content": [b.final for b in blocks],
            "stop_reason": reply.stop_reason or ("tool_use" if reply.tool_calls else "end_turn"),
            "stop_sequence": None,
            "usage": {**usage, "output_tokens": output_tokens},
        }

    def _events(
        self, reply: Reply, message: dict[str, Any], blocks: list[_Block]
    ) -> Iterator[tuple[str, dict[str, Any], float]]:
        """The SSE events of a streamed reply: (event name, data, delay before it)."""
        start = {**message, "content": [], "stop_reason": None, "usage": {**message["usage"], "output_tokens": 1}}
        yield "message_start", {"type": "message_start", "message": start}, 0.0
        yield "ping", {"type": "ping"}, 0.0
        for index, block in enumerate(blocks):
            yield (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": block.start},
                0.0,
            )
            for delta in block.deltas:
                delay = 0.0 if delta["type"] == "signature_delta" else reply.token_delay_s
                yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}, delay
            yield "content_block_stop", {"type": "content_block_stop", "index": index}, 0.0
        yield (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            },
            0.0,
        )
        yield "message_stop", {"type": "message_stop"}, 0.0


class _Block(NamedTuple):
    final: dict[str, Any]  # as the complete message holds it
    start: dict[str, Any]  # as content_block_start announces it
    deltas: list[dict[str, Any]]


def _chunks(text: str | list[str]) -> list[str]:
    return list(text) if isinstance(text, list) else re.findall(r"\s*\S+\s*", text) or [text]


def _split(text: str, pieces: int) -> list[str]:
    """``text`` in ``pieces`` consecutive, non-empty parts (fewer if it is shorter)."""
    pieces = max(1, min(pieces, len(text)))
    size, extra = divmod(len(text), pieces)
    parts, at = [], 0
    for i in range(pieces):
        end = at + size + (1 if i < extra else 0)
        parts.append(text[at:end])
        at = end
    return parts


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _write_chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(b"%x\r\n%s\r\n" % (len(data), data))


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        return " ".join(b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text")
    return ""


@contextlib.contextmanager
def serve_in_thread(
    *responses: Response, responder: Responder = echo_responder, host: str = "127.0.0.1", port: int = 0
) -> Iterator[FakeAnthropicServer]:
    """Run the server on its own event loop in a daemon thread, for code that runs its own loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-anthropic-api", daemon=True)
    thread.start()
    server = FakeAnthropicServer(*responses, responder=responder, host=host, port=port)
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=10)
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def _load_responder(spec: str) -> Responder:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


async def _serve_forever(server: FakeAnthropicServer) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        # the parent process reads this line to learn the port (useful with --port 0)
        print(f"fake Anthropic API listening on {server.base_url}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_api", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on start)")
    parser.add_argument("--responder", help="module:callable taking the request JSON, returning Reply/HttpError")
    parser.add_argument("--tokens-per-s", type=float, help="rule-based replies at this rate (RhythmResponder)")
    parser.add_argument("--tool-every", type=int, default=0, help="a tool call every k-th turn (0: never)")
    parser.add_argument("--words", type=int, default=40, help="words per reply")
    parser.add_argument("--tool-name", help="tool to call (default: the first tool the request offers)")
    parser.add_argument("--tool-input", default="{}", help="JSON input of the tool call")
    args = parser.parse_args(argv)

    responder: Responder = echo_responder
    if args.responder:
        responder = _load_responder(args.responder)
    elif args.tokens_per_s is not None or args.tool_every:
        responder = RhythmResponder(
            tokens_per_s=args.tokens_per_s or 0.0,
            tool_every=args.tool_every,
            words=args.words,
            tool_name=args.tool_name,
            tool_input=json.loads(args.tool_input),
        )
    asyncio.run(_serve_forever(FakeAnthropicServer(responder=responder, host=args.host, port=args.port)))


if __name__ == "__main__":
    main()
