"""Driving the engine in tests the way a front end does: commands in, events out.

Nothing here reaches into the engine's agents to change them; helpers submit
commands and wait on what the engine publishes (or on its read-only waits).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from workbench.engine.engine import Engine
from workbench.engine.runtime.agent import Agent
from workbench.protocol.commands import Answer, Approve, Command, Send, Spawn
from workbench.protocol.events import ApprovalRequested, Event, QuestionAsked
from workbench.protocol.interaction import ApprovalChoice


class Refused(AssertionError):
    """The engine refused a command the test expected it to carry out."""


async def run(engine: Engine, command: Command) -> str:
    """Submit a command that must be accepted; returns the outcome's agent (or '')."""
    outcome = await engine.submit(command)
    if not outcome.ok:
        raise Refused(outcome.message)
    return outcome.agent or ""


async def ask(engine: Engine, text: str, agent: str = "primary") -> str:
    """Send a prompt and wait until the agent has answered it; its answer."""
    await run(engine, Send(agent=agent, text=text))
    await engine.settled(agent)
    target = engine.agent(agent)
    assert target is not None
    return target.result


async def spawn(engine: Engine, mode: str, task: str, **fields: object) -> Agent:
    """Start a background or delegated agent; the agent, to inspect."""
    agent_id = await run(engine, Spawn(mode=mode, task=task, **fields))  # type: ignore[arg-type]
    agent = engine.agent(agent_id)
    assert agent is not None
    return agent


class Answers:
    """A person at a screen: answers every approval with ``choice`` (and every question with
    ``answers``) by submitting commands, and remembers what was asked."""

    def __init__(
        self, engine: Engine, choice: ApprovalChoice = "allow_once", answers: dict[str, list[str]] | None = None
    ) -> None:
        self.engine = engine
        self.choice = choice
        self.answers = answers or {}
        self.asked: list[ApprovalRequested | QuestionAsked] = []
        self._tasks: set[asyncio.Task[object]] = set()
        self.stop = engine.subscribe(self._hear)

    def _hear(self, item: object) -> None:
        if isinstance(item, ApprovalRequested):
            self.asked.append(item)
            self._later(Approve(request_id=item.request_id, choice=self.choice))
        elif isinstance(item, QuestionAsked):
            self.asked.append(item)
            self._later(Answer(request_id=item.request_id, answers=self.answers))

    def _later(self, command: Command) -> None:
        task = asyncio.ensure_future(self.engine.submit(command))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def next_event(engine: Engine, wanted: Callable[[Event], bool]) -> asyncio.Future[Event]:
    """The next event the engine publishes that ``wanted`` accepts, from now on (listening starts at
    once, so an event that follows this call is never missed)."""
    return next_published(engine, lambda item: hasattr(item, "seq") and wanted(item))  # type: ignore[return-value, arg-type]


def next_published(engine: Engine, wanted: Callable[[object], bool]) -> asyncio.Future[object]:
    """The next thing the engine publishes that ``wanted`` accepts: an event, or a live signal such as
    a piece of streamed text. Listening starts at once, as for ``next_event``."""
    future: asyncio.Future[object] = asyncio.get_running_loop().create_future()

    def hear(item: object) -> None:
        if not future.done() and wanted(item):
            future.set_result(item)

    stop = engine.subscribe(hear)
    future.add_done_callback(lambda _: stop())
    return future
