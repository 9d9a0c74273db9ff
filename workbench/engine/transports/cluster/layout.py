"""What Workbench keeps on a NATS JetStream server, and the names of it.

- ``WORKBENCH_RUNS`` (work queue, ``wb.run.<session>.<agent>``): one message per cluster agent
  waiting for or held by a worker; a worker acks it when the agent ends. At most one per agent.
- ``WORKBENCH_EVENTS`` (``wb.ev.<session>.<agent>``): each run's log — every event of the agent
  the run was placed for and of the sub-agents it starts, in order. One writer at a time: each
  append names the stream sequence it expects last on the subject, so a worker that lost a run
  (it was taken over after the ack wait) cannot write another event into it.
  ``wb.pol.<session>``: the session's mode changes and rules, for the workers to follow.
- ``workbench-workers`` (key/value): each worker's heartbeat, gone when it stops beating.
- ``workbench-files`` (object store): snapshots of the sessions' repositories, the patches agents made.
- ``wb.cmd.<session>.<agent>`` (request/reply, not stored): commands for the worker holding a run.
"""

from __future__ import annotations

import logging
import re

from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, NotFoundError
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

RUNS_STREAM = "WORKBENCH_RUNS"
EVENTS_STREAM = "WORKBENCH_EVENTS"
WORKERS_CONSUMER = "workers"
WORKERS_BUCKET = "workbench-workers"
FILES_BUCKET = "workbench-files"
DUPLICATE_WINDOW_S = 120.0
MAX_RUNS_IN_FLIGHT = 100_000

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def token(name: str) -> str:
    """A session or agent id as one subject token (ids are made of safe characters already)."""
    return _UNSAFE.sub(lambda m: f"_{ord(m.group()):02x}", name) or "_"


def events_subject(session: str, root: str) -> str:
    return f"wb.ev.{token(session)}.{token(root)}"


def session_events(session: str) -> str:
    return f"wb.ev.{token(session)}.>"


def policy_subject(session: str) -> str:
    return f"wb.pol.{token(session)}"


def run_subject(session: str, root: str) -> str:
    return f"wb.run.{token(session)}.{token(root)}"


def command_subject(session: str, root: str) -> str:
    return f"wb.cmd.{token(session)}.{token(root)}"


def repo_object(commit: str) -> str:
    return f"repo/{commit}.bundle"


def patch_object(session: str, root: str) -> str:
    return f"patch/{token(session)}/{token(root)}.patch"


async def ensure_streams(js: JetStreamContext, ack_wait_s: float) -> None:
    """Create what is missing (the first of the coordinator and the workers to start does)."""
    await _stream(
        js,
        api.StreamConfig(
            name=EVENTS_STREAM,
            subjects=["wb.ev.>", "wb.pol.>"],
            storage=api.StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_S,
        ),
    )
    await _stream(
        js,
        api.StreamConfig(
            name=RUNS_STREAM,
            subjects=["wb.run.>"],
            retention=api.RetentionPolicy.WORK_QUEUE,
            storage=api.StorageType.FILE,
            max_msgs_per_subject=1,
            discard=api.DiscardPolicy.NEW,
            discard_new_per_subject=True,
            duplicate_window=DUPLICATE_WINDOW_S,
        ),
    )
    consumer = api.ConsumerConfig(
        durable_name=WORKERS_CONSUMER,
        ack_policy=api.AckPolicy.EXPLICIT,
        ack_wait=ack_wait_s,
        max_deliver=-1,
        max_ack_pending=MAX_RUNS_IN_FLIGHT,
        filter_subject="wb.run.>",
    )
    try:
        await js.add_consumer(RUNS_STREAM, config=consumer)
    except BadRequestError as exc:  # it exists with settings the server will not change: it is used as it is
        log.warning("the workers' consumer is kept as it is: %s", exc.description)


async def _stream(js: JetStreamContext, config: api.StreamConfig) -> None:
    assert config.name is not None
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        try:
            await js.add_stream(config)
        except BadRequestError as exc:  # made meanwhile by another process
            if exc.err_code != 10058:
                raise


async def workers_bucket(js: JetStreamContext, ttl_s: float) -> KeyValue:
    try:
        return await js.key_value(WORKERS_BUCKET)
    except (NotFoundError, BadRequestError):
        return await js.create_key_value(bucket=WORKERS_BUCKET, ttl=ttl_s, history=1)


async def files_bucket(js: JetStreamContext) -> ObjectStore:
    try:
        return await js.object_store(FILES_BUCKET)
    except (NotFoundError, BadRequestError):
        return await js.create_object_store(bucket=FILES_BUCKET)
