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
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    TypeAdapter,
    ValidationError,
)

from workbench.protocol.content import ContentBlock, ImageBlock
from workbench.protocol.facts import FactLedger
from workbench.protocol.interaction import ApprovalChoice, AskQuestion
from workbench.protocol.json_line import MAX_NESTING, UnreadableLine, json_value, without_surrogates
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


def as_utc(ts: datetime) -> datetime:
    """``ts`` in UTC, for any datetime: a naive one is taken to be UTC already, and one that UTC
    cannot hold (year 1 at +01:00 is year 0 in UTC) is clamped to the first or last representable time."""
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        return (datetime.min if ts.year == datetime.min.year else datetime.max).replace(tzinfo=UTC)


def _iso_ms(ts: datetime) -> str:
    return as_utc(ts).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timestamp = Annotated[datetime, AfterValidator(as_utc), PlainSerializer(_iso_ms, return_type=str, when_used="json")]


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


class CacheCreation(BaseModel):
    """Tokens a request wrote to the prompt cache, by how long they live (the API's ``usage.cache_creation``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0


class Usage(EventBase):
    kind: Literal["usage"] = "usage"
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    # None: the split by lifetime was not reported (older logs): every write counts as a 5-minute one
    cache_creation: CacheCreation | None = None
    model: str = ""
    source: Literal["api", "scripted"] = "api"
    # "reply": a turn of the agent; "compaction": the request that summarised its older turns
    purpose: str = "reply"

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
    facts: str = ""  # the facts ledger in its compact form, shown ahead of the summary


class Reduction(EventBase):
    kind: Literal["reduction"] = "reduction"
    strategy: str
    tokens_before: int = 0
    tokens_after: int = 0
    # tool_use_id -> the stub that now stands in for that tool result
    replacements: dict[str, str] = Field(default_factory=dict)
    facts: str = ""  # the facts ledger in its compact form, carried into the context where the reduction is


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


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")


class _TextPart(_Part):
    type: Literal["text"]
    text: str


class _ToolUsePart(_Part):
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any]


class _ToolResultPart(_Part):
    type: Literal["tool_result"]
    tool_use_id: str


class _OtherPart(_Part):
    type: str


_CHECKED_PARTS = {"text", "tool_use", "tool_result"}


def _part_tag(part: Any) -> str:
    kind = part.get("type") if isinstance(part, dict) else None
    return kind if kind in _CHECKED_PARTS else "other"


class _ApiMessage(BaseModel):
    """A message in the Messages API's shape: what ``fold`` builds and reads back from a remount."""

    model_config = ConfigDict(extra="allow")
    role: Literal["user", "assistant"]
    content: list[
        Annotated[
            Annotated[_TextPart, Tag("text")]
            | Annotated[_ToolUsePart, Tag("tool_use")]
            | Annotated[_ToolResultPart, Tag("tool_result")]
            | Annotated[_OtherPart, Tag("other")],
            Discriminator(_part_tag),
        ]
    ]


_API_MESSAGES: TypeAdapter[list[_ApiMessage]] = TypeAdapter(list[_ApiMessage])


def _api_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages as they were, once each is known to have the API's shape (a string content
    becomes its one text block); anything else makes the line invalid rather than crash a reader later."""
    messages = [
        {**m, "content": [{"type": "text", "text": m["content"]}]} if isinstance(m.get("content"), str) else m
        for m in messages
    ]
    _API_MESSAGES.validate_python(messages)
    return messages


class Remounted(EventBase):
    kind: Literal["remounted"] = "remounted"
    source_session: str
    source_agent: str = ""
    up_to_seq: int
    system: str = ""
    # the folded messages of the source, so the new bundle stands on its own
    messages: Annotated[list[dict[str, Any]], AfterValidator(_api_messages)] = Field(default_factory=list)
    facts: FactLedger | None = None  # the source agent's facts ledger at that point


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


class ShellStarted(EventBase):
    """A command the agent runs in the background (``Bash`` with ``run_in_background``): its output goes
    to ``output_path``, a file beside the bundle, and the agent reads it with TaskOutput."""

    kind: Literal["shell_started"] = "shell_started"
    shell_id: str
    command: str
    description: str = ""
    output_path: str = ""
    tool_use_id: str | None = None


class ShellEnded(EventBase):
    """A background shell ended: it exited on its own, was stopped (TaskStop, the person), or went with
    its agent or the session. ``output_bytes``: what it wrote, ``dropped_bytes`` of it past the file's cap."""

    kind: Literal["shell_ended"] = "shell_ended"
    shell_id: str
    how: Literal["exited", "stopped", "agent_ended", "session_closed"] = "exited"
    exit_code: int | None = None
    output_bytes: int = 0
    dropped_bytes: int = 0
    by: str = ""  # who stopped it: the agent's TaskStop, or "user"


