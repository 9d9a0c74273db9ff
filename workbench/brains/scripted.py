"""ScriptedBrain: a deterministic, offline brain that replays a script or follows simple rules.

It is what the app runs on without an API key, in the tour and in tests. It
never poses as a language model: its replies are plainly rule-based.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from workbench.brains.extractive import (
    INJECTED,
    blocks_of,
    clip,
    compaction_summary,
    message_text,
    paths_in,
    result_text,
    summarise_conversation,
    summarise_text,
    tool_calls,
)
from workbench.protocol.brain_io import (
    BrainError,
    BrainEvent,
    BrainRequest,
    MessageDone,
    TextDelta,
    ToolUseStarted,
    UsageReport,
)
from workbench.protocol.content import ContentBlock, TextBlock, ToolUseBlock
from workbench.protocol.markers import COMPACTION_MARKER, ORCHESTRATE_MARKER, RETURNED_RESULT_PREFIX, SUMMARY_REQUEST

# The compaction request carries this in its system prompt; the conversation to
# summarise is the request's messages.
TEST_COMMAND = "python -m pytest -q"
LISTED_ITEMS = 10


# --- replies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    name: str
    input: dict[str, Any]
    id: str | None = None  # scripts may fix ids; otherwise the brain numbers them


@dataclass(frozen=True)
class Reply:
    text: str = ""
    calls: tuple[Call, ...] = ()
    stop_reason: str | None = None


# --- script files --------------------------------------------------------------------------


class ScriptToolUse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class ScriptTurn(BaseModel):
    """One scripted reply: text and/or tool calls. A bare string is a text-only turn."""

    model_config = ConfigDict(extra="forbid")

    text: str = ""
    tool_use: list[ScriptToolUse] = Field(default_factory=list)
    stop_reason: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"text": value}
        if isinstance(value, dict) and isinstance(value.get("tool_use"), dict):
            return {**value, "tool_use": [value["tool_use"]]}
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> ScriptTurn:
        if not self.text and not self.tool_use:
            raise ValueError("a turn needs text or tool_use")
        return self

    def reply(self) -> Reply:
        calls = tuple(Call(t.name, t.input, t.id) for t in self.tool_use)
        return Reply(self.text, calls, self.stop_reason)


_TURNS = TypeAdapter(list[ScriptTurn])


def load_script(path: Path) -> list[ScriptTurn]:
    """Read a YAML or JSON list of turns; any problem is a BrainError naming the file."""
    try:
        raw = path.read_text(encoding="utf-8")
        data = json.loads(raw) if path.suffix == ".json" else yaml.safe_load(raw)
        return _TURNS.validate_python(data)
    except (OSError, ValueError, yaml.YAMLError) as exc:  # ValidationError is a ValueError
        detail = _validation_detail(exc) if isinstance(exc, ValidationError) else str(exc)
        raise BrainError(f"script {path}: {detail}", error_type="invalid_script") from exc


def _validation_detail(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{first['msg']} (at turn {where})" if where else first["msg"]


# --- the brain -----------------------------------------------------------------------------


class ScriptedBrain:
    """Replays ``script`` (turn i answers request i) or, without one, answers by rules."""

    name = "scripted"

    def __init__(self, script: str | Path | None = None, *, delay_s: float = 0.0, model: str = "scripted") -> None:
        self.model = model
        self.delay_s = delay_s
        self.script_path = Path(script) if script is not None else None
        self._turns = load_script(self.script_path) if self.script_path is not None else None
        self._requests = 0
        self._tool_ids = 0

    @property
    def label(self) -> str:
        if self.script_path is not None:
            return f"scripted (offline: {self.script_path.name})"
        return "scripted (offline)"

    async def aclose(self) -> None:
        pass  # nothing held

    async def stream(self, request: BrainRequest) -> AsyncIterator[BrainEvent]:
        # a resumed or remounted context already holds ids from an earlier brain: never reuse one
        self._tool_ids = max(self._tool_ids, _highest_scripted_id(request.messages))
        reply = self._script_reply() if self._turns is not None else rule_reply(request)
        blocks: list[ContentBlock] = []
        if reply.text:
            blocks.append(TextBlock(text=reply.text))
            for chunk in text_chunks(reply.text):
                await asyncio.sleep(self.delay_s)
                yield TextDelta(text=chunk)
        for call in reply.calls:
            block = ToolUseBlock(id=call.id or self._next_tool_id(), name=call.name, input=call.input)
            blocks.append(block)
            yield ToolUseStarted(id=block.id, name=block.name)
        yield UsageReport(
            input_tokens=estimate_tokens(_request_chars(request)),
            output_tokens=estimate_tokens(_reply_chars(reply)),
            model=self.model,
            source="scripted",
        )
        yield MessageDone(content=blocks, stop_reason=reply.stop_reason or ("tool_use" if reply.calls else "end_turn"))

    def _script_reply(self) -> Reply:
        assert self._turns is not None
        index = self._requests
        self._requests += 1
        if index >= len(self._turns):
            raise BrainError(
                f"script {self.script_path} has {len(self._turns)} turns; request {index + 1} has no reply",
                error_type="script_exhausted",
            )
        return self._turns[index].reply()

    def _next_tool_id(self) -> str:
        self._tool_ids += 1
        return f"toolu_scripted_{self._tool_ids:04d}"


_SCRIPTED_ID = re.compile(r"toolu_scripted_(\d+)")


def _highest_scripted_id(messages: list[dict[str, Any]]) -> int:
    numbers = [
        int(match[1])
        for message in messages
        for block in message.get("content", [])
        if isinstance(block, dict)
        and block.get("type") == "tool_use"
        and (match := _SCRIPTED_ID.fullmatch(str(block.get("id", ""))))
    ]
    return max(numbers, default=0)


def text_chunks(text: str) -> list[str]:
    """Up to two words per chunk, whitespace kept, so the chunks join back to ``text``."""
    return re.findall(r"\s*\S+(?:\s+\S+)?|\s+$", text)


def estimate_tokens(chars: int) -> int:
    return -(-chars // 4)


def _request_chars(request: BrainRequest) -> int:
    messages = json.dumps(request.messages, ensure_ascii=False, sort_keys=True, default=str)
    return len(request.system) + len(messages) + sum(len(t.model_dump_json()) for t in request.tools)


def _reply_chars(reply: Reply) -> int:
    return len(reply.text) + sum(len(c.name) + len(json.dumps(c.input, ensure_ascii=False)) for c in reply.calls)


# --- rules ---------------------------------------------------------------------------------


def rule_reply(request: BrainRequest) -> Reply:
    """Answer the latest user turn: report any tool results, then act on any text."""
    messages = request.messages
    if COMPACTION_MARKER in request.system:
        return Reply(compaction_summary(_without_summary_request(messages)))
    last = messages[-1] if messages and messages[-1].get("role") == "user" else {}
    results = blocks_of(last, "tool_result") if last else []
    if len(results) > 1 and _orchestrating(messages):
        return Reply(aggregate(results, messages))
    report = report_results(results, messages) if last else ""
    said = INJECTED.sub("", message_text(last)).strip() if last else ""
    if not said:
        return Reply(report or help_text(request.agent_level))
    answer = respond(said, request)
    return Reply("\n\n".join(p for p in (report, answer.text) if p), answer.calls)


def _without_summary_request(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation to summarise, without the engine's closing request to summarise it."""
    if not messages or messages[-1].get("role") != "user" or isinstance(messages[-1]["content"], str):
        return messages
    content = [b for b in messages[-1]["content"] if b.get("text") != SUMMARY_REQUEST]
    return messages[:-1] + ([{"role": "user", "content": content}] if content else [])


