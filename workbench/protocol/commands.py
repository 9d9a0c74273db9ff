"""Commands: the only way anything changes the engine.

A front end (the TUI, the CLI, a client of the daemon) submits a ``Command``;
the engine's handler for it answers with an ``Outcome`` at once (accepted, or
refused with a sentence for the user) and makes every change it causes as
events in the session's log. A command is one JSON object on the daemon's
socket, discriminated on ``op``.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from workbench.protocol.interaction import ApprovalChoice
from workbench.protocol.modes import PermissionMode, RuleList
from workbench.protocol.placement import Placement

PRIMARY = "primary"
# worktree: an agent of its own git worktree; shared: the folder of the agent that starts it
Isolation = Literal["worktree", "shared"]
# where a rewind puts files: a fresh worktree (nothing of the user's is touched), or the agent's folder
RestoreInto = Literal["worktree", "folder"]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Send(_Command):
    """A prompt for an agent; it waits (``prompt_queued``) while the agent is busy or paused."""

    op: Literal["send"] = "send"
    agent: str = PRIMARY
    text: str = Field(min_length=1)


class Spawn(_Command):
    """A background agent (runs on its own, offered back when done) or a delegated one (a fresh
    context with a short brief; its summary comes back to ``parent`` as a message). ``placement``:
    where it runs (None: as its agent type says, else on the cluster when the session has one)."""

    op: Literal["spawn"] = "spawn"
    mode: Literal["background", "delegated"]
    task: str = Field(min_length=1)
    parent: str = PRIMARY
    primer: str | None = None
    primer_args: str = ""
    agent_type: str | None = None
    isolation: Isolation | None = None  # None: the agent type's, else the config's for an agent that may write
    placement: Placement | None = None


class Interrupt(_Command):
    """Stop the agent's current turn; the agent stays usable."""

    op: Literal["interrupt"] = "interrupt"
    agent: str = PRIMARY


class Cancel(_Command):
    """End an agent and everything it spawned."""

    op: Literal["cancel"] = "cancel"
    agent: str


class Pause(_Command):
    op: Literal["pause"] = "pause"
    agent: str


class Resume(_Command):
    op: Literal["resume"] = "resume"
    agent: str


class Compact(_Command):
    """Summarise the agent's older turns (the last turns stay verbatim)."""

    op: Literal["compact"] = "compact"
    agent: str = PRIMARY
    instructions: str = ""


class Reduce(_Command):
    """The cheap strategies: superseded and stale tool results become stubs."""

    op: Literal["reduce"] = "reduce"
    agent: str = PRIMARY


class PrimerText(BaseModel):
    """A primer already resolved (what a preview showed), injected exactly as it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    sha256: str
    tokens: int


class Prime(_Command):
    """Load a primer into the agent's context; with ``resolved``, exactly the text previewed."""

    op: Literal["prime"] = "prime"
    agent: str = PRIMARY
    primer: str = Field(min_length=1)
    arguments: str = ""
    resolved: PrimerText | None = None


class SetMode(_Command):
    op: Literal["set_mode"] = "set_mode"
    mode: PermissionMode


class AddRule(_Command):
    op: Literal["add_rule"] = "add_rule"
    rule_list: RuleList = "allow"
    rule: str = Field(min_length=1)


class Approve(_Command):
    """The answer to an ``approval_requested`` event; the first answer given wins."""

    op: Literal["approve"] = "approve"
    request_id: str
    choice: ApprovalChoice
    reason: str = ""


class Answer(_Command):
    """The answer to a ``question_asked`` event (empty: the questions were dismissed)."""

    op: Literal["answer"] = "answer"
    request_id: str
    answers: dict[str, list[str]] = Field(default_factory=dict)


class HandResult(_Command):
    """Give a finished agent's result to the primary, as a message it answers."""

    op: Literal["hand_result"] = "hand_result"
    agent: str


class Orchestrate(_Command):
    """Have the primary plan a goal, fan it out to sub-agents, and aggregate their answers."""

    op: Literal["orchestrate"] = "orchestrate"
    goal: str = Field(min_length=1)


