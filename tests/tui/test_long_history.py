"""A long session opens at its end: the last reply shows at once, older turns are built as the
user scrolls up to them, and a loading indicator shows while the tail is built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.engine.config import Config
from workbench.frontends.tui.session_start import ResumedSession
from workbench.frontends.tui.widgets.assistant_reply import AssistantReply
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.transcript_blocks import EarlierEvents, UserTurn
from workbench.log.bundle import EVENTS_FILE, BundleStore, write_meta
from workbench.log.meta import SessionMeta
from workbench.protocol.content import TextBlock, ToolUseBlock
from workbench.protocol.events import (
    AgentSpawned,
    AssistantMessage,
    Event,
    SessionStarted,
    Status,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
    encode_event,
)

from .helpers import until

LONG = "20260101T000000Z-long"


def long_session(turns: int, cwd: Path) -> list[Event]:
    """A session of ``turns`` prompts, each answered after one Read: forty events a turn, most of
    them status and usage (which make no block of their own, as in a real log)."""
    events: list[Event] = [SessionStarted(model="claude-sonnet-4-6", cwd=str(cwd)), AgentSpawned(name="primary")]
    for i in range(1, turns + 1):
        call = f"toolu_{i:06d}"
        events += [
            UserMessage(text=f"question {i}: what does parse_{i} return?"),
            *[Status(state="thinking") for _ in range(15)],
            AssistantMessage(
                content=[
                    TextBlock(text=f"reading module {i}"),
                    ToolUseBlock(id=call, name="Read", input={"file_path": "app.py"}),
                ],
                stop_reason="tool_use",
            ),
            *[Usage(input_tokens=100, output_tokens=10) for _ in range(5)],
            Status(state="tool"),
            ToolCall(tool_use_id=call, name="Read", input={"file_path": "app.py"}),
            ToolResult(tool_use_id=call, name="Read", content="def main():\n    print('hello')\n"),
            *[Status(state="thinking") for _ in range(10)],
            AssistantMessage(content=[TextBlock(text=f"answer {i}: a list of words")], stop_reason="end_turn"),
            *[Usage(input_tokens=120, output_tokens=8) for _ in range(5)],
        ]
    events.append(Status(state="idle"))
    return [e.model_copy(update={"agent": "primary", "seq": n, "session": LONG}) for n, e in enumerate(events, 1)]


async def stored(config: Config, events: list[Event]) -> None:
    folder = BundleStore(Path(str(config.bundles))).folder(LONG)
    folder.mkdir(parents=True)
    data = "".join(encode_event(e) + "\n" for e in events).encode()
    (folder / EVENTS_FILE).write_bytes(data)
    await write_meta(folder, SessionMeta.rebuild(LONG, events, len(data)))


def replies(conversation: Conversation) -> list[str]:
    return [reply.source for reply in conversation.query(AssistantReply)]


async def test_a_resumed_session_of_ten_thousand_events_shows_its_end_and_scrolls_back_to_its_start(
    make_app: Any, config: Config, workspace: Path, monkeypatch: Any
) -> None:
    events = long_session(250, workspace)
    assert len(events) > 10_000
    await stored(config, events)
    loading: list[bool] = []
    set_loading = Conversation.set_loading
    monkeypatch.setattr(Conversation, "set_loading", lambda self, on: loading.append(on) or set_loading(self, on))
    app = make_app()
    app.first_start = ResumedSession(LONG)
    async with app.run_test(size=(120, 40)) as pilot:
        conversation = app.query_one(Conversation)
        await until(pilot, lambda: "answer 250: a list of words" in replies(conversation), timeout=120)
        # the indicator showed while the tail was built, then went
        await until(pilot, lambda: loading[:2] == [True, False])
        assert not conversation.loading
        assert len(conversation.children) < 200  # the tail, not ten thousand events' blocks
        note = conversation.query_one(EarlierEvents)
        assert "earlier events" in str(note.visual)
        # the user scrolls to the top again and again: older turns are built, down to the first prompt
        first = "question 1: what does parse_1 return?"
        while not any(str(turn.visual) == first for turn in conversation.query(UserTurn)):
            built = len(conversation.children)
            conversation.scroll_home(animate=False, immediate=True)
            # built above what the user looks at, which stays in place (no longer at the top)
            await until(
                pilot,
                lambda n=built: (
                    (len(conversation.children) > n and conversation.scroll_y > 0)
                    or not conversation.query(EarlierEvents)
                ),
            )
        assert not conversation.query(EarlierEvents)  # everything is built: the note is gone
        turns = [str(turn.visual) for turn in conversation.query(UserTurn)]
        assert turns == [f"question {i}: what does parse_{i} return?" for i in range(1, 251)]
        assert replies(conversation)[-1] == "answer 250: a list of words"