class PlanProposed(EventBase):
    """An agent in plan mode asks to leave it and carry out ``plan`` (ExitPlanMode): every attached screen
    shows the plan; a ``DecidePlan`` command answers."""

    kind: Literal["plan_proposed"] = "plan_proposed"
    request_id: str
    plan: str
    tool_use_id: str | None = None


class PlanDecided(EventBase):
    """The answer to a plan: approved (the session goes on in ``mode``) or not (the agent keeps planning,
    with the person's ``feedback``). ``withdrawn``: the agent stopped waiting before anyone answered."""

    kind: Literal["plan_decided"] = "plan_decided"
    request_id: str
    approved: bool
    mode: PermissionMode | None = None
    feedback: str = ""
    withdrawn: bool = False


class SpendCap(EventBase):
    """A spending limit set or changed: the session's (agent ``""``) or one agent's, with its descendants."""

    kind: Literal["spend_cap"] = "spend_cap"
    max_usd: float | None = Field(default=None, ge=0)  # None: no limit


class FileChange(BaseModel):
    """One file a tool call changed, as rewind needs it: the bytes before and after are blobs of the
    session's blob store (``blobs/`` beside ``events.jsonl``), named by their SHA-256."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    path: str  # relative to the agent's workspace, '/'-separated
    before: str | None = None  # blob of the previous bytes; None: the file did not exist
    after: str | None = None  # blob of the new bytes; None: the call deleted it
    before_known: bool = True  # False: a command changed it and what it held before was not kept
    after_known: bool = True  # False: larger than the blob store takes
    added: int = 0  # lines, against what the file held before the agent first changed it
    removed: int = 0
    binary: bool = False


class WorktreeCreated(EventBase):
    """The agent works in its own git worktree, made from ``source`` (the user's checkout, or the
    parent agent's workspace) as it was: its HEAD ``head`` plus uncommitted changes, committed as
    ``base`` when there were any (``carried`` lists them). Logged right after its ``agent_spawned``,
    or when a rewind puts an agent's files into a fresh worktree."""

    kind: Literal["worktree_created"] = "worktree_created"
    path: str  # the worktree's folder
    workspace: str  # where the agent works: the worktree, or the same sub-folder of it as the source's
    branch: str
    base: str  # the commit the branch starts from; the agent's diff is against it
    head: str = ""  # the source's HEAD commit ("" for a repository without commits)
    source: str  # the folder the worktree copies and merges back into
    repo: str = ""  # the top folder of the source's repository
    carried: list[str] = Field(default_factory=list)


class WorktreeSkipped(EventBase):
    """The agent was to get a worktree but runs in the shared workspace: ``reason`` says why (not a
    git repository, git missing, git failed). A warning the screens show."""

    kind: Literal["worktree_skipped"] = "worktree_skipped"
    reason: str


class FilesChanged(EventBase):
    """What one tool call (Write, Edit, or a Bash command, found by a scan before and after) changed
    in the agent's workspace ``root``. Logged before the call's ``tool_result``."""

    kind: Literal["files_changed"] = "files_changed"
    tool_use_id: str = ""
    tool: str = ""
    root: str = ""
    changes: list[FileChange] = Field(default_factory=list)
    incomplete: str = ""  # why the scan could not see everything ("" when it did)


class WorktreeMerged(EventBase):
    """The person merged the agent's changes into ``into``; the worktree and its branch are gone."""

    kind: Literal["worktree_merged"] = "worktree_merged"
    into: str
    files: list[str] = Field(default_factory=list)


class WorktreeConflicted(EventBase):
    """A merge was refused: these files changed on both sides. Nothing in ``into`` was touched."""

    kind: Literal["worktree_conflicted"] = "worktree_conflicted"
    into: str
    files: list[str] = Field(default_factory=list)


class WorktreeDiscarded(EventBase):
    """The person threw the agent's changes away; the worktree and its branch are gone."""

    kind: Literal["worktree_discarded"] = "worktree_discarded"
    files: list[str] = Field(default_factory=list)


class WorktreeKept(EventBase):
    """The worktree is removed and the branch kept, its last commit ``commit`` holding all the work."""

    kind: Literal["worktree_kept"] = "worktree_kept"
    branch: str
    commit: str


class WorktreeCommitted(EventBase):
    """The person committed the agent's changes on its branch (in its worktree)."""

    kind: Literal["worktree_committed"] = "worktree_committed"
    branch: str
    commit: str
    message: str
    files: list[str] = Field(default_factory=list)


class FilesRestored(EventBase):
    """Files put back as they were at ``up_to_seq`` of ``source_session`` (a rewind), into ``into``.
    ``skipped``: path → why it was left as it is."""

    kind: Literal["files_restored"] = "files_restored"
    source_session: str
    up_to_seq: int
    into: str
    files: list[str] = Field(default_factory=list)
    skipped: dict[str, str] = Field(default_factory=dict)


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
        ShellStarted,
        ShellEnded,
        PlanProposed,
        PlanDecided,
        SpendCap,
        WorktreeCreated,
        WorktreeSkipped,
        FilesChanged,
        WorktreeMerged,
        WorktreeConflicted,
        WorktreeDiscarded,
        WorktreeKept,
        WorktreeCommitted,
        FilesRestored,
        AgentPlaced,
        ClusterStatus,
        PatchStored,
    ],
    Field(discriminator="kind"),
]
KNOWN_EVENT_TYPES: tuple[type[EventBase], ...] = get_args(get_args(KnownEvent)[0])
# where agents work and what they change there: worktrees, the files each call changed, rewinds
WORKSPACE_EVENT_TYPES: tuple[type[EventBase], ...] = (
    WorktreeCreated,
    WorktreeSkipped,
    FilesChanged,
    WorktreeMerged,
    WorktreeConflicted,
    WorktreeDiscarded,
    WorktreeKept,
    WorktreeCommitted,
    FilesRestored,
)
KNOWN_KINDS: frozenset[str] = frozenset(t.model_fields["kind"].default for t in KNOWN_EVENT_TYPES)