class DecideDelegation(_Command):
    """Accept the agent's open delegation proposal (``task`` goes to a sub-agent) or dismiss it."""

    op: Literal["decide_delegation"] = "decide_delegation"
    agent: str = PRIMARY
    accept: bool
    task: str = ""


class Rename(_Command):
    op: Literal["rename"] = "rename"
    title: str


class RestartMcp(_Command):
    """Restart an MCP server (its tools come back when it is ready)."""

    op: Literal["restart_mcp"] = "restart_mcp"
    server: str


class StopShell(_Command):
    """Stop a background shell (its whole process group) and say so in the log."""

    op: Literal["stop_shell"] = "stop_shell"
    shell_id: str = Field(min_length=1)


class DecidePlan(_Command):
    """The answer to a ``plan_proposed`` event: approve (the session goes on in ``mode``) or keep planning
    (``feedback`` goes to the agent)."""

    op: Literal["decide_plan"] = "decide_plan"
    request_id: str
    approve: bool
    mode: Literal["default", "acceptEdits"] = "default"
    feedback: str = ""


class Close(_Command):
    """End the session here. ``stop``: agents stop where they are and go on when the session is
    resumed (paused ones stay paused); ``cancel``: every agent but the primary is cancelled first."""

    op: Literal["close"] = "close"
    how: Literal["stop", "cancel"] = "stop"


class SetSpendCap(_Command):
    """Set, raise or lift (``max_usd`` None) a spending cap: the session's (``agent`` empty) or an agent's,
    with everything it starts. The agents the cap held paused go on once it no longer holds them."""

    op: Literal["set_spend_cap"] = "set_spend_cap"
    agent: str = ""
    max_usd: float | None = Field(default=None, gt=0)


class Merge(_Command):
    """Bring the agent's worktree changes into the folder the worktree was made from: all of them, or, when
    a file changed on both sides, none (the conflict is logged with the files). The worktree goes."""

    op: Literal["merge"] = "merge"
    agent: str


class Discard(_Command):
    """Throw the agent's worktree changes away: the worktree and its branch go."""

    op: Literal["discard"] = "discard"
    agent: str


class KeepBranch(_Command):
    """Keep the agent's work on its branch (committed there if it was not) and remove the worktree."""

    op: Literal["keep_branch"] = "keep_branch"
    agent: str


class Commit(_Command):
    """Commit the agent's worktree on its branch, with this message (the user's hooks run)."""

    op: Literal["commit"] = "commit"
    agent: str
    message: str = Field(min_length=1)


class RestoreFiles(_Command):
    """Rewind: the files ``source_agent`` of ``source_session`` changed, put back as they were at
    ``up_to_seq``, for ``agent`` of this session to work on (into a fresh worktree, or its own folder)."""

    op: Literal["restore_files"] = "restore_files"
    source_session: str
    source_agent: str = PRIMARY
    up_to_seq: int = Field(ge=1)
    agent: str = PRIMARY
    into: RestoreInto = "worktree"
    force: bool = False  # into the folder: overwrite files changed since the agent's last change too


Command = Annotated[
    Union[
        Send,
        Spawn,
        Interrupt,
        Cancel,
        Pause,
        Resume,
        Compact,
        Reduce,
        Prime,
        SetMode,
        AddRule,
        Approve,
        Answer,
        HandResult,
        Orchestrate,
        DecideDelegation,
        Rename,
        RestartMcp,
        Close,
        StopShell,
        DecidePlan,
        SetSpendCap,
        Merge,
        Discard,
        KeepBranch,
        Commit,
        RestoreFiles,
    ],
    Field(discriminator="op"),
]
command_adapter: TypeAdapter[Command] = TypeAdapter(Command)


class Outcome(BaseModel):
    """The engine's immediate answer to a command. Refusals say why, for the user."""

    model_config = ConfigDict(frozen=True)

    ok: bool = True
    message: str = ""
    agent: str | None = None  # the agent the command made (spawn) or acted on

    @classmethod
    def refused(cls, message: str) -> Outcome:
        return cls(ok=False, message=message)
