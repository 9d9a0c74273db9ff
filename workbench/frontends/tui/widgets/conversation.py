"""The focused agent's transcript, built from its logged events and the reply streaming now.

Showing another agent rebuilds the transcript from that agent's events: the
blocks hold nothing the log does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widget import Widget

from workbench.engine.presentation import describe, with_images
from workbench.engine.priming.checkpoints import announced, checkpoints_of
from workbench.engine.views.todos import TODO_TOOL, todo_list
from workbench.frontends.tui.actions import shown_key
from workbench.frontends.tui.history_window import CHUNK_EVENTS, TAIL_EVENTS, chunk_start
from workbench.frontends.tui.humanize import clip
from workbench.frontends.tui.messages import EventLogged, ReplyStreamed, ThinkingStreamed, ToolCallStarted
from workbench.frontends.tui.stylesheet import css_beside
from workbench.frontends.tui.widgets.todo_checklist import TodoChecklist
from workbench.frontends.tui.widgets.tool_block import ToolBlock
from workbench.frontends.tui.widgets.transcript_blocks import (
    EarlierEvents,
    ErrorNote,
    Marker,
    ThinkingBlock,
    UserTurn,
    Welcome,
)
from workbench.frontends.tui.widgets.web_search_block import Sources, WebSearchBlock
from workbench.protocol.content import ThinkingBlock as ThinkingContent
from workbench.protocol.content import citations_of, text_of, web_searches
from workbench.protocol.events import (
    WORKSPACE_EVENT_TYPES,
    AgentFinished,
    AgentSpawned,
    AssistantMessage,
    ChildResult,
    Compaction,
    Delegated,
    Error,
    Event,
    FilesChanged,
    PermissionDecision,
    Primed,
    PromptQueued,
    Reduction,
    Remounted,
    ToolCall,
    ToolResult,
    UserMessage,
)

if TYPE_CHECKING:
    from workbench.frontends.tui.widgets.assistant_reply import AssistantReply


MARKER_GLYPHS = {
    "spawned": "◆", "delegated": "↳", "child_result": "↩", "compaction": "⇣", "reduction": "⇣",
    "primed": "✚", "remounted": "⟲", "interrupted": "‖", "done": "■", "failed": "■", "cancelled": "■",
    "checkpoint": "⚑", "queued": "⧗", "worktree_created": "⎇", "worktree_skipped": "⚠", "worktree_merged": "⇲",
    "worktree_conflicted": "⚠", "worktree_discarded": "✕", "worktree_kept": "⎇", "worktree_committed": "●",
    "files_restored": "⟲",
}  # fmt: skip
# where the agent works and what became of its changes: a line each (what each call changed is in the log pane)
WORKSPACE_EVENTS = tuple(kind for kind in WORKSPACE_EVENT_TYPES if kind is not FilesChanged)


def marker(text: str, variant: str) -> Marker:
    return Marker(f"{MARKER_GLYPHS.get(variant, '·')} {text}", variant)


def new_reply(text: str = "") -> AssistantReply:
    # the Markdown parser loads with the first reply, not with the first screen
    from workbench.frontends.tui.widgets.assistant_reply import AssistantReply

    return AssistantReply(text)


def searched(event: AssistantMessage) -> list[Widget]:
    """A block for each web search the API ran for the reply."""
    return [WebSearchBlock(search) for search in web_searches(event.content)]


def cited(event: AssistantMessage) -> list[Widget]:
    """The sources the reply's text cites, if any."""
    citations = citations_of(event.content)
    return [Sources(citations)] if citations else []


def welcome(overrides: dict[str, str]) -> Content:
    """What an empty conversation says; the keys as the user has them."""

    def key(name: str) -> tuple[str, str]:
        return shown_key(name, overrides), "bold $accent"

    return Content.assemble(
        ("Ask the primary agent below", "bold"), " and press ", key("send"), ".\n\n",
        ("/background", "$accent"), (" <task>", "dim"), "  a task for a background agent\n",
        ("/", "$accent"), "                  every slash command\n",
        key("help"), " keys   ", key("palette"), " palette   ", key("focus_next_pane"), " next pane",
    )  # fmt: skip