class OpaqueEvent(EventBase):
    """An event this version cannot interpret; kept verbatim so nothing is lost."""

    v: int = SCHEMA_VERSION
    kind: str
    data: dict[str, Any] = Field(default_factory=dict)


Event = Union[KnownEvent, OpaqueEvent]

known_event_adapter: TypeAdapter[KnownEvent] = TypeAdapter(KnownEvent)


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
    """Parse one bundle line. Unknown kinds and newer versions come back opaque.

    Anything that is not an event raises UnreadableLine, never another error: bytes that
    are not UTF-8, numbers or nesting beyond what the JSON parser accepts (the same limits
    for every line, known or not), a known kind with invalid fields.
    """
    raw_line = without_surrogates(line).encode("utf-8") if isinstance(line, str) else line
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
    raw = json_value(raw_line)
    if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
        raise UnreadableLine("not an event object (no 'kind')")
    newer = isinstance(raw.get("v"), int) and raw["v"] > SCHEMA_VERSION
    if raw["kind"] in KNOWN_KINDS and not newer:
        try:  # the JSON parser refused lone surrogates that json_value replaced
            return known_event_adapter.validate_python(raw)
        except ValidationError as exc:
            failure = exc
        first = failure.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "event"
        raise UnreadableLine(f"invalid {raw['kind']} event: {where}: {first['msg']}")
    envelope = {k: raw[k] for k in ("v", "seq", "ts", "session", "agent") if k in raw}
    try:
        return OpaqueEvent(kind=raw["kind"], data=raw, **envelope)
    except ValidationError:
        return OpaqueEvent(kind=raw["kind"], data=raw)


class UnwritableEvent(ValueError):
    """An event that cannot be written as a bundle line at all (its message says why)."""


def encode_event(event: Event) -> str:
    """One bundle line (no newline). Opaque events are written back exactly as read."""
    return encoded(event)[1]


def encoded(event: Event) -> tuple[Event, str]:
    """The event as it can be written, and its line: valid UTF-8 JSON, whatever the event holds.

    Text UTF-8 cannot hold (a lone surrogate: how Python spells the bytes of a file name that
    is not UTF-8) is replaced by U+FFFD, and the event comes back so repaired; otherwise it
    comes back as it was. Raises UnwritableEvent when no line can be made of it.
    """
    try:
        return event, _readable(event, _line(event))
    except UnwritableEvent:
        raise
    except (ValueError, UnicodeError):  # pydantic's serialisation error is a ValueError
        pass
    try:
        data = without_surrogates(event.model_dump())
        repaired = type(event)(**data)
        line = _line(repaired)
    except RecursionError:
        raise UnwritableEvent(f"the {event.kind} event cannot be written: it is nested too deeply") from None
    except (ValueError, UnicodeError) as exc:
        raise UnwritableEvent(f"the {event.kind} event cannot be written: {exc}") from None
    return repaired, _readable(repaired, line)


def _readable(event: Event, line: str) -> str:
    """``line``, once it is known that a reader can parse it: nothing is written that cannot be read back."""
    if line.count("[") + line.count("{") >= MAX_NESTING:  # cheap to count; only then worth parsing
        try:
            json_value(line)
        except UnreadableLine as exc:
            raise UnwritableEvent(f"the {event.kind} event cannot be written: it would not read back ({exc})") from None
    return line


def _line(event: Event) -> str:
    if isinstance(event, OpaqueEvent):
        line = json.dumps(event.data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        line.encode("utf-8")  # json leaves lone surrogates in; the file could not hold them
        return line
    return event.model_dump_json()
