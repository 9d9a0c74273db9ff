"""A past session played back into the panes, read-only: the main screen's layout without an engine.

The events go out on a bus of their own, paced by a ``ReplayPlayer``, and the
same bridge as a live session's turns them into the panes' messages. Nothing
is written and nothing can be sent: the prompt is disabled, the engine's keys
are gone, and a bar says what is playing. A session another process has open
is shown the same way, all at once ("read-only").
"""

from __future__ import annotations

from datetime import UTC, datetime

from textual import work
from textual.content import Content
from textual.keys import format_key
from textual.widgets import Static

from workbench.engine.replay import ReplayClient
from workbench.frontends.tui.actions import bindings
from workbench.frontends.tui.bridge import BusBridge
from workbench.frontends.tui.replay_player import SPEEDS, ReplayPlayer, speed_label
from workbench.frontends.tui.screens.main import ENGINE_ACTIONS, MainScreen
from workbench.frontends.tui.widgets.agents_pane import AgentsPane
from workbench.frontends.tui.widgets.budget_pane import BudgetPane
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.log_pane import LogPane
from workbench.frontends.tui.widgets.prompt import PromptArea, PromptBox
from workbench.frontends.tui.widgets.session_header import SessionHeader
from workbench.protocol.events import Event


class ReplayBar(Static):
    """What is playing, how fast, how far; the keys that change it."""


class ReplayScreen(MainScreen):
    CSS_PATH = "replay.tcss"
    BINDINGS = bindings("replay")
    AUTO_FOCUS = "#conversation"

    def __init__(
        self,
        client: ReplayClient,
        events: list[Event],
        *,
        read_only: str = "",
    ) -> None:
        """``read_only`` says why a session is shown rather than replayed (it is then shown at once)."""
        # the panes' clock is the replay's: elapsed times read as they did then
        super().__init__(self._played_until)
        self.replay = self.client = client
        self.read_only = read_only
        self.player = ReplayPlayer(events, client, speed=None if read_only else SPEEDS[0])
        self.finished = False

    def on_mount(self) -> None:
        self.mount(ReplayBar(id="replay-bar"), after=self.query_one(SessionHeader))
        self.query_one(PromptArea).disabled = True
        header = self.query_one(SessionHeader)
        header.session_id = self.replay.info.session_id
        header.brain = self.replay.info.brain
        panes = [self.query_one(t) for t in (Conversation, AgentsPane, BudgetPane, LogPane)]
        view = self.replay.view
        self.query_one(BudgetPane).follow_session(view.stats.snapshot, view.kept_out)
        self.query_one(AgentsPane).follow(view)
        self.replay.subscribe(self._played)
        self.bridge = BusBridge([*panes, self], self.replay)
        self.bridge.attach()
        self._present(self.agent_id)
        self._show_progress()
        self.call_after_refresh(self._play)  # once the panes are mounted and laid out

    @work(group="replay", exclusive=True, exit_on_error=False)
    async def _play(self) -> None:
        await self.player.play()
        self.finished = True
        self._show_progress()
        self.refresh_bindings()

    def _played_until(self) -> datetime:
        played = self.replay.played
        if played:
            return played[-1].ts
        return self.player.events[0].ts if self.player.events else datetime.now(UTC)

    def _played(self, item: object) -> None:
        if hasattr(item, "seq"):
            self._show_progress()

    def _show_progress(self) -> None:
        speed_key, stop_key = format_key(self._key("replay_speed")), format_key(self._key("replay_stop"))
        total = len(self.player.events)
        if self.read_only:
            parts = [("READ-ONLY", "bold reverse"), f"  {self.read_only} · {total} events · ",
                     (stop_key, "bold"), " back"]  # fmt: skip
        elif self.finished:
            parts = [("REPLAY", "bold reverse"), f"  finished · {total} events of {self.replay.info.session_id} · ",
                     (stop_key, "bold"), " back"]  # fmt: skip
        else:
            parts = [("▶ REPLAY", "bold reverse"), f"  {self.replay.info.session_id} · {speed_label(self.player.speed)} · "
                     f"event {len(self.replay.played)} of {total} · ", (speed_key, "bold"), " speed · ",
                     (stop_key, "bold"), " stop"]  # fmt: skip
        self.query_one(ReplayBar).update(Content.assemble(*parts))  # type: ignore[arg-type]

    # ---------------------------------------------------------------- what the main screen did with an engine

    def _present(self, agent_id: str) -> None:
        row = self.replay.view.roster.get(agent_id)
        label = agent_id if row is None else f"{agent_id} · {row.mode}"
        events = list(self.replay.events_of(agent_id))
        self.query_one(Conversation).post_message(Conversation.Show(agent_id, label, events))
        budget = self.query_one(BudgetPane)
        budget.agent_id = agent_id
        budget.budget = self.replay.view.budget(agent_id)
        self.query_one(AgentsPane).shown_agent = agent_id
        self._update_prompt_title()

    def _ask_person(self, asked: object) -> None:
        """What agents asked then is shown in the conversation; nobody is asked again."""

    def _update_prompt_title(self) -> None:
        box = self.query_one(PromptBox)
        box.border_title = f"read-only · {self.agent_id}"
        box.border_subtitle = "nothing can be sent to a replay"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ENGINE_ACTIONS or action == "remount":
            return False
        if action == "replay_speed":
            return not (self.read_only or self.finished)
        return super().check_action(action, parameters)

    # ---------------------------------------------------------------- keys

    def action_replay_speed(self) -> None:
        self.player.faster()
        self._show_progress()

    def action_replay_stop(self) -> None:
        self.workers.cancel_group(self, "replay")
        self.dismiss()