@dataclass(frozen=True)
class Intent:
    """A tool call a rule wants to make, before checking that the tool is offered."""

    tool: str
    inputs: list[dict[str, Any]]
    say: str


def respond(said: str, request: BrainRequest) -> Reply:
    if said.startswith(RETURNED_RESULT_PREFIX):
        head = said.split("\n", 1)[0].removeprefix(RETURNED_RESULT_PREFIX).rstrip(":")
        return Reply(f"Noted the result from the {head}. It is in my context now; ask me about it.")
    offers_task = any(t.name == "Task" for t in request.tools)
    if ORCHESTRATE_MARKER in said and offers_task:
        return _plan(said)
    if request.agent_level > 1 and offers_task and len(paths_in(said)) > 1:
        return _fan_out(paths_in(said)[:3])
    if _CONVERSATION.search(said):
        earlier = request.messages[:-1]
        if not earlier:
            return Reply("There is no earlier conversation to summarise yet.")
        return Reply(summarise_conversation(earlier))
    if (skill := _skill(said, request)) is not None:
        return skill
    intent = next((i for rule in _RULES if (i := rule(said)) is not None), None)
    if intent is None:
        return Reply(help_text(request.agent_level, said))
    offered = {t.name.lower(): t.name for t in request.tools}
    name = offered.get(intent.tool.lower())
    if name is None:
        return Reply(
            f"That needs the `{intent.tool}` tool ({intent.say.rstrip('.')}), "
            "but this agent is not offered it, so I can't do that here."
        )
    return Reply(intent.say, tuple(Call(name, i) for i in intent.inputs))


