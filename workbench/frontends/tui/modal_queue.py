"""Questions for the person at the keyboard, one modal at a time, in the order they came.

The engine's approver (permission prompts) and its ask-user callback both come
here. Each asking agent awaits its own future, so an agent waiting for an answer
never blocks the others; a prompt that arrives while another is shown waits.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import ModalScreen

Answer = TypeVar("Answer")


@dataclass
class Pending(Generic[Answer]):
    screen: ModalScreen[Answer]
    answer: asyncio.Future[Answer]
    default: Answer  # the answer when the modal closes without one, or the app closes


class ModalQueue:
    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.queue: list[Pending[Any]] = []
        self.shown: Pending[Any] | None = None

    async def ask(self, screen: ModalScreen[Answer], default: Answer) -> Answer:
        pending = Pending(screen, asyncio.get_running_loop().create_future(), default)
        self.queue.append(pending)
        self._show_next()
        try:
            return await pending.answer
        except asyncio.CancelledError:
            self._withdraw(pending)
            raise

    @property
    def waiting(self) -> int:
        """Prompts not yet on screen."""
        return len(self.queue) - (1 if self.shown else 0)

    def _show_next(self) -> None:
        if self.shown is not None or not self.queue:
            return
        pending = self.shown = self.queue[0]
        self.app.push_screen(pending.screen, callback=lambda answer: self._answered(pending, answer))

    def _answered(self, pending: Pending[Any], answer: object) -> None:
        if pending in self.queue:
            self.queue.remove(pending)
        if self.shown is pending:
            self.shown = None
        if not pending.answer.done():
            pending.answer.set_result(pending.default if answer is None else answer)
        self._show_next()

    def _withdraw(self, pending: Pending[Any]) -> None:
        """The agent stopped waiting (cancelled or interrupted): take its prompt away."""
        if pending in self.queue:
            self.queue.remove(pending)
        # closing it calls _answered, which shows the next prompt; a prompt covered
        # by another screen stays until answered, and its answer is ignored
        if self.shown is pending and pending.screen.is_active:
            pending.screen.dismiss(None)

    def close_all(self) -> None:
        """Answer every waiting prompt with its default (the app is closing)."""
        for pending in self.queue:
            if not pending.answer.done():
                pending.answer.set_result(pending.default)
        self.queue.clear()
