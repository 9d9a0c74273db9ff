"""Agent types: named sub-agent presets from ``.workbench/agents/**.md`` and ``.claude/agents/**.md``.

The file format is Claude Code's: front matter ``name``, ``description``,
``tools`` (comma-separated or a list; absent means every tool) and ``model``
(``inherit`` or absent means the parent's; ``opus``, ``sonnet``, ``haiku`` are
aliases, see :mod:`workbench.engine.models`), ``isolation`` (``worktree``: its own
git worktree; ``shared``: the folder of the agent that starts it; absent: the
config's choice for agents that may write, shared for read-only types), and a
body that is the agent's system prompt. They are what the Task tool's ``subagent_type`` and
``/delegate --agent NAME`` name.

Lookup, first match wins: ``.workbench/agents/``, ``.claude/agents/``,
``$XDG_CONFIG_HOME/workbench/agents/`` (each with its sub-folders, as Claude Code
reads them), then the types Claude Code always offers: ``general-purpose``,
``Explore`` and ``Plan``. Within a folder, names come from the front matter, so
two files claiming one name is an error of that folder's second file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from workbench.engine.config import user_config_path
from workbench.engine.models import resolve_model
from workbench.engine.priming.front_matter import FrontMatterError, list_field, split_front_matter, string_field
from workbench.protocol.commands import Isolation
from workbench.protocol.placement import Placement

AgentTypeOrigin = Literal["project", "claude", "user", "builtin"]
READ_ONLY_TOOLS = ["Read", "Glob", "Grep"]
ISOLATIONS: tuple[Isolation, ...] = ("worktree", "shared")

_NAME = re.compile(r"[A-Za-z0-9][\w.:-]*")


class AgentTypeError(Exception):
    """An agent type that cannot be used; the message is written for the user."""


class UnknownAgentType(AgentTypeError):
    pass


_PLACEMENTS: dict[str, Placement] = {"local": "local", "cluster": "cluster"}


class AgentType(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    tools: list[str] | None = None  # tool names; None: every tool the level allows
    model: str | None = None  # None: the parent's model
    isolation: Isolation | None = None  # None: the config's, for an agent that may write
    placement: Placement | None = None  # None: on the cluster when the session has one
    system: str
    path: Path | None = None  # None: built in
    origin: AgentTypeOrigin

    def offered_tools(self, available: list[str]) -> list[str]:
        """The tools an agent of this type gets, out of those its level may have."""
        return list(available) if self.tools is None else [name for name in available if name in self.tools]

    def system_prompt(self, engine_prompt: str) -> str:
        """The type's own prompt first, then the engine's (workspace, level, limits)."""
        return f"{self.system}\n\n{engine_prompt}" if engine_prompt else self.system


def agent_type_dirs(workspace: Path, environ: dict[str, str] | None = None) -> list[tuple[Path, AgentTypeOrigin]]:
    return [
        (workspace / ".workbench" / "agents", "project"),
        (workspace / ".claude" / "agents", "claude"),
        (user_config_path(environ).parent / "agents", "user"),
    ]


def parse_agent_type(text: str, path: Path, origin: AgentTypeOrigin) -> AgentType:
    try:
        data, body = split_front_matter(text)
        name = string_field(data, "name") or path.stem
        tools = list_field(data, "tools")
        model = string_field(data, "model")
        description = string_field(data, "description") or ""
        isolation = string_field(data, "isolation") or None
        placement_text = string_field(data, "placement")
    except FrontMatterError as exc:
        raise AgentTypeError(f"Agent type file {path}: {exc}") from None
    if isolation is not None and isolation not in ISOLATIONS:
        raise AgentTypeError(f"Agent type file {path}: isolation must be worktree or shared, not {isolation!r}")
    if not _NAME.fullmatch(name):
        raise AgentTypeError(f"Agent type file {path}: {name!r} is not a usable name (letters, digits, - _ . :)")
    placement = _PLACEMENTS.get(placement_text or "")
    if placement_text and placement is None:
        raise AgentTypeError(f"Agent type file {path}: placement must be local or cluster (got {placement_text!r})")
    if not body.strip():
        raise AgentTypeError(f"Agent type {name!r} ({path}) has no system prompt: write it below the front matter")
    return AgentType(
        name=name,
        description=description,
        tools=None if tools is None else list(dict.fromkeys(t.split("(", 1)[0].strip() for t in tools)),
        model=None if model in (None, "", "inherit") else resolve_model(model),
        isolation=isolation,
        placement=placement,
        system=body.strip(),
        path=path,
        origin=origin,
    )


BUILTIN_TYPES = [
    AgentType(
        name="general-purpose",
        description=(
            "General-purpose agent for researching complex questions, searching for code, and executing "
            "multi-step tasks. When you are searching for a keyword or file and are not confident that you "
            "will find the right match in the first few tries, use this agent to search for you."
        ),
        system=(
            "You are an agent given one task by another agent. Do what the task asks, completely, using the "
            "tools you have: search broadly when you do not know where something lives, read before you "
            "change, and check your work. Your final reply is all the other agent receives: make it a short, "
            "complete report of what you found or did, with the file paths and facts it needs."
        ),
        origin="builtin",
    ),
    AgentType(
        name="Explore",
        description=(
            "Fast agent specialised in exploring codebases: finding files by patterns, searching code for "
            "keywords, answering questions about how the code works. It reads; it never changes anything."
        ),
        tools=READ_ONLY_TOOLS,
        model=resolve_model("haiku"),
        system=(
            "You are a read-only agent that explores a codebase to answer one question. Use Glob to find "
            "files, Grep to search their contents and Read to read them; you cannot change anything. Be quick: "
            "search wide first, then read only what matters. Reply with a concise answer naming the files and "
            "lines that support it."
        ),
        origin="builtin",
    ),
    AgentType(
        name="Plan",
        description=(
            "Software architect agent for designing implementation plans: it studies the code and returns a "
            "step-by-step plan, the files to change and the trade-offs. It reads; it never changes anything."
        ),
        tools=READ_ONLY_TOOLS,
        system=(
            "You are a read-only planning agent. Study the code the task is about with Glob, Grep and Read; "
            "you cannot change anything. Reply with an implementation plan: the steps in order, the files and "
            "functions each one touches, what could go wrong, and how to check the result."
        ),
        origin="builtin",
    ),
]


class AgentTypeCatalog(BaseModel):
    types: dict[str, AgentType] = {}  # by name, lookup order applied
    problems: list[str] = []  # files that could not be used, and why

    def listing(self) -> list[tuple[str, str]]:
        """``(name, description)`` of every type, for the Task tool's schema."""
        return [(agent_type.name, agent_type.description) for agent_type in self.types.values()]

    def find(self, name: str) -> AgentType:
        found = self.types.get(name)
        if found is None:
            known = ", ".join(sorted(self.types)) or "none are defined (.workbench/agents/ or .claude/agents/)"
            unusable = f" Unusable files: {'; '.join(self.problems)}" if self.problems else ""
            raise UnknownAgentType(f"No agent type named {name!r}. Known agent types: {known}.{unusable}")
        return found


