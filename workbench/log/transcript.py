"""A readable, plain-text transcript of a bundle (``workbench bundles show``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from workbench.protocol.content import ImageBlock, TextBlock, ThinkingBlock, ToolUseBlock
from workbench.protocol.events import (
    WORKSPACE_EVENT_TYPES,
    AgentFinished,
    AgentSpawned,
    AssistantMessage,
    ChildResult,
    Compaction,
    Delegated,
    Error,
    Event,
    FilesChanged,
    FilesRestored,
    OpaqueEvent,
    PermissionDecision,
    Primed,
    Reduction,
    Remounted,
    SessionStarted,
    SpendCap,
    ToolCall,
    ToolResult,
    Usage,
    UserMessage,
    WorktreeCommitted,
    WorktreeConflicted,
    WorktreeCreated,
    WorktreeDiscarded,
    WorktreeKept,
    WorktreeMerged,
    WorktreeSkipped,
)

PREVIEW_LINES = 6
INDENT = "    "


def _clip(text: str, lines: int = PREVIEW_LINES) -> str:
    rows = text.rstrip().splitlines()
    shown = rows[:lines]
    if len(rows) > lines:
        shown.append(f"… ({len(rows) - lines} more lines)")
    return "\n".join(INDENT + r for r in shown)


def one_line(value: object, width: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def brain_label(brain: str, model: str) -> str:
    """``anthropic claude-sonnet-4-6``, or just ``scripted`` when the model is the brain itself."""
    return brain if model in ("", brain) else f"{brain} {model}"


def describe(event: Event) -> str:
    """A one-line summary of any event, for logs and lists."""
    if isinstance(event, SessionStarted):
        return f"session started in {event.cwd} · {brain_label(event.brain, event.model)}"
    if isinstance(event, AgentSpawned):
        parent = f" by {event.parent}" if event.parent else ""
        return f"{event.mode} agent '{event.name}' (level {event.level}){parent}"
    if isinstance(event, UserMessage):
        return one_line(event.text)
    if isinstance(event, AssistantMessage):
        text = "".join(b.text for b in event.content if isinstance(b, TextBlock))
        calls = [b.name for b in event.content if isinstance(b, ToolUseBlock)]
        parts = [one_line(text, 80)] if text.strip() else []
        if calls:
            parts.append("calls " + ", ".join(calls))
        if event.interrupted:
            parts.append("(interrupted)")
        return " · ".join(parts) or "(empty reply)"
    if isinstance(event, ToolCall):
        return f"{event.name} {one_line(event.input, 80)}"
    if isinstance(event, PermissionDecision):
        rule = f" ({event.rule})" if event.rule else ""
        return f"{event.decision} {event.tool} by {event.source}{rule}"
    if isinstance(event, ToolResult):
        flag = "error: " if event.is_error else ""
        return f"{event.name} → {flag}{one_line(event.content, 80)} ({len(event.content):,} chars)"
    if isinstance(event, Usage):
        cache = f" · cache read {event.cache_read_input_tokens:,}" if event.cache_read_input_tokens else ""
        if event.cache_creation_input_tokens:
            cache += f" · cache write {event.cache_creation_input_tokens:,}"
        purpose = "" if event.purpose == "reply" else f" ({event.purpose})"
        return f"in {event.input_tokens:,} · out {event.output_tokens:,}{cache}{purpose}"
    if isinstance(event, Compaction):
        tokens = f": {event.tokens_before:,} → {event.tokens_after:,} tokens" if event.tokens_before else ""
        return f"compacted seq {event.from_seq}–{event.to_seq}{tokens}"
    if isinstance(event, Reduction):
        return f"{event.strategy}: {event.tokens_before:,} → {event.tokens_after:,} tokens"
    if isinstance(event, Primed):
        return f"primed with {event.primer} {event.arguments} ({event.tokens:,} tokens)".replace("  ", " ")
    if isinstance(event, Delegated):
        return f"delegated to {event.child}: {one_line(event.task, 80)}"
    if isinstance(event, ChildResult):
        return f"{event.child} returned: {one_line(event.summary, 80)}"
    if isinstance(event, Error):
        return f"{event.error_type or 'error'}: {one_line(event.message)}"
    if isinstance(event, Remounted):
        return f"remounted from {event.source_session} up to seq {event.up_to_seq}"
    if isinstance(event, AgentFinished):
        return f"{event.state}: {one_line(event.result, 80)}"
    if isinstance(event, SpendCap):
        whose = f"{event.agent} and its sub-agents" if event.agent else "the session"
        return f"spend cap of {whose}: " + (f"${event.max_usd:,.4g}" if event.max_usd is not None else "none")
    if isinstance(event, OpaqueEvent):
        return f"(unknown to this version) {one_line(event.data, 80)}"
    return _describe_workspace(event) or getattr(event, "state", "") or event.kind


def _files(paths: list[str], limit: int = 3) -> str:
    shown = ", ".join(paths[:limit])
    return f"{shown} and {len(paths) - limit} more" if len(paths) > limit else shown or "no files"


def _describe_workspace(event: Event) -> str:
    """Worktrees and the files agents changed."""
    if isinstance(event, WorktreeCreated):
        carried = f", {len(event.carried)} uncommitted change(s) carried over" if event.carried else ""
        return f"own worktree on {event.branch}{carried}"
    if isinstance(event, WorktreeSkipped):
        return f"no worktree: {event.reason}"
    if isinstance(event, FilesChanged):
        parts = [f"{c.path} (+{c.added} -{c.removed})" if not c.binary else f"{c.path} (binary)" for c in event.changes]
        return f"{event.tool} changed {_files(parts)}" + (f" · {event.incomplete}" if event.incomplete else "")
    if isinstance(event, WorktreeMerged):
        return f"merged {_files(event.files)} into {event.into}"
    if isinstance(event, WorktreeConflicted):
        return f"not merged, conflicts in {_files(event.files)}; {event.into} is as it was"
    if isinstance(event, WorktreeDiscarded):
        return f"discarded {_files(event.files)}"
    if isinstance(event, WorktreeKept):
        return f"kept on {event.branch} at {event.commit[:10]}"
    if isinstance(event, WorktreeCommitted):
        return f"committed {event.commit[:10]} on {event.branch}: {one_line(event.message.splitlines()[0], 60)}"
    if isinstance(event, FilesRestored):
        skipped = f", {len(event.skipped)} left as they are" if event.skipped else ""
        return f"{_files(event.files)} put back as at seq {event.up_to_seq} of {event.source_session}{skipped}"
    return ""


def with_images(text: str, images: list[ImageBlock]) -> str:
    """A message's text with a placeholder line for each image it carries."""
    return "\n".join([text.rstrip(), *(image.placeholder() for image in images)]).strip("\n")


