"""The engine's side of the tools: which tools a session offers, and what they reach through it.

Tools never import the engine: what they need of it — the background shells, a
person to approve a plan, the model for a side question, the skills — comes to
them in ``ToolContext.extras``, made here per call. The background shells end
with their agent and with the session.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import TYPE_CHECKING, Any

from workbench.engine.priming.primers import PrimerError
from workbench.engine.priming.primers import resolve as resolve_primer
from workbench.engine.priming.skills import find_skill, skill_catalog, skill_dirs
from workbench.protocol.brain_io import BrainError, BrainRequest, MessageDone
from workbench.protocol.commands import SetMode
from workbench.protocol.content import text_of
from workbench.protocol.events import AgentFinished, Event, ShellEnded
from workbench.tools.base import Tool, ToolFailure
from workbench.tools.plan_mode import PLAN_DESK, PlanVerdict
from workbench.tools.shells import SHELLS, ShellManager
from workbench.tools.skill import LOAD_SKILL, Skill
from workbench.tools.web_fetch import WEB_ACCESS, WebAccess, markdown_itself

if TYPE_CHECKING:
    from workbench.engine.engine import Engine
    from workbench.engine.runtime.agent import Agent

SHELLS_FOLDER = "shells"  # beside the session's events.jsonl
PAGE_SYSTEM = (
    "You answer questions about one web page, from its content alone (converted to Markdown). Be concise "
    "and exact; quote only short passages; say so when the page does not hold the answer."
)


class Toolbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.shells = ShellManager(engine.session.folder / SHELLS_FOLDER, engine.session.submit, engine.bus.publish)
        web = engine.config.web
        self.web = WebAccess(
            answer=self._answer_about_page if self.claude else markdown_itself,
            allow_networks=[ipaddress.ip_network(n, strict=False) for n in web.allow_networks],
            max_bytes=web.max_bytes,
        )

    @property
    def claude(self) -> bool:
        """Whether the brain is Claude (a model can be asked side questions, the API has server tools)."""
        return self.engine.brain.name == "anthropic"

    def extras(self) -> dict[str, Any]:
        """``AgentServices.tool_extras``: for each key, how to make its value for one call of one agent."""

        def shells(agent: Agent, tool_use_id: str) -> ShellManager:
            return self.shells

        def web(agent: Agent, tool_use_id: str) -> WebAccess:
            return self.web

        def plans(agent: Agent, tool_use_id: str) -> PlanDesk:
            return PlanDesk(self.engine, agent, tool_use_id)

        def skills(agent: Agent, tool_use_id: str) -> Any:
            return lambda name, args: self._load_skill(agent, name, args)

        return {SHELLS: shells, WEB_ACCESS: web, PLAN_DESK: plans, LOAD_SKILL: skills}

    async def _load_skill(self, agent: Agent, name: str, args: str) -> int:
        """Resolve the skill as a primer and put it in the agent's context; its token cost."""
        engine = self.engine
        ledger = engine.view.budgets.ledger(agent.id)
        try:
            skill = find_skill(name, skill_dirs(engine.cwd), by_model=True)
            resolved = await resolve_primer(
                skill.primer(engine.session.id),
                args,
                agent.workspace,  # its own worktree, when it has one
                agent.policy,
                engine.counter,
                ledger.window - ledger.used,
                approver=engine.requests,
                agent_id=agent.id,
                project_approvals=engine.config.project_trusted,
            )
        except PrimerError as exc:
            raise ToolFailure(str(exc)) from None
        event = await agent.append(resolved.event())
        return resolved.tokens if event else 0

    async def side_call(self, request: BrainRequest) -> list[Any]:
        """One reply of the model outside any agent's context (a page to read, a search): its content blocks."""
        done: MessageDone | None = None
        try:
            async for item in self.engine.brain.stream(request):
                if isinstance(item, MessageDone):
                    done = item
        except BrainError as exc:
            raise ToolFailure(f"The model could not be asked: {exc.message}") from None
        if done is None:
            raise ToolFailure("The model's reply ended before it was complete")
        return list(done.content)

    async def _answer_about_page(self, prompt: str, markdown: str, url: str) -> str:
        text = f"Content of {url}:\n<page>\n{markdown}\n</page>\n\n{prompt}"
        request = BrainRequest(
            model=self.engine.config.web.small_model,
            system=PAGE_SYSTEM,
            messages=[{"role": "user", "content": [{"type": "text", "text": text}]}],
            max_tokens=2048,
        )
        return text_of(await self.side_call(request)) or "(the model gave no answer)"

    def hear(self, event: Event) -> None:
        """An event was written: an agent that ended takes its shells with it."""
        if isinstance(event, AgentFinished) and self.shells.running(event.agent):
            self.engine.follow(asyncio.ensure_future(self.shells.stop_agent(event.agent)))

    async def resumed(self) -> None:
        """A resumed session: shells the log shows running died with the process that ran them."""
        view = self.engine.view.shells
        self.shells.resume_numbering(len(view.rows))
        for row in view.running():
            await self.engine.session.append(ShellEnded(agent=row.agent, shell_id=row.shell_id, how="session_closed"))

    async def close(self) -> None:
        await self.shells.close()


class PlanDesk:
    """Plan mode for one call of one agent: the mode changes as a person's ``SetMode`` would (a logged
    ``mode_changed``), the plan waits for its verdict as approvals do (``plan_proposed`` → ``DecidePlan``)."""

    def __init__(self, engine: Engine, agent: Agent, tool_use_id: str) -> None:
        self.engine = engine
        self.agent = agent
        self.tool_use_id = tool_use_id

    @property
    def mode(self) -> str:
        return self.engine.view.policy.mode

    async def enter(self) -> None:
        from workbench.engine import handlers

        await handlers.set_mode(self.engine, SetMode(mode="plan"))

    async def propose(self, plan: str) -> PlanVerdict:
        from workbench.engine import handlers

        await self.agent.set_state("awaiting_approval", "ExitPlanMode")
        decided = await self.engine.requests.plan(self.agent.id, plan, self.tool_use_id or None)
        await self.agent.set_state("tool", "ExitPlanMode")
        if not decided.approve:
            return PlanVerdict(approved=False, feedback=decided.feedback)
        await handlers.set_mode(self.engine, SetMode(mode=decided.mode))
        return PlanVerdict(approved=True, mode=decided.mode)


def skill_tool(engine_cwd: Any) -> list[Tool[Any]]:
    """The Skill tool, listing the skills the model may load; none when there are none."""
    listing = [
        (entry.skill.name, entry.skill.description)
        for entry in skill_catalog(skill_dirs(engine_cwd))
        if entry.skill is not None and entry.skill.model_invocable
    ]
    return [Skill(listing)] if listing else []
