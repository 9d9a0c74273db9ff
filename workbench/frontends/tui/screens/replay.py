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

from workbench.frontends.tui.actions import bindings
from workbench.frontends.tui.bridge import BusBridge
from workbench.frontends.tui.delegation_rollup import DelegationRollup
from workbench.frontends.tui.replay_accounts import ReplayAccounts
from workbench.frontends.tui.replay_player import SPEEDS, ReplayPlayer, speed_label
from workbench.frontends.tui.screens.main import ENGINE_ACTIONS, MainScreen
from workbench.frontends.tui.widgets.agents_pane import AgentsPane
from workbench.frontends.tui.widgets.budget_pane import BudgetPane
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.log_pane import LogPane
from workbench.frontends.tui.widgets.prompt import PromptArea, PromptBox
from workbench.frontends.tui.widgets.session_header import SessionHeader
from workbench.log.bus import EventBus
from workbench.log.meta import SessionMeta
from workbench.log.transcript import brain_label
from workbench.protocol.events import AgentSpawned, Event


class ReplayBar(Static):
    """What is playing, how fast, how far; the keys that change it."""


class ReplayScreen(MainScreen):
    CSS_PATH = "replay.tcss"
    BINDINGS = bindings("replay")
    AUTO_FOCUS = "#conversation"

    def __init__(
        self,
        meta: SessionMeta,
        events: list[Event],
        accounts: ReplayAccounts,
        *,
        read_only: str = "",
    ) -> None:
        """``read_only`` says why a session is shown rather than replayed (it is then shown at once)."""
        # the panes' clock is the replay's: elapsed times read as they did then
        super().__init__(self._played_until)
        self.meta = meta
        self.accounts = accounts
        self.read_only = read_only
        self.replay_bus = EventBus()
        self.player = ReplayPlayer(events, self.replay_bus, speed=None if read_only else SPEEDS[0])
        self.played: list[Event] = []
        self.finished = False

    def on_mount(self) -> None:
        self.mount(ReplayBar(id="replay-bar"), after=self.query_one(SessionHeader))
        self.query_one(PromptArea).disabled = True
        header = self.query_one(SessionHeader)
        header.session_id = self.meta.id
        header.brain = brain_label(self.meta.brain, self.meta.model)
        panes = [self.query_one(t) for t in (Conversation, AgentsPane, BudgetPane, LogPane)]
        self.query_one(BudgetPane).follow_session(
            self.accounts.stats.snapshot, DelegationRollup(self.accounts.counter.count)
        )
        # the budgets must have counted an event before the bridge asks for them
        self.replay_bus.subscribe(self.accounts.observe)
        self.replay_bus.subscribe(self._played)
        self.bridge = BusBridge([*panes, self], budget=self.accounts.budget)
        self.bridge.attach(self.replay_bus, [])
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
        if self.played:
            return self.played[-1].ts
        return self.meta.created or datetime.now(UTC)

    def _played(self, item: object) -> None:
        if hasattr(item, "seq"):
            self.played.append(item)  # type: ignore[arg-type]
            self._show_progress()

    def _show_progress(self) -> None:
        speed_key, stop_key = format_key(self._key("replay_speed")), format_key(self._key("replay_stop"))
        total = len(self.player.events)
        if self.read_only:
            parts = [("READ-ONLY", "bold reverse"), f"  {self.read_only} · {total} events · ",
                     (stop_key, "bold"), " back"]  # fmt: skip
        elif self.finished:
            parts = [("REPLAY", "bold reverse"), f"  finished · {total} events of {self.meta.id} · ",
                     (stop_key, "bold"), " back"]  # fmt: skip
        else:
            parts = [("▶ REPLAY", "bold reverse"), f"  {self.meta.id} · {speed_label(self.player.speed)} · "
                     f"event {len(self.played)} of {total} · ", (speed_key, "bold"), " speed · ",
                     (stop_key, "bold"), " stop"]  # fmt: skip
        self.query_one(ReplayBar).update(Content.assemble(*parts))

    # ---------------------------------------------------------------- what the main screen did with an engine

    def _present(self, agent_id: str) -> None:
        events = [e for e in self.played if e.agent == agent_id]
        spawned = next((e for e in events if isinstance(e, AgentSpawned)), None)
        label = agent_id if spawned is None else f"{agent_id} · {spawned.mode}"
        self.query_one(Conversation).post_message(Conversation.Show(agent_id, label, events))
        budget = self.query_one(BudgetPane)
        budget.agent_id = agent_id
        budget.budget = self.accounts.budget(agent_id)
        self.query_one(AgentsPane).shown_agent = agent_id
        self._update_prompt_title()

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
