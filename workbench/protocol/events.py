"""Every change to an agent is an Event: a pydantic model, one JSON line in the bundle.

Events form a discriminated union on ``kind``. A line whose kind this version
does not know, or whose schema version ``v`` is newer than ours, loads as an
:class:`OpaqueEvent` so that old readers never lose data written by new writers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
)

from workbench.protocol.content import ContentBlock, ImageBlock
from workbench.protocol.interaction import ApprovalChoice, AskQuestion
from workbench.protocol.modes import PermissionMode, RuleList
from workbench.protocol.placement import Placement

SCHEMA_VERSION = 1

AgentMode = Literal["foreground", "background", "delegated"]
AgentState = Literal[
    "queued",
    "idle",
    "thinking",
    "tool",
    "awaiting_approval",
    "done",
    "failed",
    "cancelled",
    "paused",
]
FINAL_STATES: frozenset[str] = frozenset({"done", "failed", "cancelled"})


def utc_now() -> datetime:
    """The current UTC time, truncated to milliseconds as stored in bundles."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _iso_ms(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(_iso_ms, return_type=str, when_used="json")]


class EventBase(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    v: int = Field(default=SCHEMA_VERSION, le=SCHEMA_VERSION)
    seq: int = 0
    ts: Timestamp = Field(default_factory=utc_now)
    session: str = ""
    agent: str = ""


class SessionStarted(EventBase):
    kind: Literal["session_started"] = "session_started"
    title: str = ""
    cwd: str = ""
    brain: str = ""
    model: str = ""
    app_version: str = ""
    # an imported session's origin (``claude-code:<session uuid>``, ``codex:<rollout id>``): importing it again updates
    source: str = ""


class AgentSpawned(EventBase):
    kind: Literal["agent_spawned"] = "agent_spawned"
    name: str = ""
    parent: str | None = None
    level: int = 1
    mode: AgentMode = "foreground"
    task: str = ""
    primer: str | None = None
    system: str = ""
    tools: list[str] = Field(default_factory=list)
    tools_tokens: int = 0  # what the definitions of those tools cost in every request
    model: str = ""
    window: int = 200_000


class UserMessage(EventBase):
    kind: Literal["user_message"] = "user_message"
    text: str
    queued: bool = False
    prompt_id: str = ""  # the prompt_queued event this message delivers, if it waited
    images: list[ImageBlock] = Field(default_factory=list)  # shown to the model after the text


class AssistantMessage(EventBase):
    kind: Literal["assistant_message"] = "assistant_message"
    content: list[ContentBlock]
    stop_reason: str | None = None
    interrupted: bool = False
    model: str = ""


class ToolCall(EventBase):
    kind: Literal["tool_call"] = "tool_call"
    tool_use_id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)


class PermissionDecision(EventBase):
    kind: Literal["permission"] = "permission"
    tool_use_id: str
    tool: str
    decision: Literal["allow", "deny"]
    source: Literal["rule", "mode", "user", "hook"] = "mode"
    rule: str | None = None
    remember: bool = False
    reason: str = ""


class ToolResult(EventBase):
    kind: Literal["tool_result"] = "tool_result"
    tool_use_id: str
    name: str = ""
    content: str
    is_error: bool = False
    truncated_chars: int = 0
    images: list[ImageBlock] = Field(default_factory=list)  # a screenshot, an image file read