# --- skills: loaded when the task shares enough words with a skill's description -----------

_SKILL_LINE = re.compile(r"^- ([a-z0-9][a-z0-9-]*): (.+)$", re.M)
_WORD = re.compile(r"[a-z]{4,}")
_COMMON = frozenset({"this", "that", "with", "from", "when", "what", "your", "have", "will", "into", "about",
                     "them", "they", "then", "than", "please", "should", "would", "could", "make", "also"})  # fmt: skip
SKILL_MATCH_WORDS = 2  # shared significant words that make a skill match


def _significant(text: str) -> set[str]:
    return {word.rstrip("s") for word in _WORD.findall(text.lower())} - _COMMON


def _skill(said: str, request: BrainRequest) -> Reply | None:
    """The Skill call for the listed skill whose description best matches the task, unless it is loaded."""
    tool = next((t for t in request.tools if t.name == "Skill"), None)
    if tool is None:
        return None
    words = _significant(said)
    scored = [
        (len(words & _significant(f"{name.replace('-', ' ')} {about}")), name)
        for name, about in _SKILL_LINE.findall(tool.description)
    ]
    shared, name = max(scored, default=(0, ""))
    loaded = any(f'<primer name="{name}"' in message_text(m) for m in request.messages)
    if shared < SKILL_MATCH_WORDS or loaded:
        return None
    return Reply(f"The skill `{name}` matches this task: loading it first.", (Call(tool.name, {"skill": name}),))


# --- orchestration: a rule-based plan, fanned out and aggregated ---------------------------

_MAJOR_PARTS = re.compile(r"\s*(?:;|\n)\s*")
_MINOR_PARTS = re.compile(r"\s*(?:,|\band\b|\bthen\b)\s*", re.I)
_PART_WORDS = 2  # fewer words than this is a fragment ("docs"), not a component


def _goal(said: str) -> str:
    return said.split(ORCHESTRATE_MARKER, 1)[1].split("\n\n", 1)[0].strip()


