"""The brain host: a process that streams replies from the Messages API for the app.

``python -m workbench.brains.host --model M [--max-tokens N] [--base-url URL]``
reads requests from stdin and writes what the Anthropic brain streams back to
stdout, one JSON object a line (see :class:`HostRequest`, :class:`HostReply`).
Text and thinking deltas are coalesced for ``COALESCE_S``: the app gets a few
messages a second per reply instead of one per token. It exits when stdin closes, or as soon as
the app that started it is no longer alive.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field, TypeAdapter

from workbench.brains.base import MAX_ATTEMPTS, REQUEST_TIMEOUT_S, STALL_TIMEOUT_S, Brain, CountsTokens
from workbench.protocol.brain_io import BrainError, BrainEvent, BrainRequest, TextDelta, ThinkingDelta

COALESCE_S = 0.03
APP_CHECK_S = 0.5  # how often the host looks whether the app is still alive
CLOSE_S = 2.0  # for the brain to close its connections once the app is gone


class HostRequest(BaseModel):
    """From the app: stream a reply for ``request`` under ``id``, count its input tokens, or stop streaming ``id``."""

    op: Literal["stream", "cancel", "count"]
    id: int
    request: BrainRequest | None = None


class HostFailure(BaseModel):
    message: str
    error_type: str = "error"
    retryable: bool = False


class HostReply(BaseModel):
    """To the app, about stream ``id``: one event, or its failure, or its end; or the count asked for."""

    id: int
    event: BrainEvent | None = Field(default=None, discriminator="type")
    error: HostFailure | None = None
    end: bool = False
    count: int | None = None


host_reply = TypeAdapter(HostReply)


class BrainHost:
    def __init__(self, brain: Brain, write: Callable[[bytes], object]) -> None:
        self.brain = brain
        self.write = write
        self.streams: dict[int, asyncio.Task[None]] = {}
        self._pending: dict[int, list[TextDelta | ThinkingDelta]] = {}
        self._flush_handle: asyncio.TimerHandle | None = None

    def handle(self, line: bytes) -> None:
        order = HostRequest.model_validate_json(line)
        if order.op == "cancel":
            if task := self.streams.pop(order.id, None):
                task.cancel()
            self._pending.pop(order.id, None)
        elif order.op == "count" and order.request is not None:
            self.streams[order.id] = asyncio.create_task(self._count(order.id, order.request))
        elif order.request is not None:
            self.streams[order.id] = asyncio.create_task(self._relay(order.id, order.request))

    async def _count(self, stream_id: int, request: BrainRequest) -> None:
        try:
            if not isinstance(self.brain, CountsTokens):
                raise BrainError("this brain cannot count tokens", error_type="bad_request")
            self._send(HostReply(id=stream_id, count=await self.brain.count_tokens(request)))
        except BrainError as err:
            self._send(HostReply(id=stream_id, error=HostFailure(message=err.message, error_type=err.error_type)))
        finally:
            self.streams.pop(stream_id, None)

    async def _relay(self, stream_id: int, request: BrainRequest) -> None:
        try:
            async for event in self.brain.stream(request):
                if isinstance(event, (TextDelta, ThinkingDelta)):
                    self._hold(stream_id, event)
                else:
                    self._flush(stream_id)
                    self._send(HostReply(id=stream_id, event=event))
            self._flush(stream_id)
            self._send(HostReply(id=stream_id, end=True))
        except BrainError as err:
            self._flush(stream_id)
            failure = HostFailure(message=err.message, error_type=err.error_type, retryable=err.retryable)
            self._send(HostReply(id=stream_id, error=failure))
        except Exception as err:  # a bug in the brain: the app records it like any failure
            self._flush(stream_id)
            self._send(HostReply(id=stream_id, error=HostFailure(message=f"{type(err).__name__}: {err}")))
        finally:
            self.streams.pop(stream_id, None)

    def _hold(self, stream_id: int, delta: TextDelta | ThinkingDelta) -> None:
        held = self._pending.get(stream_id)
        if held and type(held[-1]) is not type(delta):  # thinking gave way to text: send the thinking
            self._flush(stream_id)
        self._pending.setdefault(stream_id, []).append(delta)
        if self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(COALESCE_S, self._flush_all)

    def _flush_all(self) -> None:
        self._flush_handle = None
        for stream_id in list(self._pending):
            self._flush(stream_id)

    def _flush(self, stream_id: int) -> None:
        deltas = self._pending.pop(stream_id, None)
        if not deltas:
            return
        if isinstance(deltas[0], TextDelta):
            event: BrainEvent = TextDelta(text="".join(d.text for d in deltas))  # type: ignore[union-attr]
        else:
            event = ThinkingDelta(thinking="".join(d.thinking for d in deltas))  # type: ignore[union-attr]
        self._send(HostReply(id=stream_id, event=event))

    def _send(self, reply: HostReply) -> None:
        self.write(reply.model_dump_json().encode() + b"\n")


async def serve(brain: Brain) -> None:
    """Serve the app until it is gone: its end of stdin closed, or the app itself dead (the pipe
    may outlive it in a process that inherited it)."""
    app = os.getppid()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 30)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, _ = await loop.connect_write_pipe(asyncio.Protocol, sys.stdout)
    host = BrainHost(brain, transport.write)
    serving = asyncio.create_task(_serve_orders(reader, host))
    orphaned = asyncio.create_task(_app_gone(app))
    await asyncio.wait([serving, orphaned], return_when=asyncio.FIRST_COMPLETED)
    for task in [serving, orphaned, *host.streams.values()]:
        task.cancel()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CLOSE_S):
            await brain.aclose()


async def _serve_orders(reader: asyncio.StreamReader, host: BrainHost) -> None:
    while line := await reader.readline():
        host.handle(line)


async def _app_gone(app: int) -> None:
    while os.getppid() == app:  # an orphan is adopted by another process
        await asyncio.sleep(APP_CHECK_S)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m workbench.brains.host")
    parser.add_argument("--model", required=True)
    parser.add_argument("--max-tokens", type=int, default=8192)
    parser.add_argument("--base-url")
    parser.add_argument("--request-timeout-s", type=float, default=REQUEST_TIMEOUT_S)
    parser.add_argument("--stall-timeout-s", type=float, default=STALL_TIMEOUT_S)
    parser.add_argument("--max-attempts", type=int, default=MAX_ATTEMPTS)
    args = parser.parse_args(argv)
    from workbench.brains.anthropic import AnthropicBrain

    brain = AnthropicBrain(
        args.model,
        max_tokens=args.max_tokens,
        base_url=args.base_url,
        request_timeout_s=args.request_timeout_s,
        stall_timeout_s=args.stall_timeout_s,
        max_attempts=args.max_attempts,
    )
    brain.prepare()
    asyncio.run(serve(brain))
    # now, without waiting for threads still blocked in the network (a DNS lookup may take
    # minutes to give up): nobody is left to answer
    os._exit(0)


if __name__ == "__main__":
    main()
