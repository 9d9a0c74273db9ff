"""The agentic loop: fold → stream → record → run tools → record → repeat.

An agent never holds conversation state of its own: every step reads
``fold(events)`` and every change it makes is an event appended to the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from workbench.brains.base import Brain
from workbench.engine.config import CacheSettings
from workbench.engine.context.cache_plan import prompt_cache
from workbench.engine.context.fold import INTERRUPTED_RESULT, fold
from workbench.engine.policy.hooks import (
    HookOutcome,
    HookPayload,
    HookRunner,
    PostToolUsePayload,
    PreToolUsePayload,
    StopPayload,
    SubagentStopPayload,
    UserPromptSubmitPayload,
)
from workbench.engine.policy.permissions import PermissionPolicy
from workbench.engine.runtime.requests import RequestBroker
from workbench.log.bundle import BundleError
from workbench.log.session import Session
from workbench.protocol.brain_io import (
    BrainError,
    BrainRequest,
    MessageDone,
    RetryNotice,
    TextDelta,
    ThinkingConfig,
    ThinkingDelta,
    ToolUseStarted,
    UsageReport,
)
from workbench.protocol.content import TextBlock, ToolUseBlock, text_of, tool_uses
from workbench.protocol.events import (
    AgentFinished,
    AgentMode,
    AgentSpawned,
    AgentState,
    AssistantMessage,
    Error,
    Event,
    PermissionDecision,
    Primed,
    Status,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
    utc_now,
)
from workbench.protocol.signals import Retrying, TextStreamed, ThinkingStreamed, ToolInputStreaming
from workbench.tools.ask_user import ASK_USER, AskUserAnswer, AskUserRequest
from workbench.tools.base import Tool, ToolContext, ToolOutput
from workbench.tools.registry import InvalidToolCall, ToolRegistry

if TYPE_CHECKING:
    from workbench.engine.workspaces.service import Workspaces

log = logging.getLogger(__name__)

NO_ONE_TO_ASK = "Permission needed, but no one can be asked here (use --yes to allow, or the app to answer)."
CANCELLED_RESULT = "Cancelled: the user interrupted before this tool call finished."
MAX_STOP_BLOCKS = 3
MCP_PREFIX = "mcp__"


class AgentSpec(BaseModel):
    id: str
    name: str
    parent: str | None = None
    level: int = 1
    mode: AgentMode = "foreground"
    task: str = ""
    primer: str | None = None
    system: str = ""
    model: str = ""
    window: int = 200_000
    tools: list[str] | None = None  # None: every tool of the registry

    @classmethod
    def of(cls, spawned: AgentSpawned) -> AgentSpec:
        """The spec an ``agent_spawned`` event records (``Agent.announce`` writes it)."""
        recorded = spawned.model_dump(include=set(cls.model_fields) - {"id", "tools"})
        return cls(id=spawned.agent, tools=spawned.tools or None, **recorded)


Delegate = Callable[..., Awaitable[ToolOutput]]


@dataclass
class AgentServices:
    """What an agent uses of the engine; shared by the agents of a session."""

    session: Session
    brain: Brain
    tools: ToolRegistry
    policy: PermissionPolicy
    workspace: Path
    # asks a person (approvals, questions) through the log; None: nobody can be asked, calls that ask are denied
    requests: RequestBroker | None = None
    max_tokens: int = 8192
    thinking: ThinkingConfig = field(default_factory=ThinkingConfig)
    # spawns a delegated child of the given agent and waits for its summary
    delegate: Callable[[Agent, str, str, str | None], Awaitable[ToolOutput]] | None = None
    # runs before every request: where the budget policy reduces or compacts
    before_request: Callable[[Agent], Awaitable[None]] | None = None
    hooks: HookRunner | None = None
    # what an agent's tool definitions cost in every request (recorded in its agent_spawned event)
    tool_tokens: Callable[[list[dict[str, Any]]], int] = lambda tools: 0
    # what the engine hands tools (ToolContext.extras), made per call from the agent and the call's id
    tool_extras: dict[str, Callable[[Agent, str], Any]] = field(default_factory=dict)
    cache: CacheSettings = field(default_factory=CacheSettings)
    # the standing primer (the memory files) every agent starts with, logged right after its spawn
    standing: Primed | None = None
    # where each agent works (a worktree of its own, or the shared folder), and what its calls change there
    workspaces: Workspaces | None = None


TurnEnd = Literal["done", "error", "interrupted"]


@dataclass(frozen=True)
class Prompt:
    """A message for the agent, waiting in its inbox."""

    text: str
    prompt_id: str = ""  # the prompt_queued event it delivers, if it was logged as waiting


class Agent:
    remote = False  # it runs here (a cluster agent's stand-in says otherwise)

    def __init__(self, spec: AgentSpec, services: AgentServices) -> None:
        self.spec = spec
        self.id = spec.id
        self.services = services
        self.session = services.session
        self.state: AgentState = "idle"
        self.inbox: list[Prompt | Primed] = []
        self.result = ""
        self.answered = False  # a turn has ended with a reply that called no tool
        self._wake = asyncio.Event()
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._turn_task: asyncio.Task[TurnEnd] | None = None
        self._settled = asyncio.Event()
        self._interrupting = False  # the turn's cancellation is an interrupt, not the agent's end
        self.closing = False  # the app is shutting down: stop without recording an ending
        self.owes_reply = False  # resumed mid-turn: the log ends on the user's side
        self.unanswered: list[ToolUseBlock] = []  # resumed mid-call: calls the log shows without a result
        self.started = False

    # ---------------------------------------------------------------- commands

    @property
    def one_shot(self) -> bool:
        """Background and delegated agents finish after answering their task."""
        return self.spec.mode != "foreground"

    @property
    def busy(self) -> bool:
        return self._turn_task is not None and not self._turn_task.done()

    @property
    def interrupting(self) -> bool:
        """An interrupt is on its way to the running turn (it has not stopped yet)."""
        return self._interrupting

    @property
    def takes_prompts_now(self) -> bool:
        """Whether a prompt sent now is logged at once (otherwise it waits, logged as queued)."""
        return self.state == "idle" and not self.busy and not self.paused

    def send(self, text: str, prompt_id: str = "") -> None:
        """Queue a user message; it is injected at the next step of the loop. ``prompt_id``: the
        ``prompt_queued`` event it delivers."""
        self.inbox.append(Prompt(text, prompt_id))
        self._settled.clear()
        self._wake.set()

    def owe_reply(self) -> None:
        """The log ends on the user's side (a context continued at a prompt): answer it."""
        self.owes_reply = True
        self.answered = False
        self._settled.clear()
        self._wake.set()

    def prime(self, event: Primed) -> None:
        """Queue a resolved primer; it is injected, like a message, at the next step."""
        self.inbox.append(event)
        self._settled.clear()
        self._wake.set()

    def interrupt(self) -> bool:
        """Stop the current turn; the agent stays usable. False when nothing was running."""
        if self.busy:
            assert self._turn_task is not None
            self._interrupting = True
            self._turn_task.cancel()
            return True
        return False

    def pause(self) -> None:
        self._resumed.clear()
        self._wake.set()

    def resume(self) -> None:
        self._resumed.set()
        self._wake.set()

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    async def settled(self) -> None:
        """Wait until every message sent so far has been answered (or the agent ended)."""
        await self._settled.wait()

    async def resumed(self) -> None:
        """Wait until the agent is not paused."""
        await self._resumed.wait()

    @property
    def workspace(self) -> Path:
        """The folder its tools work in: its own worktree, or the one it shares."""
        places = self.services.workspaces
        return places.workspace_of(self.id) if places is not None else self.services.workspace

    @property
    def policy(self) -> PermissionPolicy:
        places = self.services.workspaces
        return places.policy_of(self.id) if places is not None else self.services.policy

    # ---------------------------------------------------------------- the loop

    async def append(self, event: Event) -> Event:
        return await self.session.append(event.model_copy(update={"agent": self.id}))

    async def set_state(self, state: AgentState, detail: str = "") -> None:
        if state != self.state:
            self.state = state
            await self.append(Status(state=state, detail=detail))

    async def hook(self, payload: HookPayload) -> HookOutcome:
        """Run the configured hooks for an event; their failures are logged, never raised."""
        if self.services.hooks is None:
            return HookOutcome(event=payload.hook_event_name)
        outcome = await self.services.hooks.run(payload.model_copy(update={"agent_id": self.id}))
        for message in outcome.errors:
            await self.append(Error(message=message, error_type="hook"))
        return outcome

    async def announce(self, primed: Primed | None = None) -> None:
        """Record the spawn, the primer if any, and the task as the first user message."""
        spec = self.spec
        recorded = spec.model_dump(exclude={"id", "tools"})
        tools = self.tools()
        offered = self.services.tool_tokens([t.spec().model_dump() for t in tools])
        await self.append(AgentSpawned(**recorded, tools=[t.name for t in tools], tools_tokens=offered))
        if self.services.standing is not None:
            await self.append(self.services.standing.model_copy(update={"ts": utc_now()}))
        if primed is not None:
            await self.append(primed)
            self.owes_reply = True
        if spec.task:
            # logged at once, not queued: a paused or queued agent must keep its task across a restart
            await self.append(UserMessage(text=spec.task))
            self.owes_reply = True

    async def run(self) -> str:
        """Serve messages until finished (one-shot agents) or cancelled. Returns the result."""
        self.started = True
        try:
            while True:
                if not self._resumed.is_set():
                    await self.set_state("paused")
                    await self._resumed.wait()
                    continue
                if not self.inbox and not self.owes_reply and not self.unanswered:
                    if self.one_shot and self.answered:
                        break
                    await self.set_state("idle")
                    self._wake.clear()
                    self._settled.set()
                    await self._wake.wait()
                    continue
                owed, self.owes_reply = self.owes_reply, False
                self._turn_task = asyncio.create_task(self._turn(owed), name=f"turn-{self.id}")
                end = await self._turn_task
                if end == "error" and self.one_shot:
                    await self._finish("failed", "the agent stopped on an error (see the log)")
                    return self.result
                if end == "interrupted" and self.one_shot and not self.inbox:
                    await self._finish("cancelled", "interrupted by the user")
                    return self.result
        except asyncio.CancelledError:
            if self.closing:
                self._settled.set()
            else:
                await self._finish("cancelled", "cancelled by the user")
            raise
        except BundleError as exc:  # the log cannot be written (a full disk): nothing more can be recorded
            log.error("agent %s stopped: %s", self.id, exc)
            await self._finish("failed", str(exc))
            return self.result
        except Exception as exc:  # crash isolation: a bug here fails only this agent
            log.exception("agent %s crashed", self.id)
            with contextlib.suppress(BundleError):
                await self.append(Error(message=f"{type(exc).__name__}: {exc}", error_type="crash", fatal=True))
            await self._finish("failed", f"crashed: {exc}")
            return self.result
        await self._finish("done", self.result)
        return self.result

    async def finish_unstarted(self) -> str:
        """Record the ending of an agent cancelled before its loop ever ran; its result."""
        await self._finish("cancelled", "cancelled by the user")
        return self.result

    async def _finish(self, state: Literal["done", "failed", "cancelled"], result: str) -> None:
        if state != "done":
            self.result = self.result or f"[{state}] {result}"
        try:
            await self.set_state(state)
            await self.append(AgentFinished(state=state, result=self.result))
        except BundleError as exc:
            log.warning("the end of agent %s could not be logged: %s", self.id, exc)
        finally:
            self._settled.set()

    async def _turn(self, owed: bool = False) -> TurnEnd:
        """One turn: until a reply calls no tool. ``owed``: the log already ends on the user's side."""
        stop_blocks = 0  # a Stop hook may send the agent back to work, at most MAX_STOP_BLOCKS times
        first = True
        try:
            while True:
                if not self._resumed.is_set():
                    await self.set_state("paused")
                    await self._resumed.wait()
                if self.unanswered:  # resumed mid-call: those calls come first
                    calls, self.unanswered = self.unanswered, []
                    await self._run_calls(calls, logged=True)
                    owed = True
                logged = await self._flush_inbox(queued=not first)
                if first and not logged and not owed:
                    await self.set_state("idle")
                    return "error"  # every prompt of this turn was blocked by a hook (logged as such)
                first = False
                reply = await self._reply()
                if reply is None:
                    await self.set_state("idle")
                    return "error"
                calls = tool_uses(reply.content)
                if not calls:
                    if self.inbox:
                        continue
                    payload = (SubagentStopPayload if self.spec.parent else StopPayload)(
                        stop_hook_active=stop_blocks > 0
                    )
                    outcome = await self.hook(payload)
                    if outcome.blocked and stop_blocks < MAX_STOP_BLOCKS:
                        stop_blocks += 1
                        self.inbox.append(Prompt(f"[Stop hook] {outcome.reason}"))
                        continue
                    self.result = text_of(reply.content)
                    self.answered = True
                    return "done"
                await self.set_state("tool", calls[0].name)
                await self._run_calls(calls)
        except asyncio.CancelledError:
            if not self._interrupting:
                raise  # the agent itself is being cancelled: let run() record its end
            self._interrupting = False
            await self.set_state("idle", "interrupted")
            return "interrupted"

    async def _flush_inbox(self, queued: bool) -> bool:
        """Log the waiting messages (through the UserPromptSubmit hooks). True if any was logged.

        ``queued``: they were typed while the turn was already under way.
        """
        logged = False
        while self.inbox:
            item = self.inbox.pop(0)
            if isinstance(item, Primed):
                await self.append(item)
                logged = True
                continue
            outcome = await self.hook(UserPromptSubmitPayload(prompt=item.text))
            if outcome.blocked:
                await self.append(
                    Error(
                        message=f"Prompt blocked by a UserPromptSubmit hook: {outcome.reason}",
                        error_type="hook_blocked",
                    )
                )
                continue
            await self.append(
                UserMessage(text=item.text, queued=queued or bool(item.prompt_id), prompt_id=item.prompt_id)
            )
            if outcome.context:
                await self.append(Primed(primer="hook:UserPromptSubmit", text=outcome.context))
            logged = True
        return logged

    def tools(self) -> list[Tool[Any]]:
        registry = self.services.tools
        wanted = self.spec.tools
        if wanted is None:
            names = registry.names
        else:
            # MCP servers register their tools after agents spawn: admit them unless the list names its own
            open_to_mcp = not any(n.startswith(MCP_PREFIX) for n in wanted)
            names = [n for n in registry.names if n in wanted or (open_to_mcp and n.startswith(MCP_PREFIX))]
        # one order all session, whichever MCP server came up first: the cached prefix starts with the tools
        names = sorted(names, key=lambda n: (n.startswith(MCP_PREFIX), n if n.startswith(MCP_PREFIX) else ""))
        return [tool for tool in map(registry.get, names) if tool is not None]

    def request(self) -> BrainRequest:
        context = fold(self.session.events_of(self.id), agent=self.id)
        return BrainRequest(
            model=self.spec.model,
            system=context.system,
            messages=context.messages,
            tools=[t.spec() for t in self.tools()],
            max_tokens=self.services.max_tokens,
            thinking=self.services.thinking,
            agent_level=self.spec.level,
            cache=prompt_cache(self.services.cache, self.spec.mode, context.messages),
        )

    async def _reply(self) -> AssistantMessage | None:
        """Stream one reply from the brain and record it; None when it failed."""
        await self.set_state("thinking")
        if self.services.before_request is not None:
            await self.services.before_request(self)
        bus = self.session.bus
        text: list[str] = []
        done: MessageDone | None = None
        usage: UsageReport | None = None
        try:
            async for item in self.services.brain.stream(self.request()):
                if isinstance(item, TextDelta):
                    text.append(item.text)
                    bus.publish(TextStreamed(agent=self.id, text=item.text))
                elif isinstance(item, ThinkingDelta):
                    bus.publish(ThinkingStreamed(agent=self.id, text=item.thinking))
                elif isinstance(item, ToolUseStarted):
                    bus.publish(ToolInputStreaming(agent=self.id, tool_use_id=item.id, name=item.name))
                elif isinstance(item, UsageReport):
                    usage = item
                elif isinstance(item, RetryNotice):
                    bus.publish(
                        Retrying(agent=self.id, message=item.message, attempt=item.attempt, delay_s=item.delay_s)
                    )
                    await self.append(Error(message=item.message, error_type="retry", retryable=True))
                elif isinstance(item, MessageDone):
                    done = item
        except asyncio.CancelledError:
            await self._record_partial(text)
            raise
        except BrainError as exc:
            await self._record_partial(text)
            await self.append(Error(message=exc.message, error_type=exc.error_type, retryable=exc.retryable))
            return None
        except Exception as exc:  # a brain bug or a malformed reply ends this turn, not the agent
            log.exception("brain failed for %s", self.id)
            await self._record_partial(text)
            await self.append(Error(message=f"the brain failed: {type(exc).__name__}: {exc}", error_type="brain"))
            return None
        if done is None:
            await self._record_partial(text)
            await self.append(Error(message="the model's reply ended without completing", error_type="stream_cut"))
            return None
        reply = await self.append(
            AssistantMessage(content=done.content, stop_reason=done.stop_reason, model=self.spec.model)
        )
        if usage is not None:
            await self.append(Usage(**usage.model_dump(exclude={"type"})))
        assert isinstance(reply, AssistantMessage)
        return reply

    async def _record_partial(self, text: list[str]) -> None:
        """What streamed before a failure stays in the log, marked interrupted. Not when the session
        stops: the agent goes on from its last step when it is resumed."""
        if self.closing:
            return
        partial = "".join(text)
        content = [TextBlock(text=partial)] if partial.strip() else []
        await self.append(AssistantMessage(content=content, interrupted=True, model=self.spec.model))

    # ---------------------------------------------------------------- tools

    async def _run_calls(self, calls: list[ToolUseBlock], *, logged: bool = False) -> None:
        """Authorise and run a reply's calls, recording each result. ``logged``: resumed calls, whose
        ``tool_call`` events are in the log already; one the log shows authorised had started to run
        before the stop, and is answered as interrupted, never run again."""
        logged_calls = (
            {e.tool_use_id for e in self.session.events_of(self.id) if isinstance(e, ToolCall)} if logged else set()
        )
        for call in calls:
            if call.id not in logged_calls:
                await self.append(ToolCall(tool_use_id=call.id, name=call.name, input=call.input))
        answered: set[str] = set()
        started = self._started_calls(calls) if logged else set()
        try:
            runnable: list[tuple[ToolUseBlock, Tool[Any], BaseModel]] = []
            for call in calls:
                if call.id in started and not self._asks_again(call):
                    await self._record_result(call, ToolOutput(content=INTERRUPTED_RESULT, is_error=True))
                    answered.add(call.id)
                    continue
                try:
                    ready = await self._authorise(call)
                except BundleError:
                    raise  # the log itself failed: see run()
                except Exception as exc:  # a check that raised on odd input refuses that call, not the agent
                    log.warning("checking %s raised", call.name, exc_info=True)
                    ready = ToolOutput(
                        content=f"{call.name} was not run: its input could not be checked ({type(exc).__name__}: {exc})",
                        is_error=True,
                    )
                if isinstance(ready, ToolOutput):
                    await self._record_result(call, ready)
                    answered.add(call.id)
                else:
                    runnable.append((call, *ready))
            await self.set_state("tool")
            for group in _concurrent_groups(runnable):
                outputs = await asyncio.gather(*(self._invoke(tool, params, call.id) for call, tool, params in group))
                for (call, _, _), output in zip(group, outputs):
                    await self._record_result(call, await self._after_tool(call, output))
                    answered.add(call.id)
        except asyncio.CancelledError:
            if not self.closing:  # when the session stops, the calls stay open in the log for the resume
                for call in calls:
                    if call.id not in answered:
                        await self._record_result(call, ToolOutput(content=CANCELLED_RESULT, is_error=True))
            raise

    def _asks_again(self, call: ToolUseBlock) -> bool:
        """A call that only asks a person (a question, a plan) is run again after a restart: it waits on the
        very request the log left open."""
        tool = self.services.tools.get(call.name)
        return tool is not None and tool.kind == "interaction"

    def _started_calls(self, calls: list[ToolUseBlock]) -> set[str]:
        """Which of these calls the log shows allowed to run (they started before the session stopped)."""
        ids = {call.id for call in calls}
        return {
            e.tool_use_id
            for e in self.session.events_of(self.id)
            if isinstance(e, PermissionDecision) and e.tool_use_id in ids and e.decision == "allow"
        }

    async def _after_tool(self, call: ToolUseBlock, output: ToolOutput) -> ToolOutput:
        response = {"content": output.content, "is_error": output.is_error}
        post = await self.hook(
            PostToolUsePayload(tool_name=call.name, tool_input=call.input, tool_response=response, tool_use_id=call.id)
        )
        if post.blocked:  # the tool already ran: the hook's reason goes to the model with the result
            return output.model_copy(update={"content": f"{output.content}\n\n[PostToolUse hook] {post.reason}"})
        return output

    async def _record_result(self, call: ToolUseBlock, output: ToolOutput) -> None:
        await self.append(
            ToolResult(
                tool_use_id=call.id,
                name=call.name,
                content=output.content,
                is_error=output.is_error,
                truncated_chars=output.truncated_chars,
                images=output.images,
            )
        )

    async def _invoke(self, tool: Tool[Any], params: BaseModel, tool_use_id: str) -> ToolOutput:
        ctx = self._tool_context(tool_use_id)
        run = functools.partial(self.services.tools.invoke, tool, params, ctx)
        places = self.services.workspaces
        return await (places.recorded(self, tool, params, ctx, tool_use_id, run) if places is not None else run())

    def _tool_context(self, tool_use_id: str = "") -> ToolContext:
        delegate = self.services.delegate
        extras: dict[str, Any] = {key: make(self, tool_use_id) for key, make in self.services.tool_extras.items()}
        if self.services.requests is not None:
            extras[ASK_USER] = lambda request: self._ask_user(request, tool_use_id)
        return ToolContext(
            workspace=self.workspace,
            agent_id=self.id,
            session_id=self.session.id,
            tool_use_id=tool_use_id,
            delegate=(lambda description, prompt, agent_type=None: delegate(self, description, prompt, agent_type))
            if delegate is not None
            else None,
            extras=extras,
        )

    async def _ask_user(self, request: AskUserRequest, tool_use_id: str) -> AskUserAnswer:
        """The agent waits on a person: its state says so while the question is open."""
        assert self.services.requests is not None
        await self.set_state("awaiting_approval", "AskUserQuestion")
        answer = await self.services.requests.question(self.id, request.questions, tool_use_id or None)
        await self.set_state("tool", "AskUserQuestion")
        return AskUserAnswer(answers=answer.answers)

    async def _authorise(self, call: ToolUseBlock) -> tuple[Tool[Any], BaseModel] | ToolOutput:
        """The tool and its parsed input if it may run; otherwise the result explaining why not."""
        allowed = {t.name for t in self.tools()}
        if call.name not in allowed and self.services.tools.get(call.name) is not None:
            if call.name == "Task":
                return ToolOutput(
                    content=f"Refused: this agent is at level {self.spec.level}, the deepest allowed; "
                    "it cannot spawn sub-agents. Do the work yourself.",
                    is_error=True,
                )
            return ToolOutput(content=f"The tool {call.name} is not available to this agent.", is_error=True)
        try:
            parsed = self.services.tools.validate(call.name, call.input)
        except InvalidToolCall as exc:
            return ToolOutput(content=str(exc), is_error=True)
        tool = self.services.tools.get(call.name)
        assert tool is not None
        pre = await self.hook(PreToolUsePayload(tool_name=call.name, tool_input=call.input, tool_use_id=call.id))
        if pre.blocked:
            await self.append(
                PermissionDecision(
                    tool_use_id=call.id, tool=call.name, decision="deny", source="hook", reason=pre.reason
                )
            )
            return ToolOutput(content=f"Blocked by a PreToolUse hook: {pre.reason}", is_error=True)
        policy = self.policy
        decision = policy.decide(tool, parsed)
        if decision.verdict == "ask":
            return await self._ask(call, tool, parsed)
        await self.append(
            PermissionDecision(
                tool_use_id=call.id,
                tool=call.name,
                decision=decision.verdict,
                source=decision.source,
                rule=decision.rule,
                reason=decision.reason,
            )
        )
        if decision.verdict == "deny":
            return ToolOutput(content=f"Permission denied: {decision.reason}", is_error=True)
        return tool, parsed

    async def _ask(
        self, call: ToolUseBlock, tool: Tool[Any], params: BaseModel
    ) -> tuple[Tool[Any], BaseModel] | ToolOutput:
        requests = self.services.requests
        policy = self.policy
        if requests is None:
            await self.append(
                PermissionDecision(
                    tool_use_id=call.id, tool=call.name, decision="deny", source="mode", reason=NO_ONE_TO_ASK
                )
            )
            return ToolOutput(content=f"Permission denied: {NO_ONE_TO_ASK}", is_error=True)
        suggested = policy.suggest_rule(tool, params)
        preview = getattr(tool, "preview", None)
        await self.set_state("awaiting_approval", call.name)
        answer = await requests.approval(
            self.id,
            tool=call.name,
            input=call.input,
            subject=tool.subject(params),
            preview=preview(params, self._tool_context(call.id)) if preview is not None else None,
            suggested_rule=suggested,
            tool_use_id=call.id,
        )
        allowed = answer.choice != "deny"
        remember = answer.choice == "allow_always"
        if remember:
            await requests.remember(suggested, "approval")
        await self.append(
            PermissionDecision(
                tool_use_id=call.id,
                tool=call.name,
                decision="allow" if allowed else "deny",
                source="user",
                rule=suggested if remember else None,
                remember=remember,
                reason=answer.reason,
            )
        )
        await self.set_state("tool", call.name)
        if not allowed:
            why = f": {answer.reason}" if answer.reason else ""
            return ToolOutput(content=f"The user denied this {call.name} call{why}.", is_error=True)
        return tool, params


def _concurrent_groups(
    runnable: list[tuple[ToolUseBlock, Tool[Any], BaseModel]],
) -> list[list[tuple[ToolUseBlock, Tool[Any], BaseModel]]]:
    """Consecutive read-only calls run together; anything that changes the world runs alone, in order."""
    groups: list[list[tuple[ToolUseBlock, Tool[Any], BaseModel]]] = []
    for item in runnable:
        independent = item[1].kind in ("read", "agent", "network")
        if independent and groups and all(g[1].kind in ("read", "agent", "network") for g in groups[-1]):
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups
