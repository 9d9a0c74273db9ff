"""Remount: a new agent that continues from a chosen point of an old session.

The plan is ``fold`` of the source (one agent of it, up to a seq) and its facts
ledger at that point, frozen into a ``Remounted`` event. The new session's primary appends that event right after
its ``agent_spawned``, so its own fold starts from exactly the source's context,
and its bundle stands on its own. The source bundle is only read. Forking at
event N is remounting up to N.
"""

from __future__ import annotations

from pydantic import BaseModel

from workbench.engine.context.fold import Context, fold
from workbench.engine.views.facts import ledger_of
from workbench.log.bundle import BundleError, BundleStore
from workbench.log.meta import TITLE_CHARS
from workbench.protocol.events import AgentSpawned, Event, Remounted, SessionStarted, UserMessage
from workbench.protocol.facts import FactLedger


class RemountError(BundleError):
    """The requested agent or seq does not exist in the source session."""


class RemountPlan(BaseModel):
    source_session: str
    source_agent: str
    up_to_seq: int
    context: Context
    facts: FactLedger
    # a title for the new session, from the source's
    title: str

    @property
    def event(self) -> Remounted:
        """What the new primary appends right after its ``agent_spawned``."""
        # fold made these messages: validating 50k of them again would cost more than the fold did
        return Remounted.model_construct(
            source_session=self.source_session,
            source_agent=self.source_agent,
            up_to_seq=self.up_to_seq,
            system=self.context.system,
            messages=self.context.messages,
            facts=self.facts,
        )


async def remount(
    store: BundleStore, source_id: str, *, agent: str | None = None, up_to_seq: int | None = None
) -> RemountPlan:
    """Plan a new session continuing ``agent`` (default: the first spawned) of ``source_id``."""
    contents = await store.read(source_id)
    return plan_remount(source_id, contents.events, agent=agent, up_to_seq=up_to_seq)


def plan_remount(
    source_id: str, events: list[Event], *, agent: str | None = None, up_to_seq: int | None = None
) -> RemountPlan:
    """The plan from events already loaded (a browser showing the session has them)."""
    spawned = [e.agent for e in events if isinstance(e, AgentSpawned)]
    if not spawned:
        raise RemountError(f"session {source_id} has no agent to remount")
    agent = agent or spawned[0]
    if agent not in spawned:
        raise RemountError(f"session {source_id} has no agent '{agent}' (it has {', '.join(spawned)})")
    last_seq = max(e.seq for e in events)
    up_to_seq = last_seq if up_to_seq is None else up_to_seq
    if not 1 <= up_to_seq <= last_seq:
        raise RemountError(f"seq {up_to_seq} is outside session {source_id} (seq 1 to {last_seq})")
    prefix = [e for e in events if e.seq <= up_to_seq]
    if agent not in (e.agent for e in prefix if isinstance(e, AgentSpawned)):
        raise RemountError(f"agent '{agent}' of session {source_id} is spawned after seq {up_to_seq}")
    return RemountPlan(
        source_session=source_id,
        source_agent=agent,
        up_to_seq=up_to_seq,
        context=fold(prefix, agent=agent),
        facts=ledger_of(prefix, agent),
        title=_title(events, source_id, up_to_seq, last_seq),
    )


def _title(events: list[Event], source_id: str, up_to_seq: int, last_seq: int) -> str:
    started = next((e.title for e in events if isinstance(e, SessionStarted) and e.title), "")
    said = next((e.text for e in events if isinstance(e, UserMessage)), "")
    base = started or " ".join(said.split()) or source_id
    where = "" if up_to_seq == last_seq else f" @{up_to_seq}"
    return f"↻ {base}"[: TITLE_CHARS - len(where)] + where