def load_agent_types(workspace: Path, environ: dict[str, str] | None = None) -> AgentTypeCatalog:
    catalog = AgentTypeCatalog()
    for folder, origin in agent_type_dirs(workspace, environ):
        if not folder.is_dir():
            continue
        here: dict[str, Path] = {}
        for path in sorted(folder.rglob("*.md")):
            if any(part.startswith(".") for part in path.relative_to(folder).parts):
                continue
            try:
                agent_type = parse_agent_type(path.read_text(encoding="utf-8"), path, origin)
            except (OSError, UnicodeDecodeError) as exc:
                catalog.problems.append(f"{path}: cannot be read: {exc}")
                continue
            except AgentTypeError as exc:
                catalog.problems.append(str(exc))
                continue
            if agent_type.name in here:
                catalog.problems.append(
                    f"{path}: the name {agent_type.name!r} is already used by {here[agent_type.name]}"
                )
                continue
            here[agent_type.name] = path
            catalog.types.setdefault(agent_type.name, agent_type)
    for builtin in BUILTIN_TYPES:
        catalog.types.setdefault(builtin.name, builtin)
    return catalog


def find_agent_type(name: str, workspace: Path, environ: dict[str, str] | None = None) -> AgentType:
    return load_agent_types(workspace, environ).find(name)
