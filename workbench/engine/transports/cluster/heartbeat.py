"""Workers say they are alive: a heartbeat in the cluster's key/value bucket, gone when they stop beating."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from nats.js.errors import KeyNotFoundError, NoKeysError
from nats.js.kv import KeyValue
from pydantic import BaseModel, ValidationError

from workbench.engine.transports.cluster.layout import token


class WorkerBeat(BaseModel):
    name: str
    host: str
    pid: int
    slots: int
    running: int  # runs it holds now
    started: datetime
    beat: datetime  # when it last said so

    @property
    def load(self) -> float:
        return self.running / self.slots if self.slots else 0.0

    def age_s(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.beat).total_seconds()


async def beat(bucket: KeyValue, worker: WorkerBeat) -> None:
    await bucket.put(token(worker.name), worker.model_dump_json().encode())


async def forget(bucket: KeyValue, name: str) -> None:
    await bucket.purge(token(name))


async def workers(bucket: KeyValue) -> list[WorkerBeat]:
    """The workers whose heartbeat is still in the bucket, by name."""
    try:
        keys = await bucket.keys()
    except NoKeysError:
        return []
    found: list[WorkerBeat] = []
    for key in keys:
        try:
            entry = await bucket.get(key)
            found.append(WorkerBeat.model_validate(json.loads(entry.value or b"")))
        except (KeyNotFoundError, ValidationError, ValueError):
            continue  # gone meanwhile, or not one of ours
    return sorted(found, key=lambda w: w.name)
