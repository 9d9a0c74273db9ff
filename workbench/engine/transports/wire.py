"""What goes over the daemon's socket: newline-delimited JSON, one object a line.

A client sends requests (``req``, with an ``id`` it chooses); the daemon answers
each with ``{"reply": id, "ok": …}`` and, for the sessions the client is
attached to, sends every event (``{"session": …, "event": …}``) and the live
signals it asked for (``{"session": …, "signal": …}``). Commands travel inside
``submit`` requests exactly as ``workbench.protocol.commands`` defines them.
A line the daemon cannot read is answered with ``{"error": …}`` and the
connection goes on.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from workbench.protocol.commands import Command
from workbench.protocol.signals import Live

LINE_LIMIT = 256 * 1024 * 1024  # one line may carry a remounted context or a long tool result


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int = 0


class Hello(_Request):
    req: Literal["hello"] = "hello"


class ListSessions(_Request):
    req: Literal["list"] = "list"


class OpenSession(_Request):
    """A new session in ``cwd`` (``resume``: an existing one reopened in the daemon)."""

    req: Literal["open"] = "open"
    cwd: str
    title: str = ""
    resume: str | None = None


class Attach(_Request):
    """Follow a session: its events after ``from_seq`` (caught up from the log), then live."""

    req: Literal["attach"] = "attach"
    session: str
    from_seq: int = 0


class Detach(_Request):
    req: Literal["detach"] = "detach"
    session: str


class Submit(_Request):
    req: Literal["submit"] = "submit"
    session: str
    command: Command


class Watch(_Request):
    """The agent whose streamed text this client shows; the reply holds that reply so far."""

    req: Literal["watch"] = "watch"
    session: str
    agent: str


class Query(_Request):
    req: Literal["query"] = "query"
    session: str
    query: Literal["preview_primer", "primer_catalog", "mcp_report", "count_context", "agent_diff"]
    args: dict[str, Any] = Field(default_factory=dict)


class ListWorkers(_Request):
    """The cluster the daemon coordinates, if any, and its workers (slots, load, last heartbeat)."""

    req: Literal["workers"] = "workers"


class Shutdown(_Request):
    """Stop the daemon: its sessions stop where they are and come back when it starts again."""

    req: Literal["shutdown"] = "shutdown"


Request = Annotated[
    Union[Hello, ListSessions, OpenSession, Attach, Detach, Submit, Watch, Query, ListWorkers, Shutdown],
    Field(discriminator="req"),
]
request_adapter: TypeAdapter[Request] = TypeAdapter(Request)
live_adapter: TypeAdapter[Live] = TypeAdapter(Annotated[Live, Field(discriminator="signal")])


class WireError(ValueError):
    """A line that is not a request; the message says what is wrong."""


def read_request(line: bytes) -> Request:
    try:
        return request_adapter.validate_json(line)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "request"
        raise WireError(f"not a request ({where}: {first['msg']})") from None


def line(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def reply(request_id: int, data: Any = None) -> bytes:
    return line({"reply": request_id, "ok": True, "data": data})


def refusal(request_id: int, error: str) -> bytes:
    return line({"reply": request_id, "ok": False, "error": error})


def event_line(session: str, encoded_event: str) -> bytes:
    """An event as the bundle writes it (already JSON), wrapped without being encoded again."""
    return b'{"session":' + json.dumps(session).encode() + b',"event":' + encoded_event.encode() + b"}\n"


def signal_line(session: str, signal: BaseModel) -> bytes:
    return b'{"session":' + json.dumps(session).encode() + b',"signal":' + signal.model_dump_json().encode() + b"}\n"