def _plan(said: str) -> Reply:
    """Components are the goal's clauses; files named in one clause stay together."""
    goal = _goal(said)
    parts: list[str] = []
    for splitter in (_MAJOR_PARTS, _MINOR_PARTS):
        parts = [p.strip(" .") for p in splitter.split(goal) if len(p.split()) >= _PART_WORDS]
        if len(parts) >= 2:
            break
    if len(parts) < 2:
        parts = [f"read {path} and summarise it" for path in paths_in(goal)] or [goal]
    parts = parts[:5]
    calls = tuple(Call("Task", {"description": clip(" ".join(p.split()[:6]), 48), "prompt": p}) for p in parts)
    plan = "\n".join(f"{n}. {p}" for n, p in enumerate(parts, 1))
    return Reply(f'Plan for "{clip(goal, 120)}" — {len(parts)} component(s), in parallel:\n\n{plan}', calls)


def _fan_out(paths: list[str]) -> Reply:
    calls = tuple(Call("Task", {"description": f"read {p}", "prompt": f"read {p} and summarise it"}) for p in paths)
    return Reply(f"This component covers {len(paths)} files: one sub-agent each.", calls)


def _orchestrating(messages: list[dict[str, Any]]) -> bool:
    users = [m for m in messages if m.get("role") == "user"]
    return any(ORCHESTRATE_MARKER in message_text(m) for m in users[-2:])


_REPORTER_LINE = re.compile(r"^Sub-agent (?P<who>\S+) \('(?P<what>[^']*)'\) (?P<how>reports:|did not finish.*)$")


def aggregate(results: list[dict[str, Any]], messages: list[dict[str, Any]]) -> str:
    """One answer from several sub-agents' summaries, then who did what."""
    answers, ledger = [], []
    for block in results:
        text = result_text(block).strip()
        head, _, body = text.partition("\n")
        match = _REPORTER_LINE.match(head)
        who, what = (match["who"], match["what"]) if match else ("a sub-agent", "")
        body = body.strip() if match else text
        first = next((line.strip("> ").strip() for line in body.splitlines() if line.strip()), "(nothing)")
        answers.append(f"### {what or who}\n\n{body}")
        status = "failed" if block.get("is_error") else "done"
        ledger.append(f"- {who} · {what} · {status}: {clip(first, 100)}")
    return "## Aggregated result\n\n" + "\n\n".join(answers) + "\n\n## Who did what\n\n" + "\n".join(ledger)


_CONVERSATION = re.compile(
    r"\b(?:summari[sz]e|recap|sum\s+up)\b.*\b(?:conversation|chat|session|discussion|so\s+far)\b|^\s*recap\b",
    re.IGNORECASE | re.DOTALL,
)

_DELEGATE = (
    re.compile(r"^\s*delegate(?:\s+to\s+(?:a\s+)?sub-?agent)?\s*[:\-–]\s*(?P<task>.+)", re.I | re.S),
    re.compile(r"\bdelegate\s+(?P<task>.+?)\s+to\s+(?:a\s+)?(?:sub-?agent|child(?:\s+agent)?|helper)\b", re.I | re.S),
    re.compile(r"\b(?:ask|have|get)\s+a\s+sub-?agent\s+to\s+(?P<task>.+)", re.I | re.S),
    re.compile(r"^\s*delegate\s+(?P<task>.+)", re.I | re.S),
)


def _delegate(said: str) -> Intent | None:
    match = next((m for p in _DELEGATE if (m := p.search(said))), None)
    if match is None:
        return None
    task = match["task"].strip().rstrip(".!")
    description = clip(" ".join(task.split()[:6]), 48)
    return Intent("Task", [{"description": description, "prompt": task}], f"Delegating to a sub-agent: {description}.")


_RUN_QUOTED = re.compile(r"\brun\s+`([^`]+)`", re.I)
_RUN_TESTS = re.compile(r"\brun\s+(?:all\s+)?(?:the\s+)?(?:unit\s+)?tests?\b", re.I)
_RUN_BARE = re.compile(r"^\s*(?:please\s+)?run\s+(?P<command>[^\n]+)", re.I)
# "run the app", "run through the plan": English, not a command line
_NOT_COMMANDS = frozenset({"the", "a", "an", "this", "that", "it", "through", "me", "us", "over", "by"})