class Usage(EventBase):
    kind: Literal["usage"] = "usage"
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    model: str = ""
    source: Literal["api", "scripted"] = "api"

    @property
    def context_tokens(self) -> int:
        """Tokens the request's context held, plus the reply that now joins it."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens + self.output_tokens


class Compaction(EventBase):
    kind: Literal["compaction"] = "compaction"
    summary: str
    from_seq: int
    to_seq: int
    tokens_before: int = 0
    tokens_after: int = 0
    instructions: str = ""
    automatic: bool = False


class Reduction(EventBase):
    kind: Literal["reduction"] = "reduction"
    strategy: str
    tokens_before: int = 0
    tokens_after: int = 0
    # tool_use_id -> the stub that now stands in for that tool result
    replacements: dict[str, str] = Field(default_factory=dict)


class Primed(EventBase):
    kind: Literal["primed"] = "primed"
    primer: str
    arguments: str = ""
    text: str
    sha256: str = ""
    tokens: int = 0


class Delegated(EventBase):
    kind: Literal["delegated"] = "delegated"
    child: str
    task: str
    tool_use_id: str | None = None
    mode: AgentMode = "delegated"


class ChildResult(EventBase):
    kind: Literal["child_result"] = "child_result"
    child: str
    summary: str
    is_error: bool = False
    tool_use_id: str | None = None
    child_tokens: int = 0


class Status(EventBase):
    kind: Literal["status"] = "status"
    state: AgentState
    detail: str = ""


class Error(EventBase):
    kind: Literal["error"] = "error"
    message: str
    error_type: str = ""
    retryable: bool = False
    fatal: bool = False


class Remounted(EventBase):
    kind: Literal["remounted"] = "remounted"
    source_session: str
    source_agent: str = ""
    up_to_seq: int
    system: str = ""
    # the folded messages of the source, so the new bundle stands on its own
    messages: list[dict[str, Any]] = Field(default_factory=list)


class AgentFinished(EventBase):
    kind: Literal["agent_finished"] = "agent_finished"
    state: Literal["done", "failed", "cancelled"] = "done"
    result: str = ""


class PromptQueued(EventBase):
    """A prompt the agent could not take at once (busy, paused, not started): it waits, and a
    ``user_message`` with the same ``prompt_id`` delivers it. Undelivered ones survive a restart."""

    kind: Literal["prompt_queued"] = "prompt_queued"
    prompt_id: str
    text: str


class ModeChanged(EventBase):
    """The session's permission mode changed (agent ``""``)."""

    kind: Literal["mode_changed"] = "mode_changed"
    mode: PermissionMode


class RuleAdded(EventBase):
    """A permission rule joined the session's policy (agent ``""``): from an "always" answer, a
    primer's pre-approval, or a command."""

    kind: Literal["rule_added"] = "rule_added"
    rule_list: RuleList = "allow"
    rule: str
    source: Literal["approval", "primer", "command"] = "approval"


class ApprovalRequested(EventBase):
    """An agent waits for a person to allow or deny a call; every attached screen is asked."""

    kind: Literal["approval_requested"] = "approval_requested"
    request_id: str
    tool: str
    input: dict[str, Any] = Field(default_factory=dict)
    subject: str | None = None
    preview: str | None = None  # a unified diff, for Write and Edit
    suggested_rule: str = ""
    tool_use_id: str | None = None


class ApprovalDecided(EventBase):
    """The answer to an approval request: the first one given wins. ``withdrawn``: the agent
    stopped waiting (interrupted, cancelled) before anyone answered."""

    kind: Literal["approval_decided"] = "approval_decided"
    request_id: str
    choice: ApprovalChoice
    reason: str = ""
    withdrawn: bool = False


class QuestionAsked(EventBase):
    """An agent asks the person multiple-choice questions (AskUserQuestion)."""

    kind: Literal["question_asked"] = "question_asked"
    request_id: str
    questions: list[AskQuestion]
    tool_use_id: str | None = None


class QuestionAnswered(EventBase):
    """question → the labels chosen (or the person's own words); empty when dismissed."""

    kind: Literal["question_answered"] = "question_answered"
    request_id: str
    answers: dict[str, list[str]] = Field(default_factory=dict)
    withdrawn: bool = False


class DelegationProposed(EventBase):
    """The agent's context crossed the delegation threshold: handing its next sub-task to a
    sub-agent is proposed to the person."""

    kind: Literal["delegation_proposed"] = "delegation_proposed"
    used: int
    window: int


class DelegationDecided(EventBase):
    """What became of the agent's open proposal: accepted (``child`` took the work) or dismissed."""

    kind: Literal["delegation_decided"] = "delegation_decided"
    decision: Literal["accepted", "dismissed"]
    child: str = ""


class PauseChanged(EventBase):
    """The person paused the agent (it stops before its next step, and stays paused across a restart)
    or resumed it."""

    kind: Literal["pause_changed"] = "pause_changed"
    paused: bool


class SessionRenamed(EventBase):
    kind: Literal["session_renamed"] = "session_renamed"
    title: str


class AgentPlaced(EventBase):
    """Where the agent runs. A cluster agent's run waits in the queue (``worker`` "") until a worker
    takes it; each worker that takes it (again, after one was lost: ``attempt`` 2, 3 …) says so first."""

    kind: Literal["agent_placed"] = "agent_placed"
    placement: Placement = "cluster"
    worker: str = ""
    attempt: int = 0
    workspace: str = ""  # what the agent works in there: a checkout of the session's repository at a commit


