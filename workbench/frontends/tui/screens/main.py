"""The one screen: agents and budget on the left; conversation, log and prompt on the right."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Footer
from textual.worker import Worker

from workbench.frontends.tui.actions import BY_NAME, Action, bindings, key_of
from workbench.frontends.tui.messages import (
    EngineFailed,
    EngineReady,
    EventLogged,
    McpChanged,
    RetryScheduled,
)
from workbench.frontends.tui.notices import Notice, finished_notice, proposal_notice
from workbench.frontends.tui.shell_actions import ShellActions
from workbench.frontends.tui.slash import parse, parse_delegate
from workbench.frontends.tui.spend_actions import SpendActions
from workbench.frontends.tui.widgets.agents_pane import AgentsPane, AgentTree
from workbench.frontends.tui.widgets.budget_pane import BudgetPane
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.log_pane import LogPane, LogTable
from workbench.frontends.tui.widgets.prompt import PromptArea, PromptBox
from workbench.frontends.tui.widgets.session_header import McpTally, SessionHeader
from workbench.frontends.tui.widgets.transcript_blocks import ErrorNote
from workbench.frontends.tui.worker_failures import ReportsFailedWorkers
from workbench.frontends.tui.workspace_actions import WorkspaceActions
from workbench.protocol.commands import (
    Answer,
    Approve,
    Cancel,
    Command,
    Compact,
    DecidePlan,
    HandResult,
    Interrupt,
    Orchestrate,
    Outcome,
    Pause,
    Prime,
    PrimerText,
    Reduce,
    Resume,
    Send,
    SetMode,
    Spawn,
)
from workbench.protocol.events import (
    AgentFinished,
    ApprovalDecided,
    ApprovalRequested,
    ChildResult,
    DelegationDecided,
    DelegationProposed,
    Error,
    ModeChanged,
    PlanDecided,
    PlanProposed,
    QuestionAnswered,
    QuestionAsked,
    Status,
)
from workbench.protocol.modes import PermissionMode, next_mode

if TYPE_CHECKING:
    from workbench.engine.client import EngineClient
    from workbench.frontends.tui.bridge import BusBridge

# the panes in focus order, and what each focuses when the pane-cycling keys reach it
PANES: tuple[tuple[type[Widget], type[Widget]], ...] = (
    (PromptBox, PromptArea),
    (Conversation, Conversation),
    (AgentsPane, AgentTree),
    (LogPane, LogTable),
)
MODES: tuple[PermissionMode, ...] = ("default", "acceptEdits", "plan", "bypass")
BUSY_STATES = frozenset({"queued", "thinking", "tool", "awaiting_approval"})
# actions that need the engine open (their keys show disabled until it is)
ENGINE_ACTIONS = frozenset({"background", "delegate", "compact", "prime", "interrupt", "cancel_agent",
                            "pause_resume", "hand_result", "cycle_mode", "mcp", "orchestrate", "reduce",
                            "accept_delegation", "tasks", "show_diff", "commit_agent", "permissions"})  # fmt: skip
# asked for while the session is still opening, these wait for it (see _when_open); the others need its state
WAIT_FOR_OPEN = frozenset({"background", "delegate", "compact", "prime", "orchestrate", "reduce"})
# background agents that finish within this time of each other share one notification
FINISHED_BATCH_S = 0.3
DENSE_BELOW = 40  # terminal rows under which the budget pane keeps to the essentials


class MainScreen(WorkspaceActions, ShellActions, ReportsFailedWorkers, SpendActions):
    BINDINGS = bindings("main")
    AUTO_FOCUS = "#prompt"

    agent_id: reactive[str] = reactive("primary", init=False)

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.clock = clock
        self.client: EngineClient | None = None
        self.bridge: BusBridge | None = None
        self._finished: list[AgentFinished] = []  # background agents whose end is yet to be announced
        self._asking: dict[str, Worker[None]] = {}  # request id → the prompt waiting for this person's answer
        self._history_seq = 0  # the last event logged before this screen followed the session
        self._until_open: list[Callable[[], object]] = []  # asked for while the session was opening, in order

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

        client = self.client = message.client
        info = client.info
        header = self.query_one(SessionHeader)
        header.session_id = info.session_id
        header.brain = info.brain
        header.offline_reason = info.offline_reason
        header.mode = client.view.policy.mode
        header.restricted = info.restricted
        panes = [self.query_one(t) for t in (Conversation, AgentsPane, BudgetPane, LogPane)]
        self.query_one(BudgetPane).follow_session(client.view.stats.snapshot, client.view.kept_out)
        self.query_one(AgentsPane).follow(client.view)
        self.bridge = BusBridge([*panes, self], client, watching=lambda agent: agent == self.agent_id)
        # the conversation is shown the agent's events first: the same events posted one by one by
        # attach() are then old to it (a long session would otherwise be built block by block)
        self._present(self.agent_id)
        # the statuses attach() posts from the log are the past: the footer is set for the present once
        self._history_seq = client.events[-1].seq if client.events else 0
        self.bridge.attach()
        self.refresh_bindings()
        pending = client.view.pending
        waiting: list[ApprovalRequested | QuestionAsked | PlanProposed] = [*pending.approvals.values()]
        for asked in [*waiting, *pending.questions.values(), *pending.plans.values()]:
            self._ask_person(asked)  # asked before this screen was there (a resumed session, an attach)
        self._learn_primers()
        opened, self._until_open = self._until_open, []
        for action in opened:
            action()

    @work(group="primers", exit_on_error=False)
    async def _learn_primers(self) -> None:
        """The primers' names, for /<name> and the menu; a name a built-in command takes is said once."""
        from workbench.frontends.tui.slash import clashes

        assert self.client is not None
        names = list(dict.fromkeys(entry.file.name for entry in await self.client.primer_catalog()))
        self.query_one(PromptArea).primers = names
        if taken := clashes(names):
            shown = ", ".join(f"/prime-{name}" for name in taken)
            self.notify(f"A built-in command has the same name; run them as {shown}.", title="Primers renamed")

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
        if isinstance(event, Status) and event.agent == self.agent_id and event.seq > self._history_seq:
            self._update_prompt_title()
            self.refresh_bindings()
        elif isinstance(event, AgentFinished) and self._mode(event.agent) == "background":
            self._finished.append(event)
            if len(self._finished) == 1:
                self.set_timer(FINISHED_BATCH_S, self._announce_finished)
        elif isinstance(event, Error) and event.fatal:
            self.notify(event.message, title=f"{event.agent} failed", severity="error")
        elif isinstance(event, (ApprovalRequested, QuestionAsked, PlanProposed)):
            self._ask_person(event)
        elif isinstance(event, (ApprovalDecided, QuestionAnswered, PlanDecided)):
            prompt = self._asking.pop(event.request_id, None)  # answered (maybe on another screen): it goes
            if prompt is not None:
                prompt.cancel()
        elif isinstance(event, ModeChanged):
            self.query_one(SessionHeader).mode = event.mode
        elif isinstance(event, DelegationProposed):
            self._show_proposal()
            if event.agent == self.agent_id and self.client is not None:
                budget = self.client.view.budget(event.agent)
                self._notify(proposal_notice(budget, self._key("accept_delegation")))
        elif isinstance(event, DelegationDecided):
            self._show_proposal()

    def _announce_finished(self) -> None:
        batch, self._finished = self._finished, []
        if self.app.config.bell:  # type: ignore[attr-defined]
            self.app.bell()
        self._notify(finished_notice(batch, self._key("hand_result"), self._key("tasks")))

    def _ask_person(self, asked: ApprovalRequested | QuestionAsked | PlanProposed) -> None:
        """An agent waits for a person: the prompt joins the queue of modals; its answer is a command.
        Answered elsewhere first, it is taken away."""
        if self.client is not None and asked.request_id not in self._asking:
            pending = self.client.view.pending
            if (
                asked.request_id in pending.approvals
                or asked.request_id in pending.questions
                or (asked.request_id in pending.plans)
            ):
                self._asking[asked.request_id] = self.run_worker(
                    self._prompt_person(asked), group="ask", exit_on_error=False
                )

    async def _prompt_person(self, asked: ApprovalRequested | QuestionAsked | PlanProposed) -> None:
        from workbench.frontends.tui.screens.approval import ApprovalScreen
        from workbench.frontends.tui.screens.plan import PlanScreen
        from workbench.frontends.tui.screens.questions import QuestionsScreen

        modals = self.app.modals  # type: ignore[attr-defined]

        def waiting() -> int:
            return int(modals.waiting)

        if isinstance(asked, ApprovalRequested):
            closed = Approve(
                request_id=asked.request_id, choice="deny", reason="the prompt was closed without an answer"
            )
            command: Command = await modals.ask(ApprovalScreen(asked, waiting=waiting), closed)
        elif isinstance(asked, PlanProposed):
            keep = DecidePlan(request_id=asked.request_id, approve=False, feedback="")
            command = await modals.ask(PlanScreen(asked, waiting=waiting), keep)
        else:
            command = await modals.ask(QuestionsScreen(asked, waiting=waiting), Answer(request_id=asked.request_id))
        if self._asking.pop(asked.request_id, None) is not None:
            await self._carry_out(command, "", "", "")

    def _show_proposal(self) -> None:
        if self.client is not None:
            self.query_one(BudgetPane).show_proposal(self.client.view.proposals.latest.get(self.agent_id))
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
        if self.client is not None:
            self._read_mcp(message)

    @work(group="mcp-status", exit_on_error=False)
    async def _read_mcp(self, message: McpChanged) -> None:
        assert self.client is not None
        report = await self.client.mcp_report()
        statuses = report.servers
        if not statuses and not report.problems:
            return
        self.query_one(SessionHeader).mcp = McpTally.of((s.state for s in statuses), len(report.problems))
        if message.state == "failed":
            reason = message.error.splitlines()[0] if message.error else "no reason given"
            self.notify(f"{reason}\nIts tools are unavailable; /mcp shows it and restarts it.",
                        title=f"MCP server {message.server} failed", severity="error", timeout=10)  # fmt: skip
        elif not message.server:  # the servers were just set up: say which cannot even start
            for problem in report.problems:
                self.notify(problem, title="MCP config not read", severity="error", timeout=12)
            for status in statuses:
                if status.state == "failed":
                    self.notify(status.error, title=f"MCP server {status.name} not started", severity="error")

    # ---------------------------------------------------------------- which agent is shown

    def watch_agent_id(self, agent_id: str) -> None:
        self._present(agent_id)

    def _present(self, agent_id: str) -> None:
        """Point every pane that follows the focused agent at this one."""
        client = self.client
        if client is None:
            return
        client.watch(agent_id)
        if self.bridge is not None:
            self.bridge.resync(agent_id)
        row = client.view.roster.get(agent_id)
        label = agent_id if row is None else f"{agent_id} · {row.mode}"
        events = list(client.events_of(agent_id))
        self.query_one(Conversation).post_message(Conversation.Show(agent_id, label, events, client.partial(agent_id)))
        budget = self.query_one(BudgetPane)
        budget.agent_id = agent_id
        budget.budget = client.view.budget(agent_id)
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
        row = self.client.view.roster.get(agent_id) if self.client else None
        return row.mode if row else ""

    def _state(self, agent_id: str) -> str:
        row = self.client.view.roster.get(agent_id) if self.client else None
        return row.state if row else "starting"

    def _update_prompt_title(self) -> None:
        box = self.query_one(PromptBox)
        state = self._state(self.agent_id).replace("_", " ")
        box.border_title = f"› {self.agent_id} · {state}"
        send, newline = self._key("send"), key_of(BY_NAME["newline"], self.app.config.keys).split(",")[-1]  # type: ignore[attr-defined]
        box.border_subtitle = f"{send} send · {newline} new line · / commands"

    # ---------------------------------------------------------------- sending

    @on(PromptArea.Submitted)
    def _submitted(self, message: PromptArea.Submitted) -> None:
        text = message.text
        if text.startswith("/"):
            self.run_slash(text)
        else:
            self._when_open(lambda: self._send(text))

    def _when_open(self, action: Callable[[], object]) -> None:
        """Carry ``action`` out now, or as soon as the session is open: what a person types and sends while
        the app is still opening it is done then, in the order it was asked, never dropped."""
        if self.client is not None:
            action()
            return
        self._until_open.append(action)
        if len(self._until_open) == 1:
            self.notify("The session is opening: what you sent goes as soon as it is open.", title="Opening")

    def _submit(self, command: Command, done: str = "", title: str = "", *, refused_title: str = "") -> None:
        """Submit a command in a worker: a refusal is told to the user, and so is ``done`` when accepted
        (``{message}`` and ``{agent}`` in it, and ``{agent}`` in ``title``, are the outcome's)."""
        self.run_worker(self._carry_out(command, done, title, refused_title), group="commands", exit_on_error=False)

    async def _carry_out(self, command: Command, done: str, title: str, refused_title: str) -> Outcome:
        assert self.client is not None
        outcome = await self.client.submit(command)
        if not outcome.ok:
            self.notify(outcome.message, title=refused_title or "Not done", severity="warning", markup=False)
        elif done:
            text = done.format(message=outcome.message, agent=outcome.agent or "")
            self.notify(text, title=title.format(agent=outcome.agent or ""), markup=False)
        return outcome

    def _send(self, text: str) -> None:
        row = self.client.view.roster.get(self.agent_id) if self.client else None
        if row is not None and row.one_shot and row.ended:
            self.notify(
                f"{self.agent_id} has finished ({row.state}); {self._key('focus_primary')} goes back to the primary.",
                severity="warning",
            )
            self.query_one(PromptArea).put_back(text)
            return
        self._submit(Send(agent=self.agent_id, text=text))

    def run_slash(self, text: str) -> None:
        slash = parse(text, self.query_one(PromptArea).primers)
        if slash.command is None:
            self.notify(f"No command {slash.word}; type / to see them.", severity="warning")
        elif slash.primer:
            self.prime(slash.primer, slash.argument)
        else:
            self.run_named(slash.command.action, slash.argument)

    def run_named(self, action: Action, argument: str = "") -> None:
        """Run an action by its table entry (from a slash command or the palette), with an argument."""
        if action.scope == "app":
            call = f"{action.textual_action}({argument!r})" if argument else action.textual_action
            self.app.call_later(self.app.run_action, call)
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
        if self.client is None:
            return None if action in ENGINE_ACTIONS - WAIT_FOR_OPEN else True
        if action == "interrupt":
            return True if self._state(self.agent_id) in BUSY_STATES else None
        if action in ("cancel_agent", "pause_resume"):
            target = self._target()
            return True if target != "primary" or action == "pause_resume" else None
        if action == "accept_delegation":
            return self.client.view.proposals.pending(self.agent_id) is not None  # shown in the footer while open
        return True

    def _prompt_or(self, argument: str) -> str:
        return argument or self.query_one(PromptArea).take()

    def action_background(self, task: str = "") -> None:
        task = self._prompt_or(task)
        if self._has_text(task, "the task", self._key("background"), "/background <task>"):
            self._when_open(lambda: self._spawn("background", task))

    def action_delegate(self, task: str = "") -> None:
        asked = parse_delegate(self._prompt_or(task))
        if asked.error:
            self.notify(asked.error, severity="warning")
        elif self._has_text(asked.task, "the task", self._key("delegate"), "/delegate [--agent NAME] <task>"):
            self._when_open(lambda: self._spawn("delegated", asked.task, asked.agent_type))

    def _has_text(self, text: str, what: str, key: str, slash: str) -> bool:
        if not text.strip():
            self.notify(f"Type {what} in the prompt first, then {key} (or {slash}).", severity="warning")
        return bool(text.strip())

    def _spawn(self, mode: Literal["background", "delegated"], task: str, agent_type: str | None = None) -> None:
        command = Spawn(mode=mode, task=task, parent=self.agent_id, agent_type=agent_type)
        self._submit(command, "{message}", f"{mode.capitalize()} agent", refused_title="No agent started")

    def action_orchestrate(self, goal: str = "") -> None:
        goal = self._prompt_or(goal)
        if not goal.strip():
            self.notify("Say the goal: /orchestrate <goal>.", severity="warning")
            return
        self._when_open(lambda: self._orchestrate(goal))

    def _orchestrate(self, goal: str) -> None:
        self.show_agent("primary")
        self._submit(Orchestrate(goal=goal))

    def action_reduce(self, agent_id: str = "") -> None:
        self._when_open(lambda: self._reduce(agent_id or self.agent_id))

    def _reduce(self, target: str) -> None:
        if self._known(target):
            title = "Reduced {agent}'s context"
            self._submit(Reduce(agent=target), "{message}", title, refused_title="Nothing to reduce")

    def action_accept_delegation(self) -> None:
        """The proposal is taken: the prompt's text becomes the task of a /delegate, sent with enter."""
        if self.client is None or self.client.view.proposals.pending(self.agent_id) is None:
            self.notify(f"No delegation is proposed for {self.agent_id}.")
            return
        prompt = self.query_one(PromptArea)
        prompt.load_text(f"{BY_NAME['delegate'].slash} {prompt.text.strip()}")
        prompt.move_cursor(prompt.document.end)
        prompt.focus()

    def action_compact(self, instructions: str = "") -> None:
        self._when_open(lambda: self._compact(instructions))

    def _compact(self, instructions: str) -> None:
        self.notify(f"Summarising {self.agent_id}'s older turns…", title="Compacting")
        # the compaction, or the reason there was none, is logged and shows in the conversation
        self._submit(Compact(agent=self.agent_id, instructions=instructions))

    def action_prime(self) -> None:
        """The primer picker, with the prompt's text as the primer's arguments."""
        arguments = self.query_one(PromptArea).take()
        agent_id = self.agent_id
        self._when_open(lambda: self._pick_primer(agent_id, arguments))

    @work(group="prime", exit_on_error=False)
    async def _pick_primer(self, agent_id: str, arguments: str) -> None:
        from workbench.frontends.tui.screens.primer_picker import PrimerPicker

        assert self.client is not None
        entries = await self.client.primer_catalog()
        keys = self.app.config.keys  # type: ignore[attr-defined]
        choice = await self.app.push_screen_wait(PrimerPicker(self.client, entries, agent_id, arguments, keys))
        if choice is None:
            self.query_one(PromptArea).put_back(arguments)  # nothing loaded: the text goes back
            return
        resolved = choice.resolved  # the text previewed is the text injected: it is not resolved again
        given = PrimerText(text=resolved.text, sha256=resolved.sha256, tokens=resolved.tokens)
        command = Prime(agent=agent_id, primer=choice.name, arguments=resolved.arguments, resolved=given)
        self._submit(command, "{message}", f"Primer {choice.name} loaded")

    def prime(self, name: str, arguments: str, agent_id: str | None = None) -> None:
        command = Prime(agent=agent_id or self.agent_id, primer=name, arguments=arguments)
        refused = f"Primer {name} not loaded"
        self._when_open(lambda: self._submit(command, "{message}", f"Primer {name} loaded", refused_title=refused))

    def action_remount(self, session: str = "") -> None:
        """The session browser; ``/remount ID`` continues that session at once."""
        from workbench.frontends.tui.session_switch import browse

        self.run_worker(browse(self, session), group="remount", exclusive=True, exit_on_error=False)

    def action_interrupt(self) -> None:
        if self.client is not None:
            self._submit(Interrupt(agent=self.agent_id))

    def action_cancel_agent(self, agent_id: str = "") -> None:
        target = agent_id or self._target()
        if self.client is not None and self._known(target):
            self._submit(Cancel(agent=target), "{message}")

    def action_pause_resume(self, agent_id: str = "") -> None:
        target = agent_id or self._target()
        if self.client is None or not self._known(target):
            return
        row = self.client.view.roster.get(target)
        if row is not None and row.paused:
            self._submit(Resume(agent=target), f"{target} resumes.")
        else:
            resume_key = self._key("pause_resume")
            self._submit(Pause(agent=target), f"{target} pauses after its current step; {resume_key} resumes it.")

    def action_hand_result(self, agent_id: str = "") -> None:
        if self.client is None:
            return
        target = agent_id or self._hand_target()
        if target is None:
            self.notify("No finished background agent is waiting to hand its result over.")
            return
        if self._known(target):
            self._submit(HandResult(agent=target), "{message}", "Result handed over")

    def _hand_target(self) -> str | None:
        """The agent highlighted in the agents pane, or the finished agent shown, or else the
        background agent that finished last and whose result the primary has not had."""
        assert self.client is not None
        if self.focused is self.query_one(AgentTree) or self.agent_id != "primary":
            return self._target()
        handed = {e.child for e in self.client.events_of("primary") if isinstance(e, ChildResult)}
        finished = (e for e in reversed(self.client.events) if isinstance(e, AgentFinished))
        return next((e.agent for e in finished if e.agent not in handed and self._mode(e.agent) == "background"), None)

    def _known(self, agent_id: str) -> bool:
        if self.client is not None and self.client.view.roster.get(agent_id) is not None:
            return True
        self.notify(f"There is no agent {agent_id!r}.", severity="warning")
        return False

    def action_cycle_mode(self, mode: str = "") -> None:
        if self.client is None:
            return
        if not mode:
            self._submit(SetMode(mode=next_mode(self.client.view.policy.mode)))  # type: ignore[arg-type]
        elif mode not in MODES:
            self.notify(f"No mode {mode!r}; the modes are {', '.join(MODES)}.", severity="warning")
        else:
            self._submit(SetMode(mode=mode))

    def action_focus_primary(self) -> None:
        self.show_agent("primary")
        self.query_one(PromptArea).focus()

    def action_tasks(self, state: str = "") -> None:
        """The task list, on a state filter when one is named (``/tasks failed``)."""
        from workbench.frontends.tui.agent_filters import FILTERS
        from workbench.frontends.tui.screens.tasks import TasksScreen

        if self.client is None or self.bridge is None or isinstance(self.app.screen, TasksScreen):
            return
        if state and state not in FILTERS:
            self.notify(f"No state {state!r}; the filters are {', '.join(FILTERS)}.", severity="warning")
            return
        screen = TasksScreen(self.clock, self.client.view.roster, state or "all")
        unfollow = self.bridge.follow(screen)

        def closed(agent_id: str | None) -> None:
            unfollow()
            if agent_id:
                self.show_agent(agent_id)

        self.app.push_screen(screen, closed)

    def action_mcp(self) -> None:
        from workbench.frontends.tui.screens.mcp import McpScreen

        if self.client is not None and not isinstance(self.app.screen, McpScreen):
            follow = self.bridge.follow if self.bridge is not None else None
            self.app.push_screen(McpScreen(self.client, follow, self.app.config.keys))  # type: ignore[attr-defined]

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
