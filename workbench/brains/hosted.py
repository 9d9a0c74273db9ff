"""HostedBrain: the Anthropic brain, run in a process of its own (``workbench.brains.host``).

Streaming a reply costs the event loop for every token: the HTTP read, the SSE
parsing, the SDK's models; and the connection pool's bookkeeping grows with the
number of connections. With a hundred agents streaming that is most of the
loop the screen needs. Hosted, that work runs on another core, and the app gets
each reply's text a few times a second, already joined.

The host starts with the brain (``prepare``, in a thread while the first screen
shows), is started again if it dies (the streams it was serving fail with a clear
error), and ends when the brain is closed or the app exits (its stdin closes).
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from typing import IO

from pydantic import ValidationError

from workbench.brains.base import MAX_ATTEMPTS, REQUEST_TIMEOUT_S, STALL_TIMEOUT_S
from workbench.brains.host import HostFailure, HostReply, HostRequest, host_reply
from workbench.protocol.brain_io import BrainError, BrainEvent, BrainRequest

STDERR_TAIL = 2000
HOST_GRACE_S = 30.0  # beyond the request's own deadline, which the host enforces


class HostedBrain:
    name = "anthropic"

    def __init__(
        self,
        model: str,
        *,
        max_tokens: int = 8192,
        base_url: str | None = None,
        request_timeout_s: float = REQUEST_TIMEOUT_S,
        stall_timeout_s: float = STALL_TIMEOUT_S,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self.base_url = base_url
        self.request_timeout_s = request_timeout_s
        self.stall_timeout_s = stall_timeout_s
        self.max_attempts = max_attempts
        self._ids = itertools.count(1)
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._writer: asyncio.WriteTransport | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._streams: dict[int, asyncio.Queue[HostReply]] = {}
        self._connecting = asyncio.Lock()

    @property
    def label(self) -> str:
        return f"{self.model} · api"

    def prepare(self) -> None:
        """Start the host process (it takes a second to import the SDK: let it do so meanwhile)."""
        if self._process is not None and self._process.poll() is None:
            return
        argv = [sys.executable, "-m", "workbench.brains.host", "--model", self.model,
                "--max-tokens", str(self.max_tokens), "--request-timeout-s", str(self.request_timeout_s),
                "--stall-timeout-s", str(self.stall_timeout_s), "--max-attempts", str(self.max_attempts)]  # fmt: skip
        if self.base_url:
            argv += ["--base-url", self.base_url]
        self._stderr = tempfile.TemporaryFile()  # closed by the reader of this process's replies
        self._process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)
        self._writer = None

    async def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        await self._connect()
        stream_id = next(self._ids)
        replies: asyncio.Queue[HostReply] = asyncio.Queue()
        self._streams[stream_id] = replies
        self._send(HostRequest(op="stream", id=stream_id, request=request))
        # the host keeps the request's deadline; this one is for a host that no longer answers at all
        deadline = asyncio.get_running_loop().time() + self.request_timeout_s + HOST_GRACE_S
        ended = False
        try:
            while True:
                reply = await self._next(replies, deadline)
                if reply.event is not None:
                    yield reply.event
                elif reply.error is not None:
                    ended = True
                    failure = reply.error
                    raise BrainError(failure.message, error_type=failure.error_type, retryable=failure.retryable)
                elif reply.end:
                    ended = True
                    return
        finally:
            self._streams.pop(stream_id, None)
            if not ended and self._writer is not None and not self._writer.is_closing():
                self._send(HostRequest(op="cancel", id=stream_id))

    async def count_tokens(self, request: BrainRequest) -> int:
        """The API's exact input-token count for ``request``, asked through the host."""
        await self._connect()
        stream_id = next(self._ids)
        replies: asyncio.Queue[HostReply] = asyncio.Queue()
        self._streams[stream_id] = replies
        self._send(HostRequest(op="count", id=stream_id, request=request))
        deadline = asyncio.get_running_loop().time() + self.request_timeout_s + HOST_GRACE_S
        try:
            reply = await self._next(replies, deadline)
        finally:
            self._streams.pop(stream_id, None)
        if reply.error is not None:
            raise BrainError(reply.error.message, error_type=reply.error.error_type, retryable=reply.error.retryable)
        if reply.count is None:
            raise BrainError("the brain host answered a count without one", error_type="connection")
        return reply.count

    async def _next(self, replies: asyncio.Queue[HostReply], deadline: float) -> HostReply:
        try:
            async with asyncio.timeout_at(deadline):
                return await replies.get()
        except TimeoutError:
            if self._process is not None:
                self._process.kill()  # wedged: the next request starts another
            raise BrainError(
                f"The brain host gave no answer within {self.request_timeout_s + HOST_GRACE_S:g} s",
                error_type="timeout",
            ) from None

    async def aclose(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self._process is not None:
            try:
                await asyncio.to_thread(self._process.wait, 5)
            except subprocess.TimeoutExpired:
                self._process.kill()
        if self._stderr is not None:
            self._stderr.close()
        self._process = self._writer = self._reader_task = self._stderr = None

    # ---------------------------------------------------------------- the pipes

    async def _connect(self) -> None:
        async with self._connecting:  # agents start their requests at once: one connection to the host
            if self._writer is None or self._writer.is_closing():
                await self._open_pipes()

    async def _open_pipes(self) -> None:
        self.prepare()
        assert self._process is not None and self._process.stdin and self._process.stdout and self._stderr
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 30)  # a reply's final content comes in one line
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), self._process.stdout)
        self._writer, _ = await loop.connect_write_pipe(asyncio.Protocol, self._process.stdin)
        self._reader_task = asyncio.create_task(self._read(reader, self._process, self._stderr))

    def _send(self, order: HostRequest) -> None:
        assert self._writer is not None
        self._writer.write(order.model_dump_json().encode() + b"\n")

    async def _read(self, reader: asyncio.StreamReader, process: subprocess.Popen[bytes], stderr: IO[bytes]) -> None:
        with stderr:
            try:
                while line := await reader.readline():
                    reply = host_reply.validate_json(line)
                    if queue := self._streams.get(reply.id):
                        queue.put_nowait(reply)
            except ValidationError as exc:  # a host of another version, or a bug: stop it, say so
                process.kill()
                problem = f"The brain host sent what this app cannot read: {exc.errors()[0]['msg']}"
            else:
                problem = "The brain host exited"
            # the host is gone: what it was streaming fails, the next request starts it again
            code = await asyncio.to_thread(process.wait)
            failure = HostFailure(message=f"{problem} (code {code}){last_words(stderr)}", error_type="connection")
        for stream_id, queue in self._streams.items():
            queue.put_nowait(HostReply(id=stream_id, error=failure))
        if self._writer is not None:
            self._writer.close()


def last_words(stderr: IO[bytes]) -> str:
    """The end of what a host wrote to stderr before it exited (a traceback, say)."""
    stderr.seek(0)
    text = stderr.read().decode("utf-8", "replace").strip()
    return f": {text[-STDERR_TAIL:]}" if text else ""
