"""The engine facade: what the TUI and the CLI call. It never imports either."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from workbench import __version__
from workbench.brains.base import Brain, CountsTokens
from workbench.engine.agent_types import find_agent_type
from workbench.engine.config import Config
from workbench.engine.context.brief import brief
from workbench.engine.context.compaction import CompactionFailed, NothingToCompact
from workbench.engine.context.compaction import compact as compact_events
from workbench.engine.context.reduce import reduce_context
from workbench.engine.context.tokens import (
    BudgetSnapshot,
    ContextCount,
    TokenCounter,
    TokenLedger,
    consumed_tokens,
    default_counter,
)
from workbench.engine.models import model_aliases
from workbench.engine.policy.budget import DelegationWatch, reducing_suffices, should_compact
from workbench.engine.policy.hooks import HookRunner, PreCompactPayload, SessionStartPayload, load_hooks
from workbench.engine.policy.permissions import MODE_CYCLE, Approver, PermissionMode, PermissionPolicy
from workbench.engine.policy.spend_cap import SpendCaps
from workbench.engine.pricing import PriceTable
from workbench.engine.priming.memory import logged_standing_primer, standing_primer
from workbench.engine.priming.primers import ResolvedPrimer, find_primer, primer_dirs
from workbench.engine.priming.primers import resolve as resolve_primer
from workbench.engine.prompts import orchestration_prompt, returned_result
from workbench.engine.runtime.agent import Agent, AgentServices
from workbench.engine.runtime.restore import restore_agents
from workbench.engine.runtime.supervisor import Supervisor
from workbench.engine.views.session_stats import SessionStats
from workbench.engine.views.spend import Spend
from workbench.log.bundle import BundleStore, default_store_root
from workbench.log.bus import EventBus
from workbench.log.session import Session
from workbench.protocol.brain_io import BrainError, UsageReport
from workbench.protocol.events import (
    FINAL_STATES,
    AgentSpawned,
    ChildResult,
    Delegated,
    Error,
    Event,
    Primed,
    Remounted,
    SessionStarted,
    SpendCap,
    Usage,
)
from workbench.protocol.signals import McpStatusChanged
from workbench.tools.ask_user import AskUser, AskUserQuestion
from workbench.tools.registry import ToolRegistry, builtin_tools
from workbench.tools.task import Task
from workbench.tools.todo import TodoWrite

if TYPE_CHECKING:
    from workbench.tools.mcp.manager import McpManager
    from workbench.tools.mcp.server import McpServerStatus


def store_for(config: Config, override: Path | None = None) -> BundleStore:
    return BundleStore(override or config.bundles or default_store_root())


class Workbench:
    """One live session: its agents, its log, its bus, its permission policy."""

    def __init__(
        self,
        config: Config,
        cwd: Path,
        brain: Brain,
        session: Session,
        *,
        approver: Approver | None = None,
        ask_user: AskUser | None = None,
        counter: TokenCounter | None = None,
        offline_reason: str | None = None,
    ) -> None:
        self.config = config
        self.cwd = cwd
        self.brain = brain
        self.session = session
        self.bus: EventBus = session.bus
        self.offline_reason = offline_reason
        self.counter = counter or default_counter()
        self.policy = PermissionPolicy(
            mode=config.permissions.mode,
            allow=config.permissions.allow,
            ask=config.permissions.ask,
            deny=config.permissions.deny,
            workspace=cwd,
        )
        tools = ToolRegistry([*builtin_tools(), Task(), TodoWrite(), AskUserQuestion()])
        self.services = AgentServices(
            session=session,
            brain=brain,
            tools=tools,
            policy=self.policy,
            workspace=cwd,
            approver=approver,
            max_tokens=config.max_tokens,
            thinking=config.thinking_for(brain.model),
            hooks=HookRunner(
                load_hooks(cwd, config.hooks), cwd=cwd, session_id=session.id, transcript_path=session.path
            ),
            ask_user=ask_user,
            cache=config.cache,
        )
        self.mcp: McpManager | None = None
        self.supervisor = Supervisor(
            self.services,
            config.limits,
            model=brain.model,
            window=config.window,
            auto_delegate=config.auto_delegate,
            aliases=model_aliases(config.aliases),
        )
        self.ledgers: dict[str, TokenLedger] = {}
        self.spend = Spend(PriceTable(config.prices))
        self.caps = SpendCaps(self.spend, config.limits)
        self.stats = SessionStats(self.spend)
        self._follow_ups: set[asyncio.Task[None]] = set()  # summaries on their way back to a parent
        self.delegation_watch = DelegationWatch()
        self.services.before_request = self._before_request
        self._unsubscribe = self.bus.subscribe(self._account)

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    async def open(
        cls,
        config: Config,
        cwd: Path,
        brain: Brain,
        *,
        store: BundleStore | None = None,
        approver: Approver | None = None,
        ask_user: AskUser | None = None,
        bus: EventBus | None = None,
        clock: Callable[[], datetime] | None = None,
        session_id: str | None = None,
        counter: TokenCounter | None = None,
        offline_reason: str | None = None,
        remount: Remounted | None = None,
        title: str = "",
    ) -> Workbench:
        """Start a new session with its primary agent; with ``remount``, continuing another session's."""
        store = store or store_for(config)
        session = await Session.create(store, fsync=config.fsync, bus=bus, clock=clock, session_id=session_id)
        bench = cls(
            config,
            cwd,
            brain,
            session,
            approver=approver,
            ask_user=ask_user,
            counter=counter,
            offline_reason=offline_reason,
        )
        await session.append(
            SessionStarted(title=title, cwd=str(cwd), brain=brain.name, model=brain.model, app_version=__version__)
        )
        memory = await asyncio.to_thread(standing_primer, config.memory, cwd, bench.counter)
        # a remounted primary has the source's memory in its messages already; its children get it anew
        bench.services.standing = memory.primed if remount is None else None
        primary = await bench.supervisor.spawn(mode="foreground")
        if remount is not None:
            # right after the spawn, before anything else the primary logs: its fold starts from the source's
            await primary.append(remount)
        bench.services.standing = memory.primed
        for problem in memory.problems:
            await primary.append(Error(message=problem, error_type="memory"))
        await bench._session_start_hook(primary, "resume" if remount is not None else "startup")
        return bench

    async def _session_start_hook(self, primary: Agent, source: Literal["startup", "resume"]) -> None:
        outcome = await primary.hook(SessionStartPayload(source=source))
        if outcome.context:
            await primary.append(Primed(primer="hook:SessionStart", text=outcome.context))

    async def start_mcp(self) -> None:
        """Start the configured MCP servers in the background (the SDK loads only if any exist)."""
        if self.mcp is not None or not (self.config.mcp.servers or (self.cwd / ".mcp.json").is_file()):
            return
        from workbench.tools.mcp.manager import McpManager

        self.mcp = McpManager.from_settings(
            self.config.mcp, self.cwd, registry=self.services.tools, on_change=self._mcp_changed
        )
        self.mcp.start()

    def _mcp_changed(self, status: McpServerStatus) -> None:
        self.bus.publish(McpStatusChanged(agent="", server=status.name, state=status.state, error=status.error or ""))
        if status.state == "failed":
            note = self.primary.append(Error(message=f"MCP server {status.name}: {status.error}", error_type="mcp"))
            self._follow(asyncio.ensure_future(note))
        elif status.state == "ready":
            for agent_id, ledger in self.ledgers.items():
                agent = self.supervisor.agents.get(agent_id)
                if agent is not None:
                    ledger.set_tools([t.spec().model_dump() for t in agent.tools()])

    def _follow(self, task: asyncio.Future[object]) -> None:
        self._follow_ups.add(task)  # type: ignore[arg-type]
        task.add_done_callback(self._follow_ups.discard)  # type: ignore[arg-type]

    @classmethod
    async def resume(
        cls,
        config: Config,
        cwd: Path,
        brain: Brain,
        session_id: str,
        *,
        store: BundleStore | None = None,
        approver: Approver | None = None,
        ask_user: AskUser | None = None,
        bus: EventBus | None = None,
        clock: Callable[[], datetime] | None = None,
        counter: TokenCounter | None = None,
        offline_reason: str | None = None,
    ) -> Workbench:
        """Reopen a session after a restart: every agent comes back in the state the log left it."""
        store = store or store_for(config)
        session = await Session.resume(store, session_id, fsync=config.fsync, bus=bus, clock=clock)
        bench = cls(
            config,
            cwd,
            brain,
            session,
            approver=approver,
            ask_user=ask_user,
            counter=counter,
            offline_reason=offline_reason,
        )
        # the standing primer the session started with, for the agents it starts from now on
        bench.services.standing = logged_standing_primer(session.events_of("primary"))
        for agent in restore_agents(session.events, bench.services):
            if agent.state in FINAL_STATES:
                bench.supervisor.agents[agent.id] = agent
            else:
                bench.supervisor.adopt(agent)
        for event in session.events:  # with the agents back, so each ledger gets its agent's tools
            bench._account(event)
        if "primary" in bench.supervisor.agents:
            await bench._session_start_hook(bench.primary, "resume")
        return bench

    async def close(self) -> None:
        for task in self._follow_ups:
            task.cancel()
        await self.supervisor.close()
        if self.mcp is not None:
            await self.mcp.close()
        self._unsubscribe()
        await self.session.close()
        await self.brain.aclose()

    # ---------------------------------------------------------------- views

    @property
    def primary(self) -> Agent:
        return self.supervisor.agents["primary"]

    def agent(self, agent_id: str | None) -> Agent:
        return self.supervisor.agents[agent_id or "primary"]

    @property
    def events(self) -> list[Event]:
        return self.session.events

    def ledger(self, agent_id: str) -> TokenLedger:
        if agent_id not in self.ledgers:
            self.ledgers[agent_id] = TokenLedger(
                agent_id,
                self.counter,
                window=self.config.window,
                delegate_at=self.config.thresholds.delegate,
                compact_at=self.config.thresholds.auto_compact,
            )
        return self.ledgers[agent_id]

    def budget(self, agent_id: str) -> BudgetSnapshot:
        return self.ledger(agent_id).snapshot()

    async def count_context(self, agent_id: str | None = None) -> ContextCount:
        """The API's exact count of the agent's next request (``count_tokens``), beside the budget's figure."""
        agent = self.agent(agent_id)
        figure = self.budget(agent.id).used
        if not isinstance(self.brain, CountsTokens):
            note = f"{self.brain.label} has no exact count: only Claude's API counts tokens"
            return ContextCount(agent=agent.id, budget=figure, note=note)
        try:
            exact = await self.brain.count_tokens(agent.request())
        except BrainError as exc:
            return ContextCount(agent=agent.id, budget=figure, note=f"count_tokens failed: {exc.message}")
        return ContextCount(agent=agent.id, budget=figure, exact=exact)

    def _account(self, item: object) -> None:
        if not hasattr(item, "seq"):
            return  # a live signal, not an event
        self.spend.observe(item)  # type: ignore[arg-type]
        self.caps.observe(item)  # type: ignore[arg-type]
        agent = getattr(item, "agent", None)
        if agent:
            if isinstance(item, AgentSpawned):
                self.ledger(agent).set_tools(self._tool_definitions(item))
            self.ledger(agent).observe(item)  # type: ignore[arg-type]
            self.stats.observe(item)  # type: ignore[arg-type]

    def _tool_definitions(self, spawned: AgentSpawned) -> list[dict]:
        """The tools an agent is offered, as its requests send them."""
        agent = self.supervisor.agents.get(spawned.agent)
        registry = self.services.tools
        tools = agent.tools() if agent is not None else [t for t in map(registry.get, spawned.tools) if t is not None]
        return [tool.spec().model_dump() for tool in tools]

    # ---------------------------------------------------------------- commands

    def send(self, text: str, agent_id: str | None = None) -> None:
        agent = self.agent(agent_id)
        agent.send(text)
        self.supervisor.revive(agent)

    async def ask(self, text: str, agent_id: str | None = None) -> str:
        """Send a message and wait until the agent has answered it (headless use)."""
        agent = self.agent(agent_id)
        agent.send(text)
        await agent.settled()
        return agent.result

    def interrupt(self, agent_id: str | None = None) -> bool:
        return self.agent(agent_id).interrupt()

    def cancel(self, agent_id: str) -> None:
        self.supervisor.cancel(agent_id)

    def cycle_mode(self) -> PermissionMode:
        order = MODE_CYCLE
        current = self.policy.mode
        self.policy.mode = order[(order.index(current) + 1) % len(order)] if current in order else order[0]
        return self.policy.mode

    def pause(self, agent_id: str) -> None:
        self.agent(agent_id).pause()

    def resume_agent(self, agent_id: str) -> None:
        self.agent(agent_id).resume()

    async def resolve_primer(
        self, name: str, arguments: str = "", agent_id: str | None = None, *, fresh: bool = False
    ) -> ResolvedPrimer:
        """Resolve a primer without applying it: what the preview shows, token cost included.

        Raises a PrimerError (with a message for the user) and injects nothing on failure.
        """
        ledger = self.ledger(agent_id or "primary")
        budget_left = self.config.window if fresh else ledger.window - ledger.used
        return await resolve_primer(
            find_primer(name, primer_dirs(self.cwd)),
            arguments,
            self.cwd,
            self.policy,
            self.counter,
            budget_left,
            approver=self.services.approver,
            agent_id=agent_id or "primary",
        )

    async def prime(self, name: str, arguments: str = "", agent_id: str | None = None) -> ResolvedPrimer:
        resolved = await self.resolve_primer(name, arguments, agent_id)
        self.apply_primer(resolved, agent_id)
        return resolved

    def apply_primer(self, resolved: ResolvedPrimer, agent_id: str | None = None) -> None:
        """Inject a primer already resolved (the picker's preview), exactly as previewed."""
        agent = self.agent(agent_id)
        agent.prime(resolved.event())
        self.supervisor.revive(agent)

    async def background(self, task: str, primer: str | None = None, primer_args: str = "") -> Agent:
        primed = await self.resolve_primer(primer, primer_args or task, fresh=True) if primer else None
        return await self.supervisor.spawn(mode="background", task=task, parent=self.primary, primed=primed)

    async def hand_result(self, agent_id: str) -> None:
        """Give a finished agent's result to the primary, as a message it answers."""
        agent = self.agent(agent_id)
        spent = consumed_tokens(self.session.events_of(agent.id))
        await self.primary.append(
            ChildResult(child=agent.id, summary=agent.result, is_error=agent.state != "done", child_tokens=spent)
        )
        self.send(returned_result(agent.spec.mode, agent.id, agent.spec.name, agent.state, agent.result))

    async def delegate(
        self, task: str, parent_id: str | None = None, primer: str | None = None, agent_type: str | None = None
    ) -> Agent:
        """Hand a task to a child with a fresh context (the task and a short brief).

        The parent is not blocked meanwhile; the child's summary comes back to it
        as a message when the child ends, and the tokens it kept out are logged.
        """
        parent = self.agent(parent_id)
        primed = await self.resolve_primer(primer, task, fresh=True) if primer else None
        kind = find_agent_type(agent_type, self.cwd) if agent_type else None
        child = await self.supervisor.spawn(
            mode="delegated",
            task=brief(self.session.events_of(parent.id), task),
            parent=parent,
            name=task.split("\n")[0][:48],
            primed=primed,
            agent_type=kind,
        )
        await parent.append(Delegated(child=child.id, task=task, mode="delegated"))
        self._follow(asyncio.create_task(self._return_summary(parent, child), name=f"delegate-{child.id}"))
        return child

    async def _return_summary(self, parent: Agent, child: Agent) -> None:
        try:
            await self.supervisor.wait(child.id)
        except (asyncio.CancelledError, Exception):
            pass
        summary = child.result or f"(the sub-agent ended {child.state} without a summary)"
        spent = consumed_tokens(self.session.events_of(child.id))
        kept_out = max(0, spent - self.counter.count(summary))
        await parent.append(
            ChildResult(child=child.id, summary=summary, is_error=child.state != "done", child_tokens=spent)
        )
        note = f"{kept_out:,} tokens of its work stayed out of this context"
        self.send(returned_result("delegated", child.id, child.spec.name, child.state, summary, note), parent.id)

    async def reduce(self, agent_id: str | None = None) -> list[Event]:
        """The cheap strategies: superseded and stale tool results become stubs."""
        agent = self.agent(agent_id)
        reductions = reduce_context(self.session.events_of(agent.id), agent.id, self.counter)
        return [await agent.append(r) for r in reductions]

    async def compact(
        self, agent_id: str | None = None, instructions: str = "", *, automatic: bool = False
    ) -> Event | None:
        """Summarise the older turns through the brain; the last turns stay verbatim."""
        agent = self.agent(agent_id)
        await agent.hook(PreCompactPayload(trigger="auto" if automatic else "manual", custom_instructions=instructions))
        spent: list[UsageReport] = []
        try:
            compaction = await compact_events(
                self.session.events_of(agent.id),
                agent.id,
                self.brain,
                instructions,
                counter=self.counter,
                automatic=automatic,
                tools=[t.spec() for t in agent.tools()],
                on_usage=spent.append,
            )
        except NothingToCompact as exc:
            if not automatic:
                await agent.append(Error(message=f"nothing to compact: {exc}", error_type="compaction"))
            return None
        except (BrainError, CompactionFailed) as exc:
            await agent.append(Error(message=f"compaction failed: {exc}", error_type="compaction"))
            return None
        finally:  # the summary request is paid for, whether or not its summary is used
            for usage in spent:
                await agent.append(Usage(**usage.model_dump(exclude={"type"}), purpose="compaction"))
        return await agent.append(compaction)

    async def _before_request(self, agent: Agent) -> None:
        await self.caps.hold(agent)
        await self._auto_compact(agent)

    async def set_spend_cap(self, usd: float | None, agent_id: str | None = None) -> list[str]:
        """Set (or lift, with None) the session's cap, or an agent's; the agents it held go on. Their ids."""
        cap = SpendCap(max_usd=usd)
        await (self.agent(agent_id).append(cap) if agent_id else self.session.append(cap))
        freed = [a for a in sorted(self.caps.held) if self.caps.exceeded(a) is None and a in self.supervisor.agents]
        for agent in freed:
            self.resume_agent(agent)
        return freed

    async def _auto_compact(self, agent: Agent) -> None:
        budget = self.budget(agent.id)
        if not should_compact(budget):
            return
        reductions = reduce_context(self.session.events_of(agent.id), agent.id, self.counter)
        if reducing_suffices(budget, reductions):  # the cheap pass, when it spares the compaction's re-write
            for reduction in reductions:
                await agent.append(reduction)
        else:
            await self.compact(agent.id, automatic=True)

    def orchestrate(self, goal: str) -> None:
        """Have the primary plan the goal, fan it out to sub-agents, and aggregate their answers."""
        self.send(orchestration_prompt(goal))

    async def wait_all(self) -> None:
        """Wait for every one-shot agent to finish (headless runs)."""
        while True:
            pending = [t for a, t in self.supervisor.tasks.items() if a != "primary" and not t.done()]
            pending += [t for t in self._follow_ups if not t.done()]
            if not pending:
                return
            await asyncio.wait(pending)