class Conversation(VerticalScroll, can_focus=True):
    DEFAULT_CSS = css_beside(__file__)

    class Show(Message, bubble=False):
        """Show this agent: its events so far, and the reply it is streaming (if any)."""

        def __init__(self, agent_id: str, label: str, events: list[Event], partial: str = "") -> None:
            super().__init__()
            self.agent_id = agent_id
            self.label = label
            self.events = events
            self.partial = partial

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.agent_id = "primary"
        self._last_seq = 0
        self._reply: AssistantReply | None = None
        self._thinking: ThinkingBlock | None = None
        self._tools: dict[str, ToolBlock] = {}
        self._welcome: Welcome | None = None
        self._earlier: list[Event] = []  # the shown agent's events no block is built for yet
        self._earlier_note: EarlierEvents | None = None
        self._building = False
        self._reset_agent()

    def _reset_agent(self) -> None:
        """What the blocks of the shown agent are built with, beyond each event on its own."""
        self._mode = ""
        self._checkpoints: list[str] = []  # of the agent's latest checkpointed primer
        self._todo_calls: dict[str, ToolCall] = {}  # TodoWrite calls waiting for their result
        self._checklist: TodoChecklist | None = None

    def on_mount(self) -> None:
        self.border_title = "Conversation"
        self.anchor()

    # ---------------------------------------------------------------- rebuilding

    @on(Show)
    async def _show(self, message: Show) -> None:
        self.agent_id = message.agent_id
        self.border_title = f"Conversation · {message.label}"
        self._reply = None
        self._thinking = None
        self._tools = {}
        self._welcome = None
        self._earlier_note = None
        self.workers.cancel_group(self, "history")
        self._building = False
        self._reset_agent()
        await self.remove_children()
        start = chunk_start(message.events, len(message.events), TAIL_EVENTS)
        self._earlier = message.events[:start]
        self.loading = bool(self._earlier)  # a long history: its tail is being built
        self._follow_earlier(self._earlier)
        blocks = [block for event in message.events[start:] for block in self._blocks_for(event)]
        if self._earlier:
            self._earlier_note = EarlierEvents(len(self._earlier))
            blocks.insert(0, self._earlier_note)
        self._last_seq = message.events[-1].seq if message.events else 0
        if message.partial:
            self._reply = new_reply(message.partial)
            blocks.append(self._reply)
        if not blocks and message.agent_id == "primary":
            self._welcome = Welcome(welcome(self.app.config.keys))  # type: ignore[attr-defined]
            blocks.append(self._welcome)
        await self.mount_all(blocks)
        self.anchor()
        self.loading = False
        self.call_after_refresh(self._fill)

    # ---------------------------------------------------------------- earlier history, built on demand

    def _follow_earlier(self, events: list[Event]) -> None:
        """What the blocks after ``events`` are built with: the agent's mode and latest checkpoints."""
        self._mode, self._checkpoints = "", []
        for event in events:
            if isinstance(event, AgentSpawned):
                self._mode = event.mode
            elif isinstance(event, Primed) and (names := checkpoints_of(event.text)):
                self._checkpoints = names

    def _fill(self) -> None:
        """Too little is built to scroll: the user could never reach the top, so build more now."""
        if self._earlier and self.max_scroll_y == 0:
            self.show_earlier()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value and self._earlier:  # the user scrolled up to the top
            self.show_earlier()

    @on(EarlierEvents.Wanted)
    def show_earlier(self) -> None:
        """Build the chunk of events before the first built (once at a time)."""
        if not self._building:
            self._building = True
            self.run_worker(self._build_earlier(), group="history", exit_on_error=False)

    async def _build_earlier(self) -> None:
        note = self._earlier_note
        assert note is not None
        note.building()
        start = chunk_start(self._earlier, len(self._earlier), CHUNK_EVENTS)
        chunk, self._earlier = self._earlier[start:], self._earlier[:start]
        # the chunk's blocks are built on their own: the live blocks' state is kept aside meanwhile
        live = (self._tools, self._todo_calls, self._checklist, self._mode, self._checkpoints)
        self._tools, self._todo_calls, self._checklist = {}, {}, None
        self._follow_earlier(self._earlier)
        blocks = [block for event in chunk for block in self._blocks_for(event)]
        self._tools, self._todo_calls, self._checklist, self._mode, self._checkpoints = live
        height = self.virtual_size.height
        await self.mount_all(blocks, after=note)
        if self._earlier:
            note.count(len(self._earlier))
        else:
            await note.remove()
            self._earlier_note = None
        self.call_after_refresh(self._built_earlier, height)

    def _built_earlier(self, height: int) -> None:
        """The new blocks are above what the user looks at: it stays in place."""
        self.scroll_to(y=self.scroll_y + self.virtual_size.height - height, animate=False, immediate=True)
        self._building = False
        self._fill()

    def _blocks_for(self, event: Event) -> list[Widget]:
        """The new blocks an event adds; events about a tool call update its block instead."""
        if isinstance(event, PromptQueued):  # it waits: busy, paused or not started yet
            return [
                marker(f"queued for {event.agent} (delivered when it can take it): {clip(event.text, 200)}", "queued")
            ]
        if isinstance(event, UserMessage):
            return [UserTurn(with_images(event.text, event.images))]
        if isinstance(event, AssistantMessage):
            blocks: list[Widget] = [
                ThinkingBlock(block.thinking) for block in event.content if isinstance(block, ThinkingContent)
            ]
            blocks += searched(event)
            text = text_of(event.content)
            if text.strip():
                reply = new_reply(text)
                reply.set_class(event.interrupted, "-interrupted")
                blocks.append(reply)
            blocks += cited(event)
            if event.interrupted:
                blocks.append(marker("reply interrupted", "interrupted"))
            return blocks + self._checkpoint_markers(event)
        if isinstance(event, ToolCall) and event.name == TODO_TOOL:
            self._todo_calls[event.tool_use_id] = event
            return []
        if isinstance(event, ToolResult) and event.tool_use_id in self._todo_calls:
            return self._todos_written(event)
        if isinstance(event, ToolCall):
            block = self._tools.get(event.tool_use_id)
            fresh = block is None
            if block is None:
                block = self._tools[event.tool_use_id] = ToolBlock(event.tool_use_id, event.name)
            block.set_call(event)
            return [block] if fresh else []
        if isinstance(event, PermissionDecision):
            if block := self._tools.get(event.tool_use_id):
                block.set_decision(event)
            return []
        if isinstance(event, ToolResult):
            if block := self._tools.get(event.tool_use_id):
                block.set_result(event)
            return []
        if isinstance(event, Error):
            return [ErrorNote(describe(event), retrying=event.retryable)]
        if isinstance(event, AgentSpawned):
            self._mode = event.mode
            if event.parent:
                return [marker(f"{event.mode} agent · level {event.level} · started by {event.parent}", "spawned")]
            return []
        if isinstance(event, AgentFinished):
            return [marker(self._finish_text(event), event.state)]
        if isinstance(event, Primed) and (names := checkpoints_of(event.text)):
            self._checkpoints = names
            return [marker(describe(event), event.kind), marker(f"checkpoints: {' → '.join(names)}", "checkpoint")]
        if isinstance(event, Remounted):
            from workbench.frontends.tui.widgets.remounted_history import RemountedHistory  # with the first remount

            return [marker(describe(event), event.kind), RemountedHistory(event)]
        if isinstance(event, (Compaction, Reduction, Primed, Delegated, ChildResult, *WORKSPACE_EVENTS)):
            return [marker(describe(event), event.kind)]
        return []

    def _finish_text(self, event: AgentFinished) -> str:
        if event.state != "done":
            return f"finished · {event.state}: {clip(event.result, 160)}"
        if self._mode == "background":
            return f"finished · done · /hand {event.agent} gives the result to the primary"
        return "finished · done"

    def _checkpoint_markers(self, event: AssistantMessage) -> list[Widget]:
        """A marker for each checkpoint the reply announces."""
        if not self._checkpoints:
            return []
        total = len(self._checkpoints)
        return [
            marker(f"checkpoint {index + 1}/{total} · {self._checkpoints[index]}", "checkpoint")
            for index in announced(text_of(event.content), self._checkpoints)
        ]

    def _todos_written(self, result: ToolResult) -> list[Widget]:
        """The checklist shows the new list: a new block the first time, the same block after."""
        call = self._todo_calls.pop(result.tool_use_id)
        if result.is_error:
            return [ErrorNote(f"TodoWrite failed: {clip(result.content, 300)}")]
        todos = todo_list(call, result)
        if self._checklist is None:
            self._checklist = TodoChecklist(todos)
            return [self._checklist]
        self._checklist.show(todos)
        return []

    # ---------------------------------------------------------------- live

    async def _add(self, *blocks: Widget) -> None:
        if not blocks:
            return
        if self._welcome is not None:  # a reference, not a query: this runs for every block the agent adds
            await self._welcome.remove()
            self._welcome = None
        await self.mount_all(blocks)

    def _shows(self, agent: str) -> bool:
        return agent == self.agent_id

    @on(EventLogged)
    async def _logged(self, message: EventLogged) -> None:
        event = message.event
        if not self._shows(event.agent) or event.seq <= self._last_seq:
            return
        self._last_seq = event.seq
        if isinstance(event, AssistantMessage) and (self._reply is not None or self._thinking is not None):
            await self._settle(event)
            await self._add(*self._checkpoint_markers(event))
            return
        await self._add(*self._blocks_for(event))

    async def _settle(self, event: AssistantMessage) -> None:
        """The streamed reply is logged: make the blocks show exactly what the log holds."""
        thinking = "".join(b.thinking for b in event.content if isinstance(b, ThinkingContent))
        if self._thinking is not None:
            self._thinking.settle(thinking)
            self._thinking = None
        text = text_of(event.content)
        if self._reply is not None:
            if searches := searched(event):  # the searches came before the text that streamed in
                await self.mount_all(searches, before=self._reply)
            await self._reply.settle(text, event.interrupted)
            self._reply = None
        else:
            await self._add(*searched(event))
            if text.strip():
                await self._add(new_reply(text))
        await self._add(*cited(event))
        if event.interrupted:
            await self._add(marker("reply interrupted", "interrupted"))

    @on(ReplyStreamed)
    async def _streamed(self, message: ReplyStreamed) -> None:
        if not self._shows(message.agent):
            return
        if self._reply is None:
            self._reply = new_reply()
            await self._add(self._reply)
        await self._reply.stream(message.text, message.start)

    @on(ThinkingStreamed)
    async def _thought(self, message: ThinkingStreamed) -> None:
        if not self._shows(message.agent):
            return
        if self._thinking is None:
            self._thinking = ThinkingBlock()
            await self._add(self._thinking)
        self._thinking.add(message.text)

    @on(ToolCallStarted)
    async def _tool_started(self, message: ToolCallStarted) -> None:
        if not self._shows(message.agent) or message.tool_use_id in self._tools or message.name == TODO_TOOL:
            return
        block = self._tools[message.tool_use_id] = ToolBlock(message.tool_use_id, message.name)
        await self._add(block)