def _run(said: str) -> Intent | None:
    if match := _RUN_QUOTED.search(said):
        command = match[1].strip()
    elif _RUN_TESTS.search(said):
        command = TEST_COMMAND
    elif (match := _RUN_BARE.search(said)) and match["command"].split()[0].lower() not in _NOT_COMMANDS:
        command = match["command"].strip()
    else:
        return None
    return Intent("Bash", [{"command": command}], f"Running `{command}`.")


_TARGET = r"(?:\s+(?:in|under)\s+(?P<where>[\w./~*-]+))?\s*[.?!]?\s*$"
_SEARCH = (
    re.compile(
        r"\b(?:grep|search)\b(?:\s+(?:the\s+)?(?:code(?:base)?|repo(?:sitory)?|project|workspace|files))?"
        r"(?:\s+for)?\s+(?P<what>.+?)" + _TARGET,
        re.I | re.S,
    ),
    re.compile(
        r"\b(?:find|show)\s+(?:all\s+)?(?:usages|uses|references|occurrences|mentions)\s+of\s+(?P<what>.+?)" + _TARGET,
        re.I | re.S,
    ),
)
_QUOTED = re.compile(r"`([^`]+)`|\"([^\"]+)\"|'([^']+)'")


def _search(said: str) -> Intent | None:
    match = next((m for p in _SEARCH if (m := p.search(said))), None)
    if match is None:
        return None
    what = match["what"].strip()
    if quoted := _QUOTED.search(what):
        what = next(g for g in quoted.groups() if g)
    grep: dict[str, Any] = {"pattern": what}
    if match["where"]:
        grep["path"] = match["where"]
    place = f" in `{match['where']}`" if match["where"] else ""
    return Intent("Grep", [grep], f"Searching for `{what}`{place}.")


_KINDS = {
    "python": "*.py", "py": "*.py", "test": "test_*.py", "markdown": "*.md", "md": "*.md",
    "yaml": "*.yaml", "yml": "*.yml", "json": "*.json", "toml": "*.toml", "javascript": "*.js",
    "js": "*.js", "typescript": "*.ts", "ts": "*.ts", "rust": "*.rs", "go": "*.go", "text": "*.txt",
    "txt": "*.txt", "css": "*.css", "tcss": "*.tcss", "html": "*.html", "shell": "*.sh", "sh": "*.sh",
}  # fmt: skip
_LIST_VERB = re.compile(r"\b(?:list|find|show|which|locate|where)\b", re.I)
_FIND_VERB = re.compile(r"\b(?:find|locate|where)\b", re.I)
_GLOB_TOKEN = re.compile(r"[\w./~-]*\*[\w./*-]*")
_EXT_FILES = re.compile(r"(?<![\w.])\.(?P<ext>\w+)\s+files\b", re.I)
_KIND_FILES = re.compile(r"\b(?P<kind>\w+)\s+files\b", re.I)
_FILES = re.compile(r"\bfiles\b", re.I)
_DIRECTORY = re.compile(r"\b(?:in|under|inside)\s+(?P<dir>[\w./~-]+)", re.I)
_NOT_DIRECTORIES = frozenset({"the", "this", "a", "an", "my", "our", "here", "there", "it", "all", "your"})


def _glob(said: str) -> Intent | None:
    if not _LIST_VERB.search(said):
        return None
    kind = _KIND_FILES.search(said)
    if token := _GLOB_TOKEN.search(said):
        pattern = token[0]
    elif ext := _EXT_FILES.search(said):
        pattern = f"*.{ext['ext']}"
    elif kind and kind["kind"].lower() in _KINDS:
        pattern = _KINDS[kind["kind"].lower()]
    elif _FILES.search(said):
        pattern = "*"
    elif _FIND_VERB.search(said) and (paths := paths_in(said)):
        pattern = paths[0]
    else:
        return None
    if "/" not in pattern and not pattern.startswith("**"):
        pattern = f"**/{pattern}"
    place = _DIRECTORY.search(said)
    if place and place["dir"].lower() not in _NOT_DIRECTORIES and not pattern.startswith(place["dir"]):
        pattern = f"{place['dir'].rstrip('/')}/{pattern}"
    return Intent("Glob", [{"pattern": pattern}], f"Listing files matching `{pattern}`.")