def transcript(events: Iterable[Event]) -> Iterator[str]:
    """The conversation as text: messages, tool calls with results, summaries, usage."""
    for event in events:
        stamp = f"[{event.ts:%H:%M:%S}] {event.agent or 'session'}"
        if isinstance(event, UserMessage):
            yield f"{stamp} · user:\n{_clip(with_images(event.text, event.images), 40)}"
        elif isinstance(event, AssistantMessage):
            for block in event.content:
                if isinstance(block, TextBlock) and block.text.strip():
                    yield f"{stamp} · assistant:\n{_clip(block.text, 200)}"
                elif isinstance(block, ThinkingBlock):
                    yield f"{stamp} · thinking:\n{_clip(block.thinking, 3)}"
            if event.interrupted:
                yield f"{stamp} · (reply interrupted)"
        elif isinstance(event, ToolCall):
            yield f"{stamp} · → {event.name} {one_line(event.input)}"
        elif isinstance(event, ToolResult):
            flag = " (error)" if event.is_error else ""
            body = with_images(event.content, event.images)
            yield f"{stamp} · ← {event.name}{flag}, {len(event.content):,} chars:\n{_clip(body)}"
        elif isinstance(event, Compaction):
            yield f"{stamp} · {event.kind}: {describe(event)}, summary:\n{_clip(event.summary, 40)}"
        elif isinstance(event, Primed):
            yield f"{stamp} · {event.kind}: {describe(event)}:\n{_clip(event.text)}"
        elif isinstance(
            event,
            (
                Usage,
                Error,
                PermissionDecision,
                Reduction,
                Delegated,
                ChildResult,
                AgentSpawned,
                AgentFinished,
                SessionStarted,
                Remounted,
                SpendCap,
                OpaqueEvent,
                *WORKSPACE_EVENT_TYPES,
            ),
        ):
            yield f"{stamp} · {event.kind}: {describe(event)}"
