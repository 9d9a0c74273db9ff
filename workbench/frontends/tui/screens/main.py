"""The one screen: agents and budget on the left; conversation, log and prompt on the right."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Footer

from workbench.frontends.tui.actions import BY_NAME, Action, bindings, key_of
from workbench.frontends.tui.delegation_proposals import DelegationProposals
from workbench.frontends.tui.delegation_rollup import DelegationRollup
from workbench.frontends.tui.messages import (
    BudgetChanged,
    EngineFailed,
    EngineReady,
    EventLogged,
    McpChanged,
    RetryScheduled,
)
from workbench.frontends.tui.notices import Notice, finished_notice, proposal_notice
from workbench.frontends.tui.slash import parse
from workbench.frontends.tui.spend_actions import SpendActions
from workbench.frontends.tui.widgets.agents_pane import AgentsPane, AgentTree
from workbench.frontends.tui.widgets.budget_pane import BudgetPane
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.log_pane import LogPane, LogTable
from workbench.frontends.tui.widgets.prompt import PromptArea, PromptBox
from workbench.frontends.tui.widgets.session_header import McpTally, SessionHeader
from workbench.frontends.tui.widgets.transcript_blocks import ErrorNote
from workbench.protocol.events import FINAL_STATES, AgentFinished, ChildResult, Error, Reduction, Status

if TYPE_CHECKING:
    from workbench.engine.engine import Workbench
    from workbench.frontends.tui.bridge import BusBridge

# the panes in focus order, and what each focuses when the pane-cycling keys reach it
PANES: tuple[tuple[type[Widget], type[Widget]], ...] = (
    (PromptBox, PromptArea),
    (Conversation, Conversation),
    (AgentsPane, AgentTree),
    (LogPane, LogTable),
)
MODES = ("default", "acceptEdits", "plan", "bypass")
BUSY_STATES = frozenset({"queued", "thinking", "tool", "awaiting_approval"})
# actions that need the engine open (their keys show disabled until it is)
ENGINE_ACTIONS = frozenset({"background", "delegate", "compact", "prime", "interrupt", "cancel_agent",
                            "pause_resume", "hand_result", "cycle_mode", "mcp", "orchestrate", "reduce",
                            "accept_delegation", "tasks"})  # fmt: skip
# background agents that finish within this time of each other share one notification
FINISHED_BATCH_S = 0.3
DENSE_BELOW = 40  # terminal rows under which the budget pane keeps to the essentials


class MainScreen(SpendActions):
    BINDINGS = bindings("main")
    AUTO_FOCUS = "#prompt"

    agent_id: reactive[str] = reactive("primary", init=False)

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.clock = clock
        self.bench: Workbench | None = None
        self.bridge: BusBridge | None = None
        self.proposals = DelegationProposals()
        self._finished: list[AgentFinished] = []  # background agents whose end is yet to be announced

    def _key(self, action: str) -> str:
        """The key that runs an action (the first, when it has several), with the user's overrides."""
        return key_of(BY_NAME[action], self.app.config.keys).split(",")[0]  # type: ignore[attr-defined]

    def _notify(self, notice: Notice) -> None:
        # not markup: results and task names are the model's and the user's text
        self.notify(notice.message, title=notice.title, severity=notice.severity, timeout=notice.timeout, markup=False)

    def compose(self) -> ComposeResult:
        yield SessionHeader()
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield AgentsPane(self.clock, id="agents")
                yield BudgetPane(self.clock, self._key("accept_delegation"), id="budget")
            with Vertical(id="main"):
                yield Conversation(id="conversation")
                yield LogPane(id="log")
                yield PromptBox(id="prompt-box")
        footer = Footer(compact=True)
        footer.show_command_palette = False  # the palette key is in the action table, shown like the others
        yield footer

    # ---------------------------------------------------------------- the engine

    @on(EngineReady)
    def _ready(self, message: EngineReady) -> None:
        from workbench.frontends.tui.bridge import BusBridge  # with the engine, after the first screen

        bench = self.bench = message.bench
        header = self.query_one(SessionHeader)
        header.session_id = bench.session.id
        label, model = bench.brain.label, bench.brain.model
        header.brain = label if model in label else f"{label} · {model}"
        header.offline_reason = bench.offline_reason or ""
        header.mode = bench.policy.mode
        panes = [self.query_one(t) for t in (Conversation, AgentsPane, BudgetPane, LogPane)]
        self.query_one(BudgetPane).follow_session(bench.stats.snapshot, DelegationRollup(bench.counter.count))
        self.bridge = BusBridge([*panes, self], budget=bench.budget, watching=lambda agent: agent == self.agent_id)
        self.bridge.attach(bench.bus, list(bench.events))
        self._present(self.agent_id)

    @on(EngineFailed)
    async def _failed(self, message: EngineFailed) -> None:
        self.query_one(SessionHeader).session_id = "not started"
        self.notify(message.reason, title="The session could not start", severity="error", timeout=30)
        await self.query_one(Conversation).mount(ErrorNote(f"The session could not start: {message.reason}"))

    def on_unmount(self) -> None:
        if self.bridge is not None:
            self.bridge.detach()

    @on(EventLogged)
    def _logged(self, message: EventLogged) -> None:
        event = message.event
        if isinstance(event, Status) and event.agent == self.agent_id:
            self._update_prompt_title()
            self.refresh_bindings()
        elif isinstance(event, AgentFinished) and self._mode(event.agent) == "background":
            self._finished.append(event)
            if len(self._finished) == 1:
                self.set_timer(FINISHED_BATCH_S, self._announce_finished)
        elif isinstance(event, Error) and event.fatal:
            self.notify(event.message, title=f"{event.agent} failed", severity="error")

    def _announce_finished(self) -> None:
        batch, self._finished = self._finished, []
        if self.app.config.bell:  # type: ignore[attr-defined]
            self.app.bell()
        self._notify(finished_notice(batch, self._key("hand_result"), self._key("tasks")))

    @on(BudgetChanged)
    def _budget_changed(self, message: BudgetChanged) -> None:
        """Past the delegate threshold, the focused agent is offered to delegate its next sub-task."""
        budget = message.budget
        if self.bench is None or not self.bench.delegation_watch.check(budget):
            return
        if budget.agent == self.agent_id and self._can_delegate(budget.agent):
            self.proposals.propose(budget.agent)
            self._show_proposal()
            self._notify(proposal_notice(budget, self._key("accept_delegation")))

    def _can_delegate(self, agent_id: str) -> bool:
        assert self.bench is not None
        agent = self.bench.supervisor.agents.get(agent_id)
        return (
            agent is not None
            and agent.state not in FINAL_STATES
            and agent.spec.level < self.bench.supervisor.limits.depth
        )

    def _show_proposal(self) -> None:
        self.query_one(BudgetPane).show_proposal(self.proposals.latest.get(self.agent_id))
        self.refresh_bindings()

    @on(RetryScheduled)
    def _retrying(self, message: RetryScheduled) -> None:
        self.notify(
            f"{message.message}; retrying in {message.delay_s:.0f}s (attempt {message.attempt})",
            title=message.agent,
            severity="warning",
        )

    @on(McpChanged)
    def _mcp_changed(self, message: McpChanged) -> None:
        mcp = self.bench.mcp if self.bench is not None else None
        if mcp is None:
            return
        self.query_one(SessionHeader).mcp = McpTally.of((s.state for s in mcp.statuses()), len(mcp.problems))
        if message.state == "failed":
            reason = message.error.splitlines()[0] if message.error else "no reason given"
            self.notify(
                f"{reason}\nIts tools are unavailable; /mcp shows it and restarts it.",
                title=f"MCP server {message.server} failed",
                severity="error",
                timeout=10,
            )
        elif not message.server:  # the servers were just set up: say which cannot even start
            for problem in mcp.problems:
                self.notify(problem, title="MCP config not read", severity="error", timeout=12)
            for status in mcp.statuses():
                if status.state == "failed":
                    self.notify(status.error, title=f"MCP server {status.name} not started", severity="error")

    # ---------------------------------------------------------------- which agent is shown

    def watch_agent_id(self, agent_id: str) -> None:
        self._present(agent_id)

    def _present(self, agent_id: str) -> None:
        """Point every pane that follows the focused agent at this one."""
        if self.bench is None:
            return
        agent = self.bench.supervisor.agents.get(agent_id)
        label = agent_id if agent is None else f"{agent_id} · {agent.spec.mode}"
        partial = self.bridge.partial(agent_id) if self.bridge else ""
        events = list(self.bench.session.events_of(agent_id))
        self.query_one(Conversation).post_message(Conversation.Show(agent_id, label, events, partial))
        budget = self.query_one(BudgetPane)
        budget.agent_id = agent_id
        budget.budget = self.bench.budget(agent_id)
        self.query_one(AgentsPane).shown_agent = agent_id
        self._update_prompt_title()
        self._show_proposal()

    def show_agent(self, agent_id: str) -> None:
        self.agent_id = agent_id
        self.query_one(AgentsPane).select_agent(agent_id)

    @on(AgentsPane.AgentChosen)
    def _chosen(self, message: AgentsPane.AgentChosen) -> None:
        self.show_agent(message.agent_id)

    def _mode(self, agent_id: str) -> str:
        agent = self.bench.supervisor.agents.get(agent_id) if self.bench else None
        return agent.spec.mode if agent else ""

    def _state(self, agent_id: str) -> str:
        if self.bench is None or agent_id not in self.bench.supervisor.agents:
            return "starting"
        return self.bench.supervisor.agents[agent_id].state

    def _update_prompt_title(self) -> None:
        box = self.query_one(PromptBox)
        state = self._state(self.agent_id).replace("_", " ")
        box.border_title = f"› {self.agent_id} · {state}"
        box.border_subtitle = "enter send · ctrl+j new line · / commands"

    # ---------------------------------------------------------------- sending

    @on(PromptArea.Submitted)
    def _submitted(self, message: PromptArea.Submitted) -> None:
        text = message.text
        if text.startswith("/"):
            self.run_slash(text)
        elif self._engine_or_explain(text):
            self._send(text)

    def _engine_or_explain(self, keep: str = "") -> bool:
        if self.bench is not None:
            return True
        self.notify("The session is still starting; try again in a moment.", severity="warning")
        if keep:
            self.query_one(PromptArea).load_text(keep)
        return False

    def _send(self, text: str) -> None:
        assert self.bench is not None
        state = self._state(self.agent_id)
        agent = self.bench.supervisor.agents[self.agent_id]
        if agent.one_shot and state in FINAL_STATES:
            self.notify(
                f"{self.agent_id} has finished ({state}); ctrl+g goes back to the primary.",
                severity="warning",
            )
            self.query_one(PromptArea).load_text(text)
            return
        self.bench.send(text, self.agent_id)
        if self.proposals.decide(self.agent_id, "dismissed"):  # it went on in the same context
            self._show_proposal()

    def run_slash(self, text: str) -> None:
        slash = parse(text)
        if slash.command is None:
            self.notify(f"No command {slash.word}; type / to see them.", severity="warning")
        elif slash.primer:
            self.prime(slash.primer, slash.argument)
        else:
            self.run_named(slash.command.action, slash.argument)

    def run_named(self, action: Action, argument: str = "") -> None:
        """Run an action by its table entry (from a slash command or the palette), with an argument."""
        if action.scope == "app":
            self.app.call_later(self.app.run_action, action.textual_action)
            return
        method = getattr(self, f"action_{action.textual_action}")
        if argument:
            method(argument)
        else:
            method()

    # ---------------------------------------------------------------- actions

    def _target(self) -> str:
        """The agent an action is about: the one highlighted in the agents pane while it has the
        focus, otherwise the one shown."""
        tree = self.query_one(AgentTree)
        node = tree.cursor_node
        if self.focused is tree and node is not None and node.data:
            return node.data
        return self.agent_id

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.bench is None:
            return None if action in ENGINE_ACTIONS else True
        if action == "interrupt":
            return True if self._state(self.agent_id) in BUSY_STATES else None
        if action in ("cancel_agent", "pause_resume"):
            target = self._target()
            return True if target != "primary" or action == "pause_resume" else None
        if action == "accept_delegation":
            return self.proposals.pending(self.agent_id) is not None  # shown in the footer while one is open
        return True

    def _prompt_or(self, argument: str) -> str:
        return argument or self.query_one(PromptArea).take()

    def action_background(self, task: str = "") -> None:
        task = self._prompt_or(task)
        if self._engine_or_explain(task) and self._has_text(task, "the task", "ctrl+b", "/background <task>"):
            self._spawn("background", task)

    def action_delegate(self, task: str = "") -> None:
        task = self._prompt_or(task)
        if self._engine_or_explain(task) and self._has_text(task, "the task", "ctrl+t", "/delegate <task>"):
            self._spawn("delegated", task)

    def _has_text(self, text: str, what: str, key: str, slash: str) -> bool:
        if not text.strip():
            self.notify(f"Type {what} in the prompt first, then {key} (or {slash}).", severity="warning")
        return bool(text.strip())

    @work(group="spawn", exit_on_error=False)
    async def _spawn(self, mode: str, task: str) -> None:
        from workbench.engine.priming.primers import PrimerError
        from workbench.engine.runtime.supervisor import SpawnRefused

        assert self.bench is not None
        parent = self.agent_id
        try:
            if mode == "background":
                agent = await self.bench.background(task)
            else:
                agent = await self.bench.delegate(task, parent_id=parent)
        except (SpawnRefused, PrimerError) as exc:
            self.notify(str(exc), title="No agent started", severity="warning")
            return
        self.notify(f"{agent.id} started: {agent.spec.name}", title=f"{mode.capitalize()} agent")
        if mode == "delegated" and self.proposals.decide(parent, "accepted", child=agent.id):
            self._show_proposal()

    def action_orchestrate(self, goal: str = "") -> None:
        goal = self._prompt_or(goal)
        if not self._engine_or_explain(goal):
            return
        if not goal.strip():
            self.notify("Say the goal: /orchestrate <goal>.", severity="warning")
            return
        assert self.bench is not None
        self.show_agent("primary")
        self.bench.orchestrate(goal)

    def action_reduce(self, agent_id: str = "") -> None:
        target = agent_id or self.agent_id
        if self._engine_or_explain() and self._known(target):
            self._reduce(target)

    @work(group="reduce", exclusive=True, exit_on_error=False)
    async def _reduce(self, agent_id: str) -> None:
        assert self.bench is not None
        reductions = [r for r in await self.bench.reduce(agent_id) if isinstance(r, Reduction)]
        if not reductions:
            self.notify(f"{agent_id} holds no superseded or stale tool results.", title="Nothing to reduce")
            return
        saved = ", ".join(f"{r.strategy} {r.tokens_before - r.tokens_after:,}" for r in reductions)
        self.notify(f"{saved} tokens", title=f"Reduced {agent_id}'s context")

    def action_accept_delegation(self) -> None:
        """The proposal is taken: the prompt's text becomes the task of a /delegate, sent with enter."""
        if self.proposals.pending(self.agent_id) is None:
            self.notify(f"No delegation is proposed for {self.agent_id}.")
            return
        prompt = self.query_one(PromptArea)
        prompt.load_text(f"{BY_NAME['delegate'].slash} {prompt.text.strip()}")
        prompt.move_cursor(prompt.document.end)
        prompt.focus()

    def action_compact(self, instructions: str = "") -> None:
        if self._engine_or_explain():
            self._compact(self.agent_id, instructions)

    @work(group="compact", exclusive=True, exit_on_error=False)
    async def _compact(self, agent_id: str, instructions: str) -> None:
        assert self.bench is not None
        self.notify(f"Summarising {agent_id}'s older turns…", title="Compacting")
        # the compaction, or the reason there was none, is logged and shows in the conversation
        await self.bench.compact(agent_id, instructions)

    def action_prime(self) -> None:
        """The primer picker, with the prompt's text as the primer's arguments."""
        if self._engine_or_explain():
            self._pick_primer(self.agent_id, self.query_one(PromptArea).take())

    @work(group="prime", exit_on_error=False)
    async def _pick_primer(self, agent_id: str, arguments: str) -> None:
        from workbench.engine.priming.primers import primer_catalog, primer_dirs
        from workbench.frontends.tui.screens.primer_picker import PrimerPicker

        assert self.bench is not None
        entries = await asyncio.to_thread(primer_catalog, primer_dirs(self.bench.cwd))
        keys = self.app.config.keys  # type: ignore[attr-defined]
        choice = await self.app.push_screen_wait(PrimerPicker(self.bench, entries, agent_id, arguments, keys))
        if choice is None:
            self.query_one(PromptArea).load_text(arguments)  # nothing loaded: the text goes back
        else:  # the text previewed is the text injected: it is not resolved again
            self.bench.apply_primer(choice.resolved, agent_id)
            self.notify(f"{choice.resolved.tokens:,} tokens into {agent_id}", title=f"Primer {choice.name} loaded")

    def prime(self, name: str, arguments: str, agent_id: str | None = None) -> None:
        if self._engine_or_explain():
            self._prime(name, arguments, agent_id or self.agent_id)

    @work(group="prime", exit_on_error=False)
    async def _prime(self, name: str, arguments: str, agent_id: str) -> None:
        from workbench.engine.priming.primers import PrimerError

        assert self.bench is not None
        try:
            resolved = await self.bench.prime(name, arguments, agent_id)
        except PrimerError as exc:
            self.notify(str(exc), title=f"Primer {name} not loaded", severity="error", timeout=12)
            return
        self.notify(f"{resolved.tokens:,} tokens into {agent_id}", title=f"Primer {name} loaded")

    def action_remount(self, session: str = "") -> None:
        """The session browser; ``/remount ID`` continues that session at once."""
        from workbench.frontends.tui.session_switch import browse

        self.run_worker(browse(self, session), group="remount", exclusive=True, exit_on_error=False)

    def action_interrupt(self) -> None:
        if self.bench is None or not self.bench.interrupt(self.agent_id):
            self.notify(f"{self.agent_id} is not running: nothing to interrupt.")

    def action_cancel_agent(self, agent_id: str = "") -> None:
        target = agent_id or self._target()
        if self.bench is None or not self._known(target):
            return
        if target == "primary":
            self.notify("The primary agent is not cancelled; esc interrupts its turn.", severity="warning")
        elif self._state(target) in FINAL_STATES:
            self.notify(f"{target} has already finished.")
        else:
            self.bench.cancel(target)
            self.notify(f"Cancelling {target} and its children.")

    def action_pause_resume(self, agent_id: str = "") -> None:
        target = agent_id or self._target()
        if self.bench is None or not self._known(target):
            return
        agent = self.bench.agent(target)
        if agent.state in FINAL_STATES:
            self.notify(f"{target} has finished; there is nothing to pause.")
        elif agent.paused:
            self.bench.resume_agent(target)
            self.notify(f"{target} resumes.")
        else:
            self.bench.pause(target)
            self.notify(f"{target} pauses after its current step; ctrl+s resumes it.")

    def action_hand_result(self, agent_id: str = "") -> None:
        if self.bench is None:
            return
        target = agent_id or self._hand_target()
        if target is None:
            self.notify("No finished background agent is waiting to hand its result over.")
            return
        if not self._known(target):
            return
        if target == "primary" or self._state(target) not in FINAL_STATES:
            self.notify(f"{target} has no result to hand over yet.", severity="warning")
            return
        self._hand_result(target)

    def _hand_target(self) -> str | None:
        """The agent highlighted in the agents pane, or the finished agent shown, or else the
        background agent that finished last and whose result the primary has not had."""
        assert self.bench is not None
        if self.focused is self.query_one(AgentTree) or self.agent_id != "primary":
            return self._target()
        handed = {e.child for e in self.bench.session.events_of("primary") if isinstance(e, ChildResult)}
        finished = (e for e in reversed(self.bench.events) if isinstance(e, AgentFinished))
        return next((e.agent for e in finished if e.agent not in handed and self._mode(e.agent) == "background"), None)

    @work(group="hand", exit_on_error=False)
    async def _hand_result(self, agent_id: str) -> None:
        assert self.bench is not None
        await self.bench.hand_result(agent_id)
        self.notify(f"The primary now has {agent_id}'s result.", title="Result handed over")

    def _known(self, agent_id: str) -> bool:
        if self.bench is not None and agent_id in self.bench.supervisor.agents:
            return True
        self.notify(f"There is no agent {agent_id!r}.", severity="warning")
        return False

    def action_cycle_mode(self, mode: str = "") -> None:
        if self.bench is None:
            return
        if not mode:
            self.query_one(SessionHeader).mode = self.bench.cycle_mode()
        elif mode not in MODES:
            self.notify(f"No mode {mode!r}; the modes are {', '.join(MODES)}.", severity="warning")
        else:
            self.bench.policy.mode = mode  # type: ignore[assignment]
            self.query_one(SessionHeader).mode = mode

    def action_focus_primary(self) -> None:
        self.show_agent("primary")
        self.query_one(PromptArea).focus()

    def action_tasks(self, state: str = "") -> None:
        """The task list, on a state filter when one is named (``/tasks failed``)."""
        from workbench.frontends.tui.agent_filters import FILTERS
        from workbench.frontends.tui.screens.tasks import TasksScreen

        if self.bench is None or self.bridge is None or isinstance(self.app.screen, TasksScreen):
            return
        if state and state not in FILTERS:
            self.notify(f"No state {state!r}; the filters are {', '.join(FILTERS)}.", severity="warning")
            return
        screen = TasksScreen(self.clock, list(self.bench.events), state or "all")  # type: ignore[arg-type]
        unfollow = self.bridge.follow(screen)

        def closed(agent_id: str | None) -> None:
            unfollow()
            if agent_id:
                self.show_agent(agent_id)

        self.app.push_screen(screen, closed)

    def action_mcp(self) -> None:
        from workbench.frontends.tui.screens.mcp import McpScreen

        if self.bench is not None and not isinstance(self.app.screen, McpScreen):
            follow = self.bridge.follow if self.bridge is not None else None
            self.app.push_screen(McpScreen(self.bench, follow, self.app.config.keys))  # type: ignore[attr-defined]

    def on_resize(self) -> None:
        self.query_one(BudgetPane).dense = self.size.height < DENSE_BELOW

    def _pane_index(self) -> int:
        focused = self.focused
        if focused is None:
            return 0
        around = [focused, *focused.ancestors]
        return next((i for i, (pane, _) in enumerate(PANES) if any(isinstance(w, pane) for w in around)), 0)

    def action_focus_next_pane(self) -> None:
        self.query_one(PANES[(self._pane_index() + 1) % len(PANES)][1]).focus()

    def action_focus_previous_pane(self) -> None:
        self.query_one(PANES[(self._pane_index() - 1) % len(PANES)][1]).focus()