_READ_VERB = re.compile(
    r"\b(?:read|open|show|cat|view|display|print|summari[sz]e|explain|describe|look\s+at|check"
    r"|tell\s+me\s+about|what['’]?s\s+in|what\s+is\s+in|what\s+does|contents?\s+of)\b",
    re.I,
)


def _read(said: str) -> Intent | None:
    paths = paths_in(said)[:3]
    if not paths or not _READ_VERB.search(said):
        return None
    names = ", ".join(f"`{p}`" for p in paths)
    return Intent("Read", [{"file_path": p} for p in paths], f"Reading {names}.")


# Order matters: the first rule that matches wins ("delegate: read x.md" delegates).
_RULES = (_delegate, _run, _search, _glob, _read)


def help_text(agent_level: int, said: str = "") -> str:
    if agent_level > 1 and said:
        return (
            f'Sub-agent on the offline scripted brain. Task received: "{clip(said, 200)}". '
            "No rule matched it, so nothing was done: this brain only reads, lists, searches, "
            "runs commands and summarises. Set ANTHROPIC_API_KEY to have Claude do such tasks."
        )
    return (
        "I'm the offline scripted brain: I follow fixed rules and am not a language model, "
        "so I only understand requests like these:\n"
        "- `read README.md`, `explain src/app.py` — read a file and quote its key lines\n"
        "- `list python files`, `find *.md` — list files\n"
        "- `search for TODO` — search the workspace\n"
        "- `run the tests`, ``run `ls -la` `` — run a command\n"
        "- `delegate: write the changelog` — hand a task to a sub-agent\n"
        "- `summarise the conversation`\n\n"
        "To work with Claude instead, set ANTHROPIC_API_KEY and restart."
    )


# --- reporting tool results ----------------------------------------------------------------


def report_results(results: list[dict[str, Any]], messages: list[dict[str, Any]]) -> str:
    calls = tool_calls(messages)
    reports = []
    for block in results:
        name, tool_input = calls.get(block.get("tool_use_id", ""), ("", {}))
        reporter = _REPORTERS.get(name.lower(), _report_other)
        reports.append(reporter(name, tool_input, result_text(block), bool(block.get("is_error"))))
    return "\n\n".join(reports)


def _report_read(name: str, tool_input: dict[str, Any], text: str, failed: bool) -> str:
    path = tool_input.get("file_path", "the file")
    if failed:
        return _failure(name, path, text)
    if _EMPTY.match(text.strip()):
        return f"`{path}` is empty."
    body, unread = _read_body(text)
    lines = len(body.splitlines()) + unread
    return f"`{path}` has {_count(lines, 'line')}.\n\n{summarise_text(body, 5)}"


def _report_glob(name: str, tool_input: dict[str, Any], text: str, failed: bool) -> str:
    pattern = tool_input.get("pattern", "")
    if failed:
        return _failure(name, pattern, text)
    items, total = _listing(text)
    if not items:
        return f"No files match `{pattern}`."
    return f"Found {_count(total, 'file')} matching `{pattern}`:\n{_bulleted(items)}{_more(total)}"


def _report_grep(name: str, tool_input: dict[str, Any], text: str, failed: bool) -> str:
    pattern = tool_input.get("pattern", "")
    if failed:
        return _failure(name, pattern, text)
    items, total = _listing(text)
    if not items:
        return f"No matches for `{pattern}`."
    if tool_input.get("output_mode") == "content":
        found, listed = f"{_count(total, 'matching line')} for", _fenced(items[:LISTED_ITEMS])
    else:  # the Grep tool lists the files that match unless asked for lines
        found, listed = f"{_count(total, 'file')} containing", _bulleted(items)
    return f"Found {found} `{pattern}`:\n{listed}{_more(total)}"


