"""Questions for a person: approvals and multiple-choice questions, asked as events, answered by commands.

An agent that needs a person appends ``approval_requested`` (or
``question_asked``) and waits. Every screen attached to the session sees the
event and may answer with an ``Approve`` (``Answer``) command; the first answer
wins and is logged as ``approval_decided`` (``question_answered``) before the
agent goes on, so the log always shows who waited for what and what was said.
With no screen attached the agent simply waits.

Request ids of tool calls are derived from the call (``approval:toolu_…``), so
an agent resumed after a restart waits on the very request the log left open
instead of asking again.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from workbench.protocol.commands import Answer, Approve, Outcome
from workbench.protocol.events import (
    ApprovalDecided,
    ApprovalRequested,
    Event,
    QuestionAnswered,
    QuestionAsked,
    RuleAdded,
)
from workbench.protocol.interaction import AskQuestion

Append = Callable[[Event], Awaitable[Event]]
Submit = Callable[[Event], "asyncio.Future[Event]"]
AlreadyAsked = Callable[[str], bool]


class Approvals(Protocol):
    """Who answers approvals: the broker of a live session, or a terminal for a command run alone."""

    async def approval(
        self,
        agent: str,
        *,
        tool: str,
        input: dict[str, Any],
        subject: str | None,
        preview: str | None,
        suggested_rule: str,
        tool_use_id: str | None = None,
    ) -> Approve: ...

    async def remember(self, rule: str, source: Literal["approval", "primer"]) -> None:
        """The person answered "always": ``rule`` joins the policy."""
        ...


def approval_id(tool_use_id: str | None) -> str:
    return f"approval:{tool_use_id}" if tool_use_id else f"approval:{secrets.token_hex(6)}"


def question_id(tool_use_id: str | None) -> str:
    return f"question:{tool_use_id}" if tool_use_id else f"question:{secrets.token_hex(6)}"


class RequestBroker:
    """``submit`` stamps an event into the log synchronously (its order is fixed at once) and returns
    the acknowledgement; ``already_asked`` tells whether the log holds an open request of that id."""

    def __init__(self, submit: Submit, already_asked: AlreadyAsked) -> None:
        self._submit = submit
        self._already_asked = already_asked
        self._approvals: dict[str, asyncio.Future[Approve]] = {}
        self._questions: dict[str, asyncio.Future[Answer]] = {}
        self.closing = False  # the session stops: requests stay open in the log, nothing is withdrawn

    @property
    def waiting(self) -> int:
        return len(self._approvals) + len(self._questions)

    async def approval(
        self,
        agent: str,
        *,
        tool: str,
        input: dict[str, Any],
        subject: str | None,
        preview: str | None,
        suggested_rule: str,
        tool_use_id: str | None = None,
    ) -> Approve:
        request_id = approval_id(tool_use_id)
        future: asyncio.Future[Approve] = asyncio.get_running_loop().create_future()
        self._approvals[request_id] = future
        try:
            if not self._already_asked(request_id):
                await self._submit(
                    ApprovalRequested(
                        agent=agent,
                        request_id=request_id,
                        tool=tool,
                        input=input,
                        subject=subject,
                        preview=preview,
                        suggested_rule=suggested_rule,
                        tool_use_id=tool_use_id,
                    )
                )
            return await future
        except asyncio.CancelledError:
            if not _answered(future) and not self.closing:
                withdrawn = ApprovalDecided(agent=agent, request_id=request_id, choice="deny", withdrawn=True)
                await asyncio.shield(self._submit(withdrawn))
            raise
        finally:
            self._approvals.pop(request_id, None)

    async def remember(self, rule: str, source: Literal["approval", "primer"]) -> None:
        await self._submit(RuleAdded(rule_list="allow", rule=rule, source=source))

    async def question(self, agent: str, questions: list[AskQuestion], tool_use_id: str | None = None) -> Answer:
        request_id = question_id(tool_use_id)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._questions[request_id] = future
        try:
            if not self._already_asked(request_id):
                await self._submit(
                    QuestionAsked(agent=agent, request_id=request_id, questions=questions, tool_use_id=tool_use_id)
                )
            return await future
        except asyncio.CancelledError:
            if not _answered(future) and not self.closing:
                await asyncio.shield(self._submit(QuestionAnswered(agent=agent, request_id=request_id, withdrawn=True)))
            raise
        finally:
            self._questions.pop(request_id, None)

    async def decide(self, command: Approve, agent: str) -> Outcome:
        """An answer to an approval: the first wins; the decision is in the log before the agent goes on."""
        future = self._approvals.get(command.request_id)
        if future is None or future.done():
            return Outcome.refused(_gone(command.request_id))
        written = self._submit(
            ApprovalDecided(agent=agent, request_id=command.request_id, choice=command.choice, reason=command.reason)
        )
        future.set_result(command)
        await written
        return Outcome(agent=agent)

    async def answer(self, command: Answer, agent: str) -> Outcome:
        future = self._questions.get(command.request_id)
        if future is None or future.done():
            return Outcome.refused(_gone(command.request_id))
        written = self._submit(QuestionAnswered(agent=agent, request_id=command.request_id, answers=command.answers))
        future.set_result(command)
        await written
        return Outcome(agent=agent)


def _answered(future: asyncio.Future[Any]) -> bool:
    """Whether an answer came (a cancelled wait cancels its future too: that is no answer)."""
    return future.done() and not future.cancelled()


def _gone(request_id: str) -> str:
    return f"{request_id} is no longer waiting for an answer (answered already, or withdrawn)."