class ClusterStatus(EventBase):
    """(agent ``""``) The cluster the session's agents run on became unreachable (its agents wait where
    they are) or reachable again."""

    kind: Literal["cluster_status"] = "cluster_status"
    state: Literal["connected", "unreachable"]
    url: str = ""  # without credentials
    detail: str = ""


class PatchStored(EventBase):
    """What a cluster agent changed in its checkout, stored as a patch in the cluster's object store."""

    kind: Literal["patch_stored"] = "patch_stored"
    object: str  # the patch's name in the object store
    base: str  # the commit the patch applies to
    files: list[str] = Field(default_factory=list)
    bytes: int = 0
    sha256: str = ""


KnownEvent = Annotated[
    Union[
        SessionStarted,
        AgentSpawned,
        UserMessage,
        AssistantMessage,
        ToolCall,
        PermissionDecision,
        ToolResult,
        Usage,
        Compaction,
        Reduction,
        Primed,
        Delegated,
        ChildResult,
        Status,
        Error,
        Remounted,
        AgentFinished,
        PromptQueued,
        ModeChanged,
        RuleAdded,
        ApprovalRequested,
        ApprovalDecided,
        QuestionAsked,
        QuestionAnswered,
        DelegationProposed,
        DelegationDecided,
        PauseChanged,
        SessionRenamed,
        AgentPlaced,
        ClusterStatus,
        PatchStored,
    ],
    Field(discriminator="kind"),
]
KNOWN_EVENT_TYPES: tuple[type[EventBase], ...] = get_args(get_args(KnownEvent)[0])
KNOWN_KINDS: frozenset[str] = frozenset(t.model_fields["kind"].default for t in KNOWN_EVENT_TYPES)


class OpaqueEvent(EventBase):
    """An event this version cannot interpret; kept verbatim so nothing is lost."""

    v: int = SCHEMA_VERSION
    kind: str
    data: dict[str, Any] = Field(default_factory=dict)


Event = Union[KnownEvent, OpaqueEvent]

known_event_adapter: TypeAdapter[KnownEvent] = TypeAdapter(KnownEvent)


class UnreadableLine(ValueError):
    """A bundle line that is not an event at all (torn, corrupt, not an object)."""


_TYPE_OF_KIND: dict[bytes, type[EventBase]] = {t.model_fields["kind"].default.encode(): t for t in KNOWN_EVENT_TYPES}
_KIND_KEY = b'"kind":"'


def _guess_type(line: bytes) -> type[EventBase] | None:
    """The event type named by the line's first ``"kind"`` key: skips the union's dispatch."""
    start = line.find(_KIND_KEY)
    if start < 0:
        return None
    start += len(_KIND_KEY)
    return _TYPE_OF_KIND.get(line[start : line.find(b'"', start)])


def decode_event(line: str | bytes) -> Event:
    """Parse one bundle line. Unknown kinds and newer versions come back opaque."""
    raw_line = line.encode() if isinstance(line, str) else line
    guess = _guess_type(raw_line)
    if guess is not None:
        try:
            return guess.model_validate_json(raw_line)  # type: ignore[return-value]
        except ValidationError:
            pass  # maybe a nested "kind" key misled the guess: the full path below decides
    try:
        return known_event_adapter.validate_json(raw_line)
    except ValidationError as exc:
        failure = exc
    try:
        raw = json.loads(raw_line)
    except json.JSONDecodeError as exc:
        raise UnreadableLine(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except ValueError as exc:  # not even text (bytes that are not UTF-8, numbers too long to read)
        raise UnreadableLine(f"not valid JSON ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
        raise UnreadableLine("not an event object (no 'kind')")
    newer = isinstance(raw.get("v"), int) and raw["v"] > SCHEMA_VERSION
    if raw["kind"] in KNOWN_KINDS and not newer:
        first = failure.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "event"
        raise UnreadableLine(f"invalid {raw['kind']} event: {where}: {first['msg']}")
    envelope = {k: raw[k] for k in ("v", "seq", "ts", "session", "agent") if k in raw}
    try:
        return OpaqueEvent(kind=raw["kind"], data=raw, **envelope)
    except ValidationError:
        return OpaqueEvent(kind=raw["kind"], data=raw)


def encode_event(event: Event) -> str:
    """One bundle line (no newline). Opaque events are written back exactly as read."""
    if isinstance(event, OpaqueEvent):
        return json.dumps(event.data, separators=(",", ":"), ensure_ascii=False)
    return event.model_dump_json()
