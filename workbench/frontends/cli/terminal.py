"""A person at a plain terminal: approvals and questions asked on stderr, answered on stdin.

``TerminalDesk`` answers a live session's requests (its ``approval_requested`` and
``question_asked`` events) by submitting commands, one prompt at a time; the
approver alone serves a primer resolved outside any session (``primers show``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TextIO

from workbench.log.transcript import one_line
from workbench.protocol.commands import Answer, Approve, Command, Outcome
from workbench.protocol.events import ApprovalRequested, QuestionAsked
from workbench.protocol.interaction import AskQuestion

Submit = Callable[[Command], Awaitable[Outcome]]


class TerminalApprover:
    """Asks on the terminal; with ``--yes`` (or no terminal to ask on) answers by itself."""

    def __init__(self, yes: bool, stdin: TextIO, stderr: TextIO) -> None:
        self.yes = yes
        self.stdin = stdin
        self.stderr = stderr

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
        request_id: str = "",
    ) -> Approve:
        if self.yes:
            return Approve(request_id=request_id, choice="allow_once")
        if not self.stdin.isatty():
            return Approve(
                request_id=request_id, choice="deny", reason="no terminal to ask on; run with --yes to allow"
            )
        if preview:
            print(preview, file=self.stderr)
        prompt = f"\nAllow {tool}({subject or one_line(input, 60)})? [y] once  [a] always ({suggested_rule})  [n] no: "
        print(prompt, end="", file=self.stderr, flush=True)
        reply = (await asyncio.to_thread(self.stdin.readline)).strip().lower()
        if reply in ("y", "yes"):
            return Approve(request_id=request_id, choice="allow_once")
        if reply in ("a", "always"):
            return Approve(request_id=request_id, choice="allow_always")
        return Approve(request_id=request_id, choice="deny", reason="denied at the terminal")

    async def remember(self, rule: str, source: Literal["approval", "primer"]) -> None:
        """Outside a session there is no policy to add the rule to: "always" holds for this run only."""


class TerminalAsker:
    """Asks on a terminal (or whatever feeds stdin): numbers pick options, other text is the answer itself."""

    def __init__(self, stdin: TextIO, out: TextIO) -> None:
        self.stdin = stdin
        self.out = out

    async def __call__(self, questions: list[AskQuestion]) -> dict[str, list[str]]:
        answers: dict[str, list[str]] = {}
        for question in questions:
            print(f"\n[{question.header}] {question.question}", file=self.out)
            for number, option in enumerate(question.options, start=1):
                print(f"  {number}. {option.label} — {option.description}", file=self.out)
            how = "numbers, separated by commas" if question.multiSelect else "a number"
            print(f"Answer with {how}, or type your own answer: ", end="", file=self.out, flush=True)
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:  # end of input: nothing more can be answered
                break
            chosen = _chosen(line.strip(), question)
            if chosen:
                answers[question.question] = chosen
        return answers


def _chosen(reply: str, question: AskQuestion) -> list[str]:
    parts = [part.strip() for part in reply.split(",")] if question.multiSelect else [reply]
    if parts and all(part.isdigit() and 1 <= int(part) <= len(question.options) for part in parts):
        return [question.options[int(part) - 1].label for part in parts]
    return [reply] if reply else []


class TerminalDesk:
    """Answers a session's approvals and questions on the terminal, one at a time, as commands."""

    def __init__(self, submit: Submit, approver: TerminalApprover, asker: TerminalAsker) -> None:
        self.submit = submit
        self.approver = approver
        self.asker = asker
        self._one_at_a_time = asyncio.Lock()
        self._answering: set[asyncio.Task[None]] = set()

    def hear(self, item: object) -> None:
        """A listener on the session's events."""
        if isinstance(item, (ApprovalRequested, QuestionAsked)):
            task = asyncio.ensure_future(self._answer(item))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)

    async def _answer(self, asked: ApprovalRequested | QuestionAsked) -> None:
        async with self._one_at_a_time:
            if isinstance(asked, ApprovalRequested):
                command: Command = await self.approver.approval(
                    asked.agent,
                    tool=asked.tool,
                    input=asked.input,
                    subject=asked.subject,
                    preview=asked.preview,
                    suggested_rule=asked.suggested_rule,
                    request_id=asked.request_id,
                )
            else:
                command = Answer(request_id=asked.request_id, answers=await self.asker(asked.questions))
            await self.submit(command)
