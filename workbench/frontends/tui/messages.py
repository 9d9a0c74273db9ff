"""What the engine tells the panes, as Textual messages.

The bus bridge turns every bus item into one of these and posts it to each
pane; a pane handles the ones it shows. They do not bubble: every pane gets
its own copy, so one pane's handling never hides a message from another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from workbench.engine.client import EngineClient
    from workbench.engine.context.tokens import BudgetSnapshot
    from workbench.protocol.events import Event


class EngineMessage(Message, bubble=False):
    def __init_subclass__(cls, **kwargs: object) -> None:
        # Textual resets ``bubble`` for every subclass; each pane gets its own copy, so none may bubble
        super().__init_subclass__(**{**kwargs, "bubble": False})  # type: ignore[arg-type]


class EventLogged(EngineMessage):
    """An event was written to the session's bundle."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class ReplyStreamed(EngineMessage):
    """More text of the reply an agent is streaming (not logged until the reply completes).

    ``start`` is where ``text`` begins in the reply so far, so a pane that
    already has that part (after rebuilding from the partial reply) skips it.
    """

    def __init__(self, agent: str, text: str, start: int) -> None:
        super().__init__()
        self.agent = agent
        self.text = text
        self.start = start


class ThinkingStreamed(EngineMessage):
    def __init__(self, agent: str, text: str) -> None:
        super().__init__()
        self.agent = agent
        self.text = text


class ToolCallStarted(EngineMessage):
    """The model began a tool call; its input is still streaming."""

    def __init__(self, agent: str, tool_use_id: str, name: str) -> None:
        super().__init__()
        self.agent = agent
        self.tool_use_id = tool_use_id
        self.name = name


class RetryScheduled(EngineMessage):
    def __init__(self, agent: str, message: str, attempt: int, delay_s: float) -> None:
        super().__init__()
        self.agent = agent
        self.message = message
        self.attempt = attempt
        self.delay_s = delay_s


class BudgetChanged(EngineMessage):
    def __init__(self, budget: BudgetSnapshot) -> None:
        super().__init__()
        self.budget = budget


class EngineReady(EngineMessage):
    """The session is open (here, or in the daemon): its primary agent runs."""

    def __init__(self, client: EngineClient) -> None:
        super().__init__()
        self.client = client


class EngineFailed(EngineMessage):
    """The session could not be opened; ``reason`` is written for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class McpChanged(EngineMessage):
    """An MCP server's status changed (``server`` is empty when every server should be looked at again).

    The message only says that something changed: the panes read the statuses themselves
    from the client, so a message that arrives late never shows an older state.
    """

    def __init__(self, server: str = "", state: str = "", error: str = "") -> None:
        super().__init__()
        self.server = server
        self.state = state
        self.error = error