def _report_bash(name: str, tool_input: dict[str, Any], text: str, failed: bool) -> str:
    command = tool_input.get("command", "")
    outcome = "failed" if failed else "finished"
    lines = text.rstrip().splitlines()
    if not lines:
        return f"`{command}` {outcome} with no output."
    # the end of a command's output holds its verdict (a test summary, the error)
    shown = lines[-20:]
    cut = f", last {len(shown)} shown" if len(shown) < len(lines) else ""
    return f"`{command}` {outcome}. Output ({_count(len(lines), 'line')}{cut}):\n{_fenced(shown)}"


def _report_task(name: str, tool_input: dict[str, Any], text: str, failed: bool) -> str:
    description = tool_input.get("description", "the task")
    if failed:
        return f'The sub-agent for "{description}" failed: {text.strip()}'
    return f'The sub-agent finished "{description}". Its summary:\n\n{text.strip()}'


def _report_other(name: str, tool_input: dict[str, Any], text: str, failed: bool) -> str:
    label = f"`{name}`" if name else "A tool"
    if failed:
        return _failure(name or "tool", "", text)
    lines = text.rstrip().splitlines()
    if not lines:
        return f"{label} returned nothing."
    return f"{label} returned {_count(len(lines), 'line')}:\n{_fenced(lines[:LISTED_ITEMS])}{_more(len(lines))}"


_REPORTERS = {
    "read": _report_read,
    "glob": _report_glob,
    "grep": _report_grep,
    "bash": _report_bash,
    "task": _report_task,
}


def _failure(name: str, subject: str, text: str) -> str:
    target = f" for `{subject}`" if subject else ""
    lines = text.strip().splitlines() or ["(no error message)"]
    if len(lines) == 1:
        return f"`{name}` failed{target}: {lines[0]}"
    return f"`{name}` failed{target}:\n{_fenced(lines[:LISTED_ITEMS])}"


_EMPTY = re.compile(r"^\((?:.* is )?empty\)$")  # the Read tool's "(README.md is empty)"
_NUMBERED = re.compile(r"^\s*\d+(?:\t|→)")
_UNREAD = re.compile(r"^\[(\d+) more lines")  # the Read tool's note on a file read in part
_NOTE = re.compile(r"^\[.*\]$")  # a tool's remark on its own output, not a result line
_TOTAL = re.compile(r"\bof ([\d,]+) (?:matches|lines)\b")  # "[showing the first 100 of 250 lines]"


def _read_body(text: str) -> tuple[str, int]:
    """The file's text without the ``cat -n`` numbering the Read tool adds, and how many lines it left unread."""
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not _NUMBERED.match(first):
        return text, 0
    unread = sum(int(m[1]) for line in lines if (m := _UNREAD.match(line)))
    return "\n".join(_NUMBERED.sub("", line, count=1) for line in lines if _NUMBERED.match(line)), unread


def _listing(text: str) -> tuple[list[str], int]:
    """The result lines of a listing and the total the tool reports; a lone "No matches ..." means none."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    items = [line for line in lines if not _NOTE.match(line)]
    if len(items) == 1 and items[0].lower().startswith(("no ", "0 ")):
        return [], 0
    totals = [int(m[1].replace(",", "")) for line in lines if _NOTE.match(line) and (m := _TOTAL.search(line))]
    return items, max([len(items), *totals])


def _more(total: int) -> str:
    extra = total - LISTED_ITEMS
    return f"\n… and {extra} more" if extra > 0 else ""


def _bulleted(paths: list[str]) -> str:
    return "\n".join(f"- `{path}`" for path in paths[:LISTED_ITEMS])


def _fenced(lines: list[str]) -> str:
    fence = "````" if any("```" in line for line in lines) else "```"
    return f"{fence}\n" + "\n".join(lines) + f"\n{fence}"


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
