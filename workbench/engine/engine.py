"""The engine: one live session behind one typed surface.

``submit(command)`` is the only way anything changes; every change a command
makes is an event, written to the session's bundle first, then folded into the
session's views and published on its bus. Front ends read the views, listen to
the bus, and never touch the agents. It never imports a front end.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, assert_never

from pydantic import BaseModel

from workbench import __version__
from workbench.brains.base import Brain, CountsTokens
from workbench.engine import handlers
from workbench.engine.agent_types import load_agent_types
from workbench.engine.config import Config
from workbench.engine.context.reduce import reduce_context
from workbench.engine.context.tokens import BudgetSnapshot, ContextCount, TokenCounter, default_counter, tool_tokens
from workbench.engine.policy.budget import DelegationWatch, reducing_suffices, should_compact
from workbench.engine.policy.hooks import HookRunner, SessionStartPayload, load_hooks
from workbench.engine.pricing import PriceTable
from workbench.engine.priming.memory import logged_standing_primer, standing_primer
from workbench.engine.priming.primers import PrimerEntry, ResolvedPrimer
from workbench.engine.priming.primers import resolve as resolve_primer
from workbench.engine.priming.skills import find_primer_or_skill, primers_and_skills
from workbench.engine.runtime.agent import Agent, AgentServices
from workbench.engine.runtime.placement import ClusterSide
from workbench.engine.runtime.requests import RequestBroker
from workbench.engine.runtime.restore import restore_agents
from workbench.engine.runtime.supervisor import Supervisor
from workbench.engine.streams import Streams
from workbench.engine.toolbox import Toolbox, skill_tool
from workbench.engine.views.session_view import SessionView
from workbench.engine.workspaces.service import Workspaces
from workbench.log.bundle import BundleStore, default_store_root
from workbench.log.bus import Listener
from workbench.log.session import Session
from workbench.protocol.brain_io import BrainError
from workbench.protocol.commands import (
    PRIMARY,
    AddRule,
    Answer,
    Approve,
    Cancel,
    Close,
    Command,
    Commit,
    Compact,
    DecideDelegation,
    DecidePlan,
    Discard,
    HandResult,
    Interrupt,
    KeepBranch,
    Merge,
    Orchestrate,
    Outcome,
    Pause,
    Prime,
    Reduce,
    Rename,
    RestartMcp,
    RestoreFiles,
    Resume,
    Send,
    SetMode,
    SetSpendCap,
    Spawn,
    StopShell,
)
from workbench.protocol.events import (
    FINAL_STATES,
    DelegationProposed,
    Error,
    Event,
    Primed,
    Remounted,
    SessionStarted,
)
from workbench.protocol.mcp import McpReport
from workbench.protocol.signals import McpStatusChanged
from workbench.tools.ask_user import AskUserQuestion
from workbench.tools.registry import ToolRegistry, builtin_tools
from workbench.tools.task import Task
from workbench.tools.todo import TodoWrite

if TYPE_CHECKING:
    from workbench.tools.mcp.manager import McpManager
    from workbench.tools.mcp.server import McpServerStatus


def store_for(config: Config, override: Path | None = None) -> BundleStore:
    return BundleStore(override or config.bundles or default_store_root())


class SessionInfo(BaseModel):
    """What a screen needs to know of the session it shows, besides its events."""

    session_id: str
    cwd: str
    brain: str  # how the brain is named on screen
    model: str
    offline_reason: str = ""
    window: int
    delegate_at: float
    compact_at: float
    depth: int
    restricted: bool = False  # the project's own hooks, servers and wider settings were left out (not trusted)


# how the host of a session connects it to a cluster (the daemon with --cluster)
ClusterFor = Callable[["Engine"], ClusterSide]


class Engine:
    """One live session: its agents, its log, its views, its bus."""

    def __init__(
        self,
        config: Config,
        cwd: Path,
        brain: Brain,
        session: Session,
        *,
        counter: TokenCounter | None = None,
        offline_reason: str | None = None,
        cluster: ClusterFor | None = None,
    ) -> None:
        self.config = config
        self.cwd = cwd
        self.brain = brain
        self.session = session
        self.bus = session.bus
        self.offline_reason = offline_reason
        self.counter = counter or default_counter()
        policy = config.policy(cwd)
        self.view = SessionView(
            self.counter,
            window=config.window,
            delegate_at=config.thresholds.delegate,
            compact_at=config.thresholds.auto_compact,
            policy=policy,
            prices=PriceTable(config.prices),
            limits=config.limits,
        )
        self.requests = RequestBroker(session.submit, self._asked)
        agent_types = load_agent_types(cwd).listing()
        tools = ToolRegistry([*builtin_tools(), Task(agent_types), TodoWrite(), AskUserQuestion(), *skill_tool(cwd)])
        self.workspaces = Workspaces(session, cwd, self.view, policy, tools, config.isolation)
        self.services = AgentServices(
            session=session,
            brain=brain,
            tools=tools,
            policy=policy,
            workspace=cwd,
            requests=self.requests,
            max_tokens=config.max_tokens,
            thinking=config.thinking_for(brain.model),
            hooks=HookRunner(
                load_hooks(cwd, config.hooks, project=config.project_trusted),
                cwd=cwd,
                session_id=session.id,
                transcript_path=session.path,
            ),
            tool_tokens=lambda specs: tool_tokens(self.counter, specs),
            cache=config.cache,
            workspaces=self.workspaces,
        )
        self.mcp: McpManager | None = None
        self.supervisor = Supervisor(
            self.services,
            config.limits,
            model=brain.model,
            window=config.window,
            auto_delegate=config.auto_delegate,
            aliases=config.aliases,
        )
        self.streams = Streams()
        self.closed = False
        self._follow_ups: set[asyncio.Future[Any]] = set()  # work a command set going (summaries on their way)
        self._delegation_watch = DelegationWatch()
        self.services.before_request = self._before_request
        self.toolbox = Toolbox(self)
        self.services.tool_extras = self.toolbox.extras()
        session.fold_in = self._fold_in
        self._unsubscribe = self.bus.subscribe(self.streams.hear)
        self.cluster = cluster(self) if cluster is not None else None
        self.supervisor.cluster = self.cluster

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    async def open(
        cls,
        config: Config,
        cwd: Path,
        brain: Brain,
        *,
        store: BundleStore | None = None,
        clock: Callable[[], datetime] | None = None,
        session_id: str | None = None,
        counter: TokenCounter | None = None,
        offline_reason: str | None = None,
        remount: Remounted | None = None,
        title: str = "",
        restore: RestoreFiles | None = None,
        cluster: ClusterFor | None = None,
    ) -> Engine:
        """Start a new session with its primary agent; with ``remount``, continuing another session's (and with
        ``restore``, on that session's files as they were then, put back before the primary takes a turn)."""
        store = store or store_for(config)
        session = await Session.create(store, fsync=config.fsync, clock=clock, session_id=session_id)
        engine = cls(config, cwd, brain, session, counter=counter, offline_reason=offline_reason, cluster=cluster)
        await session.append(
            SessionStarted(title=title, cwd=str(cwd), brain=brain.name, model=brain.model, app_version=__version__)
        )
        memory = await asyncio.to_thread(standing_primer, config.memory, cwd, engine.counter)
        # a remounted primary has the source's memory in its messages already; its children get it anew
        engine.services.standing = memory.primed if remount is None else None
        primary = await engine.supervisor.spawn(mode="foreground")
        if remount is not None:
            # right after the spawn, before anything else the primary logs: its fold starts from the source's
            await primary.append(remount)
            if restore is not None:
                await handlers.restore_files(engine, restore)  # what it did, or why it could not, is logged
            if remount.messages and remount.messages[-1].get("role") == "user":
                primary.owe_reply()  # continued at a prompt: that prompt is answered, not merged with the next
        engine.services.standing = memory.primed
        for problem in memory.problems:
            await primary.append(Error(message=problem, error_type="memory"))
        if engine.cluster is not None:
            await engine.cluster.start()
        await engine._session_start_hook(primary, "resume" if remount is not None else "startup")
        await engine._recover_merges()
        return engine

    @classmethod
    async def resume(
        cls,
        config: Config,
        cwd: Path,
        brain: Brain,
        session_id: str,
        *,
        store: BundleStore | None = None,
        clock: Callable[[], datetime] | None = None,
        counter: TokenCounter | None = None,
        offline_reason: str | None = None,
        cluster: ClusterFor | None = None,
    ) -> Engine:
        """Reopen a session after a stop or a crash: every agent comes back in the state the log left it,
        waiting on the same approvals and questions, with the same policy and proposals."""
        store = store or store_for(config)
        session = await Session.resume(store, session_id, fsync=config.fsync, clock=clock)
        engine = cls(config, cwd, brain, session, counter=counter, offline_reason=offline_reason, cluster=cluster)
        engine.take_up(session.events)
        await engine.toolbox.resumed()
        if engine.cluster is not None:
            await engine.cluster.start()
        if "primary" in engine.supervisor.agents:
            await engine._session_start_hook(engine.primary, "resume")
            await engine._recover_merges()
        return engine

    def take_up(self, events: list[Event]) -> None:
        """Fold a log (already in the session) into the views and bring its agents back as it left them."""
        # the standing primer the session started with, for the agents it starts from now on
        self.services.standing = logged_standing_primer([e for e in events if e.agent == PRIMARY])
        for event in events:
            self.view.apply(event)
        for agent_id in self.view.roster.rows:
            self._delegation_watch.check(self.view.budget(agent_id))  # no proposal for what was proposed
        for restored in restore_agents(events, self.services, self.view.roster):
            agent = self.cluster.restored(restored) if self.cluster is not None else restored
            if agent is None:
                continue
            if agent.state in FINAL_STATES:
                self.supervisor.agents[agent.id] = agent
            else:
                self.supervisor.adopt(agent)

    async def _session_start_hook(self, primary: Agent, source: Literal["startup", "resume"]) -> None:
        outcome = await primary.hook(SessionStartPayload(source=source))
        if outcome.context:
            await primary.append(Primed(primer="hook:SessionStart", text=outcome.context))

    async def _recover_merges(self) -> None:
        """A merge into the session's folder that a crash interrupted is rolled back; what it left is said."""
        for note in await self.workspaces.recover():
            await self.primary.append(Error(message=f"interrupted merge rolled back: {note}", error_type="merge"))

    async def start_mcp(self) -> None:
        """Start the configured MCP servers in the background (the SDK loads only if any exist)."""
        project = self.config.project_trusted  # an untrusted folder's .mcp.json starts nothing
        if self.mcp is not None or not (self.config.mcp.servers or (project and (self.cwd / ".mcp.json").is_file())):
            return
        from workbench.tools.mcp.manager import McpManager

        self.mcp = McpManager.from_settings(
            self.config.mcp, self.cwd, registry=self.services.tools, on_change=self._mcp_changed, project=project
        )
        self.mcp.start()

    def _mcp_changed(self, status: McpServerStatus) -> None:
        self.bus.publish(McpStatusChanged(agent="", server=status.name, state=status.state, error=status.error or ""))
        if status.state == "failed":
            note = self.primary.append(Error(message=f"MCP server {status.name}: {status.error}", error_type="mcp"))
            self.follow(asyncio.ensure_future(note))

    def follow(self, task: asyncio.Future[Any]) -> None:
        """Keep work a command set going; it is cancelled if the session closes first."""
        self._follow_ups.add(task)
        task.add_done_callback(self._follow_ups.discard)

    async def close(self, how: Literal["stop", "cancel"] = "stop") -> None:
        """``stop``: every agent stops where it is, and goes on from there when the session is resumed
        (paused ones stay paused, open approvals stay open). ``cancel``: every agent but the primary is
        cancelled first, and the log says so."""
        if self.closed:
            return
        self.closed = True
        if how == "cancel":
            await self._cancel_all()
        self.requests.closing = True
        for task in self._follow_ups:
            task.cancel()
        await self.supervisor.close()
        await self.toolbox.close()
        if self.mcp is not None:
            await self.mcp.close()
        if self.cluster is not None:
            await self.cluster.close()
        self._unsubscribe()
        await self.session.close()
        await self.brain.aclose()

    async def _cancel_all(self) -> None:
        live = [a for a in self.supervisor.agents.values() if a.id != "primary" and a.state not in FINAL_STATES]
        for agent in live:
            self.supervisor.cancel(agent.id)
        tasks = [self.supervisor.tasks[a.id] for a in live if a.id in self.supervisor.tasks]
        await asyncio.gather(*tasks, return_exceptions=True)

    # ---------------------------------------------------------------- commands

    async def submit(self, command: Command) -> Outcome:
        """Carry out one command. Refusals come back as an Outcome that says why; every change is an event."""
        if self.closed:
            return Outcome.refused(f"The session {self.session.id} is closed.")
        if self.cluster is not None and (routed := await self.cluster.route(command)) is not None:
            return routed
        match command:
            case Send():
                return await handlers.send(self, command)
            case Spawn():
                return await handlers.spawn(self, command)
            case Interrupt():
                return handlers.interrupt(self, command)
            case Cancel():
                return handlers.cancel(self, command)
            case Pause():
                return await handlers.pause(self, command)
            case Resume():
                return await handlers.resume(self, command)
            case Compact():
                return await handlers.compact(self, command)
            case Reduce():
                return await handlers.reduce(self, command)
            case Prime():
                return await handlers.prime(self, command)
            case SetMode():
                return await handlers.set_mode(self, command)
            case AddRule():
                return await handlers.add_rule(self, command)
            case Approve():
                return await handlers.approve(self, command)
            case Answer():
                return await handlers.answer(self, command)
            case HandResult():
                return await handlers.hand_result(self, command)
            case Orchestrate():
                return await handlers.orchestrate(self, command)
            case DecideDelegation():
                return await handlers.decide_delegation(self, command)
            case Rename():
                return await handlers.rename(self, command)
            case RestartMcp():
                return await handlers.restart_mcp(self, command)
            case SetSpendCap():
                return await handlers.set_spend_cap(self, command)
            case Close():
                await self.close(command.how)
                return Outcome()
            case StopShell():
                return await handlers.stop_shell(self, command)
            case DecidePlan():
                return await handlers.decide_plan(self, command)
            case Merge():
                return await handlers.merge(self, command)
            case Discard():
                return await handlers.discard(self, command)
            case KeepBranch():
                return await handlers.keep_branch(self, command)
            case Commit():
                return await handlers.commit(self, command)
            case RestoreFiles():
                return await handlers.restore_files(self, command)
            case _:
                assert_never(command)

    # ---------------------------------------------------------------- what screens read

    @property
    def info(self) -> SessionInfo:
        label, model = self.brain.label, self.brain.model
        return SessionInfo(
            session_id=self.session.id,
            cwd=str(self.cwd),
            brain=label if model in label else f"{label} · {model}",
            model=model,
            offline_reason=self.offline_reason or "",
            window=self.config.window,
            delegate_at=self.config.thresholds.delegate,
            compact_at=self.config.thresholds.auto_compact,
            depth=self.config.limits.depth,
            restricted=not self.config.project_trusted,
        )

    @property
    def events(self) -> list[Event]:
        return self.session.events

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Hear every event once written (and folded into the views), and every live signal, in order."""
        return self.bus.subscribe(listener)

    def partial(self, agent: str) -> str:
        return self.streams.partial(agent)

    def budget(self, agent: str) -> BudgetSnapshot:
        return self.view.budget(agent)

    async def preview_primer(
        self, name: str, arguments: str = "", agent: str = "primary", *, fresh: bool = False
    ) -> ResolvedPrimer:
        """Resolve a primer without applying it: what the picker shows, token cost included. Its commands
        run (a command that asks goes to the screens like any approval). Raises a PrimerError, with a
        message for the user, and injects nothing."""
        ledger = self.view.budgets.ledger(agent)
        budget_left = self.config.window if fresh else ledger.window - ledger.used
        where = self.cwd if fresh else self.workspaces.workspace_of(agent)  # its ! commands run where it works
        return await resolve_primer(
            find_primer_or_skill(name, self.cwd, self.session.id),
            arguments,
            where,
            self.workspaces.policy.for_workspace(where),
            self.counter,
            budget_left,
            approver=self.requests,
            agent_id=agent,
            project_approvals=self.config.project_trusted,
        )

    async def count_context(self, agent: str = "primary") -> ContextCount:
        """The API's exact count of the agent's next request (``count_tokens``), beside the budget's figure."""
        live = self.agent(agent)
        figure = self.budget(agent).used
        if live is None:
            return ContextCount(agent=agent, budget=figure, note=f"there is no agent {agent!r}")
        if not isinstance(self.brain, CountsTokens):
            note = f"{self.brain.label} has no exact count: only Claude's API counts tokens"
            return ContextCount(agent=agent, budget=figure, note=note)
        try:
            exact = await self.brain.count_tokens(live.request())
        except BrainError as exc:
            return ContextCount(agent=agent, budget=figure, note=f"count_tokens failed: {exc.message}")
        return ContextCount(agent=agent, budget=figure, exact=exact)

    def primer_catalog(self) -> list[PrimerEntry]:
        return primers_and_skills(self.cwd)

    def mcp_report(self) -> McpReport:
        return self.mcp.report() if self.mcp is not None else McpReport()

    # ---------------------------------------------------------------- waiting (headless use and tests)

    @property
    def primary(self) -> Agent:
        return self.supervisor.agents["primary"]

    def agent(self, agent_id: str) -> Agent | None:
        return self.supervisor.agents.get(agent_id)

    async def settled(self, agent_id: str = "primary") -> None:
        """Wait until every prompt sent to the agent so far has been answered (or the agent ended)."""
        agent = self.agent(agent_id)
        if agent is not None:
            await agent.settled()

    async def wait_all(self) -> None:
        """Wait for every one-shot agent, and what their commands set going, to finish."""
        while True:
            pending: list[asyncio.Future[Any]] = [
                t for a, t in self.supervisor.tasks.items() if a != "primary" and not t.done()
            ]
            pending += [t for t in self._follow_ups if not t.done()]
            if not pending:
                return
            await asyncio.wait(pending)

    # ---------------------------------------------------------------- the views, kept as events are written

    def _asked(self, request_id: str) -> bool:
        pending = self.view.pending
        return request_id in pending.approvals or request_id in pending.questions or request_id in pending.plans

    def _fold_in(self, event: Event) -> None:
        changes = self.view.apply(event)
        self.toolbox.hear(event)
        if changes is None or not changes.budget:
            return
        budget = self.view.budget(event.agent)
        if self._delegation_watch.check(budget) and self._can_delegate(event.agent):
            proposal = DelegationProposed(agent=event.agent, used=budget.used, window=budget.window)
            self.follow(self.session.submit(proposal))

    def _can_delegate(self, agent_id: str) -> bool:
        row = self.view.roster.get(agent_id)
        # a cluster agent's worker proposes it, where its context is
        remote = self.cluster is not None and self.view.placements.remote(agent_id)
        return row is not None and not row.ended and row.level < self.config.limits.depth and not remote

    async def _before_request(self, agent: Agent) -> None:
        await self.view.caps.hold(agent)
        await self._auto_compact(agent)

    async def _auto_compact(self, agent: Agent) -> None:
        budget = self.budget(agent.id)
        if not should_compact(budget):
            return
        reductions = reduce_context(self.session.events_of(agent.id), agent.id, self.counter)
        if reducing_suffices(budget, reductions):  # the cheap pass, when it spares the compaction's re-write
            for reduction in reductions:
                await agent.append(reduction)
        else:
            await handlers.compact_context(self, agent, automatic=True)


def new_prompt_id() -> str:
    return f"prompt-{secrets.token_hex(4)}"
