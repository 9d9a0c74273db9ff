"""Primers: parsing, lookup and shadowing, resolution of every placeholder, and every way it can fail."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import SAFETY_NET_S
from workbench.engine.config import Config
from workbench.engine.context.fold import fold, primer_text
from workbench.engine.context.tokens import TokenLedger, default_counter
from workbench.engine.policy.permissions import PermissionPolicy
from workbench.engine.priming.checkpoints import checkpoints_of
from workbench.engine.priming.primers import (
    BUILTIN_DIR,
    CommandDenied,
    CommandTimedOut,
    IncludeCycle,
    Primer,
    PrimerCommandError,
    PrimerDir,
    PrimerFormatError,
    PrimerIncludeError,
    PrimerTooLarge,
    UnknownPrimer,
    find_primer,
    parse_primer,
    primer_catalog,
    primer_dirs,
    resolve,
)
from workbench.frontends.cli.primers import list_primers, show_primer
from workbench.protocol.commands import Approve
from workbench.protocol.events import AgentSpawned, decode_event, encode_event

FIXTURES = Path(__file__).parent / "fixtures" / "claude_code"
BUILTINS = ["bug-smash", "docs", "feature", "refactor", "review", "test"]
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def primer(body: str, front: str = "", name: str = "p", path: Path = Path("/nowhere/p.md")) -> Primer:
    text = f"---\n{front}\n---\n{body}" if front else body
    return parse_primer(text, name=name, path=path, origin="project")


async def run(
    p: Primer,
    arguments: str,
    workspace: Path,
    policy: PermissionPolicy | None = None,
    budget_left: int | None = None,
    **kwargs,
):
    policy = policy or PermissionPolicy(mode="bypass", workspace=workspace)
    return await resolve(p, arguments, workspace, policy, default_counter(), budget_left, **kwargs)


def git(workspace: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=workspace,
        check=True,
        capture_output=True,
    )


# --- parsing -----------------------------------------------------------------------------


def test_front_matter_fields_are_read() -> None:
    p = primer(
        "Body",
        "description: Smash a bug\nargument-hint: <test>\ntools: [Read, 'Bash(git diff:*)']\n"
        "checkpoints: [reproduce, diagnose, fix, validate]\nmodel: claude-opus-4-1\ntimeout: 30",
    )
    assert p.description == "Smash a bug"
    assert p.argument_hint == "<test>"
    assert p.tools == ["Read", "Bash(git diff:*)"]
    assert p.tool_names == ["Read", "Bash"]
    assert [r.text for r in p.command_rules()] == ["Bash(git diff:*)"]
    assert p.checkpoints == ["reproduce", "diagnose", "fix", "validate"]
    assert p.model == "claude-opus-4-1"
    assert p.timeout == 30.0
    assert p.body == "Body"


def test_checkpoints_may_be_an_arrow_chain() -> None:
    assert primer("x", "checkpoints: reproduce → diagnose -> fix, validate").checkpoints == [
        "reproduce",
        "diagnose",
        "fix",
        "validate",
    ]


def test_claude_code_front_matter_that_strict_yaml_rejects_still_reads() -> None:
    p = primer(
        "Review PR #$1",
        "argument-hint: [pr-number] [priority] [assignee]\ndescription: Fix: the login bug, again\n"
        "allowed-tools: Bash(git add:*), Bash(git status:*), Read",
    )
    assert p.argument_hint == "[pr-number] [priority] [assignee]"
    assert p.description == "Fix: the login bug, again"
    assert p.tool_names == ["Bash", "Read"]
    assert [r.text for r in p.command_rules()] == ["Bash(git add:*)", "Bash(git status:*)"]


def test_tools_and_allowed_tools_are_merged_and_a_bare_bash_approves_every_command() -> None:
    p = primer("x", "tools: Read, Bash\nallowed-tools: Grep, Bash(npm run lint *)")
    assert p.tool_names == ["Read", "Bash", "Grep"]
    assert p.offered_tools(["Read", "Write", "Grep", "Bash", "Task"]) == ["Read", "Grep", "Bash"]
    # Claude Code's newer "Bash(cmd *)" is read as our prefix rule; a bare Bash, as there, allows every command
    assert [r.text for r in p.command_rules()] == ["Bash", "Bash(npm run lint:*)"]


def test_no_front_matter_means_no_restrictions_and_the_first_line_describes() -> None:
    p = primer("# Fix issue #$ARGUMENTS\n\nSteps…")
    assert p.tools is None and p.tool_names is None and p.checkpoints == []
    assert p.offered_tools(["Read", "Bash", "Task"]) == ["Read", "Bash", "Task"]
    assert p.description == "Fix issue #$ARGUMENTS"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("---\ndescription: x\nbody without a closing fence", "never closed"),
        ("---\ncheckpoints: [a, b\n---\nbody", "not valid YAML"),
        ("---\n- a\n- b\n---\nbody", "not a list"),
        ("---\ncheckpoints: {a: 1}\n---\nbody", "'checkpoints' must be a list"),
        ("---\ntools: 3\n---\nbody", "'tools' must be a list"),
        ("---\ndescription:\n  - a\n  - b\n---\nbody", "'description' must be text"),
        ("---\ntimeout: -1\n---\nbody", "'timeout' must be a number"),
        ("---\ntimeout: 'slow'\n---\nbody", "'timeout' must be a number"),
        ("---\ncheckpoints: [fix, Fix]\n---\nbody", "listed twice"),
        ('---\ncheckpoints: ["two\\nlines"]\n---\nbody', "must fit on one line"),
    ],
)
def test_broken_front_matter_is_a_format_error_naming_the_file(text: str, complaint: str) -> None:
    with pytest.raises(PrimerFormatError) as caught:
        parse_primer(text, name="broken", path=Path("/p/broken.md"), origin="project")
    assert complaint in str(caught.value)
    assert "/p/broken.md" in str(caught.value)


# --- lookup ------------------------------------------------------------------------------


def put(folder: Path, name: str, description: str) -> Path:
    path = folder / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\ndescription: {description}\n---\nfrom {description}\n")
    return path


def test_lookup_order_is_project_then_claude_then_user_then_builtin(
    workspace: Path, environ: dict[str, str], tmp_path: Path
) -> None:
    dirs = primer_dirs(workspace, environ)
    assert [d.origin for d in dirs] == ["project", "claude", "user", "builtin"]
    project = put(workspace / ".workbench" / "primers", "feature", "project")
    claude = put(workspace / ".claude" / "commands", "feature", "claude")
    user = put(tmp_path / "xdg" / "workbench" / "primers", "feature", "user")
    assert find_primer("feature", dirs).description == "project"
    project.unlink()
    assert find_primer("feature", dirs).description == "claude"
    claude.unlink()
    assert find_primer("feature", dirs).description == "user"
    user.unlink()
    found = find_primer("feature", dirs)
    assert found.origin == "builtin" and found.path == BUILTIN_DIR / "feature.md"


def test_the_catalogue_names_what_each_primer_shadows(workspace: Path, environ: dict[str, str]) -> None:
    put(workspace / ".workbench" / "primers", "review", "our review")
    claude = put(workspace / ".claude" / "commands", "review", "claude review")
    entries = {e.file.name: e for e in primer_catalog(primer_dirs(workspace, environ))}
    review = entries["review"]
    assert review.primer is not None and review.primer.description == "our review"
    assert [(f.origin, f.path) for f in review.shadows] == [("claude", claude), ("builtin", BUILTIN_DIR / "review.md")]
    assert set(BUILTINS) <= set(entries)


def test_user_primers_honour_xdg_config_home_and_default_to_dot_config(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(tmp_path / "xdg" / "workbench" / "primers", "mine", "from xdg")
    assert find_primer("mine", primer_dirs(workspace, {"XDG_CONFIG_HOME": str(tmp_path / "xdg")})).origin == "user"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    put(tmp_path / "home" / ".config" / "workbench" / "primers", "mine", "from home")
    assert find_primer("mine", primer_dirs(workspace, {})).description == "from home"


def test_subfolders_are_namespaces_and_prime_prefix_is_optional(workspace: Path, environ: dict[str, str]) -> None:
    put(workspace / ".claude" / "commands" / "frontend", "component", "component")
    put(workspace / ".claude" / "commands" / "a" / "b", "deep", "deep")
    dirs = primer_dirs(workspace, environ)
    assert find_primer("frontend:component", dirs).description == "component"
    assert find_primer("a:b:deep", dirs).description == "deep"
    assert find_primer("prime-feature", dirs).name == "feature"
    assert find_primer("/prime-bug-smash", dirs).name == "bug-smash"
    # a primer really named prime-x wins over x
    put(workspace / ".workbench" / "primers", "prime-docs", "literal")
    assert find_primer("prime-docs", dirs).description == "literal"


def test_an_unknown_primer_lists_the_known_ones(workspace: Path, environ: dict[str, str]) -> None:
    with pytest.raises(UnknownPrimer) as caught:
        find_primer("nope", primer_dirs(workspace, environ))
    assert "No primer named 'nope'" in str(caught.value) and "bug-smash" in str(caught.value)


def test_a_broken_primer_fails_alone(workspace: Path, environ: dict[str, str]) -> None:
    folder = workspace / ".workbench" / "primers"
    folder.mkdir(parents=True)
    (folder / "bad.md").write_text("---\ncheckpoints: [a\n---\nx")
    dirs = primer_dirs(workspace, environ)
    with pytest.raises(PrimerFormatError):
        find_primer("bad", dirs)
    entries = {e.file.name: e for e in primer_catalog(dirs)}
    assert entries["bad"].primer is None and "not valid YAML" in (entries["bad"].error or "")
    assert entries["feature"].primer is not None


# --- placeholders ------------------------------------------------------------------------


async def test_arguments_and_positional_words_are_substituted_counting_from_zero(workspace: Path) -> None:
    # as Claude Code 2.1 documents it: $0 is the first word, the same as $ARGUMENTS[0]; quotes group words
    p = primer("all=[$ARGUMENTS] first=[$0] second=[$1] third=[$ARGUMENTS[2]] missing=[$3] far=[$10]")
    resolved = await run(p, 'tests/test_x.py "feature flag" now', workspace)
    assert resolved.text == (
        'all=[tests/test_x.py "feature flag" now] first=[tests/test_x.py] second=[feature flag] third=[now] '
        "missing=[] far=[]"
    )


async def test_a_body_without_a_placeholder_gets_the_arguments_appended(workspace: Path) -> None:
    resolved = await run(primer("Review the open pull request."), "123 high", workspace)
    assert resolved.text == "Review the open pull request.\n\nARGUMENTS: 123 high"
    assert (await run(primer("Review the open pull request."), "", workspace)).text == "Review the open pull request."
    assert (await run(primer("Review #$0."), "123 high", workspace)).text == "Review #123."


async def test_arguments_are_data_never_directives(workspace: Path) -> None:
    (workspace / "secret.txt").write_text("SECRET")
    resolved = await run(primer("Task: $ARGUMENTS"), "see @secret.txt and !`touch pwned`", workspace)
    assert resolved.text == "Task: see @secret.txt and !`touch pwned`"
    assert not (workspace / "pwned").exists() and resolved.includes == [] and resolved.commands == []


async def test_at_path_includes_the_file(workspace: Path) -> None:
    (workspace / "src").mkdir()
    (workspace / "src" / "app.py").write_text("print('hi')\n")
    resolved = await run(primer("Look at @src/app.py."), "", workspace)
    assert resolved.text == "Look at <file path=\"src/app.py\">\nprint('hi')\n</file>."
    assert resolved.includes == ["src/app.py"]


async def test_at_positional_includes_the_named_file(workspace: Path) -> None:
    (workspace / "notes.md").write_text("the notes")
    resolved = await run(primer("Read @$0 for $1"), "notes.md context", workspace)
    assert resolved.text == 'Read <file path="notes.md">\nthe notes\n</file> for context'


async def test_at_signs_in_code_emails_and_fences_are_text(workspace: Path) -> None:
    body = "Mail a@b.com; use `@dataclass` and ``@x``.\n```python\n@property\ndef f(): ...\n```\n"
    assert (await run(primer(body), "", workspace)).text == body.strip("\n")


async def test_at_arguments_includes_every_argument_that_names_a_file(workspace: Path) -> None:
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_login.py").write_text("def test_login(): ...")
    (workspace / "app.py").write_text("APP")
    outside = workspace.parent / "outside.txt"
    outside.write_text("OUTSIDE")
    resolved = await run(
        primer("Files:\n@$ARGUMENTS"),
        f"fix tests/test_login.py::test_login crash in app.py:42 and {outside} missing.py app.py",
        workspace,
    )
    assert resolved.includes == ["tests/test_login.py", "app.py"]
    assert "APP" in resolved.text and "def test_login" in resolved.text and "OUTSIDE" not in resolved.text
    empty = await run(primer("Files:\n@$ARGUMENTS"), "just words", workspace)
    assert empty.text == "Files:\n(no file of the workspace is named in the arguments)"


async def test_command_output_is_included_and_arguments_are_quoted(workspace: Path) -> None:
    p = primer("Out: !`printf '%s|' $ARGUMENTS` and !`echo $0`")
    resolved = await run(p, "a 'b c' ;touch pwned", workspace)
    assert resolved.text == "Out: a|b c|;touch|pwned| and a"
    assert not (workspace / "pwned").exists()
    assert resolved.commands == ["printf '%s|' a 'b c' ';touch' pwned", "echo a"]


# --- nested includes ----------------------------------------------------------------------


async def test_included_markdown_includes_relative_files_and_leaves_other_at_words(workspace: Path) -> None:
    docs = workspace / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text("Guide, thanks @octocat.\nSee @part.md\nNot run: !`touch ran`\n")
    (docs / "part.md").write_text("PART")
    (workspace / "code.py").write_text("@decorator_file_name\n")
    (workspace / "decorator_file_name").write_text("NO")
    resolved = await run(primer("@docs/guide.md @code.py"), "", workspace)
    assert '<file path="docs/part.md">\nPART\n</file>' in resolved.text
    assert "thanks @octocat." in resolved.text and "!`touch ran`" in resolved.text
    assert not (workspace / "ran").exists()
    assert "NO" not in resolved.text  # source files are data: no includes inside them
    assert resolved.includes == ["docs/guide.md", "docs/part.md", "code.py"]


async def test_an_include_cycle_is_an_error_naming_the_loop(workspace: Path) -> None:
    (workspace / "a.md").write_text("A includes @b.md")
    (workspace / "b.md").write_text("B includes @a.md")
    with pytest.raises(IncludeCycle) as caught:
        await run(primer("@a.md"), "", workspace)
    assert "a.md → b.md → a.md" in str(caught.value)


async def test_a_primer_including_itself_is_a_cycle(workspace: Path, environ: dict[str, str]) -> None:
    folder = workspace / ".workbench" / "primers"
    folder.mkdir(parents=True)
    (folder / "self.md").write_text("Me: @.workbench/primers/self.md")
    with pytest.raises(IncludeCycle):
        await run(find_primer("self", primer_dirs(workspace, environ)), "", workspace)


async def test_includes_nested_too_deep_are_an_error(workspace: Path) -> None:
    for i in range(7):
        (workspace / f"n{i}.md").write_text(f"level {i} @n{i + 1}.md")
    (workspace / "n7.md").write_text("bottom")
    with pytest.raises(PrimerIncludeError, match="nested more than 5 deep"):
        await run(primer("@n0.md"), "", workspace)
    (workspace / "n4.md").write_text("level 4, stops here")
    resolved = await run(primer("@n0.md"), "", workspace)
    assert resolved.includes == [f"n{i}.md" for i in range(5)]


# --- include failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "arguments", "note"),
    [
        ("@missing.md", "", "@missing.md was left as text: it is not a file of the workspace"),
        ("@../outside.txt", "", "outside the workspace"),
        ("@/etc/hostname", "", "outside the workspace"),
        ("@sub", "", "@sub was left as text: it is a folder, not a file"),
        ("@/components/Button", "", "@/components/Button was left as text"),  # a TypeScript path alias
        ("@types/node", "", "@types/node was left as text"),
        ("@$0", "nothere.py", "@nothere.py was left as text"),
    ],
)
async def test_an_at_that_names_no_file_is_left_as_text_with_a_note(
    workspace: Path, body: str, arguments: str, note: str
) -> None:
    (workspace.parent / "outside.txt").write_text("x")
    (workspace / "sub").mkdir()
    resolved = await run(primer(f"Before {body} after"), arguments, workspace)
    shown = body.replace("$0", arguments)
    assert resolved.text == f"Before {shown} after" and resolved.includes == []
    assert len(resolved.notes) == 1 and note in resolved.notes[0]


@pytest.mark.parametrize(
    ("body", "arguments", "complaint"),
    [
        ("@blob.bin", "", "binary"),
        ("@latin1.txt", "", "not UTF-8"),
        ("@$0", "", "no argument was given"),
    ],
)
async def test_include_failures_are_clear_errors(workspace: Path, body: str, arguments: str, complaint: str) -> None:
    (workspace.parent / "outside.txt").write_text("x")
    (workspace / "sub").mkdir()
    (workspace / "blob.bin").write_bytes(b"\x00\x01binary")
    (workspace / "latin1.txt").write_bytes("café".encode("latin-1"))
    with pytest.raises(PrimerIncludeError) as caught:
        await run(primer(f"Before {body} after"), arguments, workspace)
    assert complaint in str(caught.value)


async def test_an_oversized_include_is_refused(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("workbench.engine.priming.primers.MAX_INCLUDE_BYTES", 100)
    (workspace / "big.txt").write_text("x" * 101)
    with pytest.raises(PrimerIncludeError, match="larger than"):
        await run(primer("@big.txt"), "", workspace)


# --- commands and permissions --------------------------------------------------------------


class Approver:
    """Answers every approval with one choice; "always" rules join ``policy``, as a session's log would add them."""

    def __init__(self, choice: str, policy: PermissionPolicy | None = None) -> None:
        self.choice = choice
        self.policy = policy
        self.requests: list[dict] = []

    async def approval(self, agent: str, **asked) -> Approve:
        self.requests.append({"agent": agent, **asked})
        return Approve(request_id="r", choice=self.choice, reason="not now" if self.choice == "deny" else "")  # type: ignore[arg-type]

    async def remember(self, rule: str, source: str) -> None:
        if self.policy is not None:
            self.policy.add_rule("allow", rule)


async def test_a_denied_command_is_an_error_and_does_not_run(workspace: Path) -> None:
    policy = PermissionPolicy(mode="bypass", deny=["Bash(touch:*)"], workspace=workspace)
    with pytest.raises(CommandDenied, match=r"Denied by the rule Bash\(touch:\*\)"):
        await run(primer("!`touch ran`"), "", workspace, policy)
    assert not (workspace / "ran").exists()


async def test_a_command_that_would_ask_needs_an_approver(workspace: Path) -> None:
    policy = PermissionPolicy(mode="default", workspace=workspace)
    with pytest.raises(CommandDenied) as caught:
        await run(primer("!`touch ran`"), "", workspace, policy)
    assert "needs approval" in str(caught.value) and "Bash(touch ran:*)" in str(caught.value)
    assert not (workspace / "ran").exists()


async def test_the_approver_decides_what_would_ask(workspace: Path) -> None:
    policy = PermissionPolicy(mode="default", workspace=workspace)
    once = Approver("allow_once")
    await run(primer("!`touch ran`"), "", workspace, policy, approver=once, agent_id="primary")
    assert (workspace / "ran").exists()
    assert once.requests[0]["subject"] == "touch ran" and once.requests[0]["agent"] == "primary"
    assert "primer p" in once.requests[0]["preview"]
    assert policy.allow == []
    denied = Approver("deny")
    with pytest.raises(CommandDenied, match="denied: not now"):
        await run(primer("!`touch again`"), "", workspace, policy, approver=denied)
    assert not (workspace / "again").exists()
    await run(primer("!`ls -a`"), "", workspace, policy, approver=Approver("allow_always", policy))
    assert [r.text for r in policy.allow] == ["Bash(ls:*)"]


async def test_the_primers_own_bash_rules_pre_approve_its_commands(workspace: Path) -> None:
    policy = PermissionPolicy(mode="default", workspace=workspace)
    approved = primer("!`echo hello`", "tools: Read, Bash(echo:*)")
    assert (await run(approved, "", workspace, policy)).text == "hello"
    # a bare Bash, as in Claude Code's allowed-tools, pre-approves every command of the primer
    assert (await run(primer("!`echo hello`", "allowed-tools: Bash"), "", workspace, policy)).text == "hello"
    # without a Bash entry the command goes through the permission policy, which asks here
    with pytest.raises(CommandDenied, match="needs approval"):
        await run(primer("!`echo hello`", "allowed-tools: Read"), "", workspace, policy)
    # the user's own ask and deny rules still win over the primer's
    asking = PermissionPolicy(mode="default", ask=["Bash(echo:*)"], workspace=workspace)
    approver = Approver("allow_once")
    await run(approved, "", workspace, asking, approver=approver)
    assert len(approver.requests) == 1
    denying = PermissionPolicy(mode="default", deny=["Bash(echo:*)"], workspace=workspace)
    with pytest.raises(CommandDenied):
        await run(approved, "", workspace, denying)


async def test_plan_mode_refuses_commands_even_pre_approved_ones(workspace: Path) -> None:
    policy = PermissionPolicy(mode="plan", workspace=workspace)
    with pytest.raises(CommandDenied, match="Plan mode"):
        await run(primer("!`echo hi`", "tools: Bash(echo:*)"), "", workspace, policy)


async def test_a_failing_command_is_an_error_with_its_output_and_stops_resolution(workspace: Path) -> None:
    p = primer("!`echo first > first.txt` !`echo boom; exit 3` !`touch later`")
    with pytest.raises(PrimerCommandError) as caught:
        await run(p, "", workspace)
    message = str(caught.value)
    assert "exit code 3" in message and "boom" in message and "echo boom; exit 3" in message
    assert (workspace / "first.txt").exists() and not (workspace / "later").exists()


async def test_a_slow_command_times_out_promptly(workspace: Path) -> None:
    # the command would take ten minutes: returning at all within the safety net is returning at the timeout
    with pytest.raises(CommandTimedOut, match="within 0.3 s"):
        await asyncio.wait_for(run(primer("!`sleep 600`"), "", workspace, timeout=0.3), SAFETY_NET_S)
    with pytest.raises(CommandTimedOut, match="within 0.2 s"):
        await asyncio.wait_for(run(primer("!`sleep 600`", "timeout: 0.2"), "", workspace), SAFETY_NET_S)


async def test_a_command_with_no_output_says_so(workspace: Path) -> None:
    assert (await run(primer("[!`true`]"), "", workspace)).text == "[(no output)]"


# --- budget, hash and tokens ---------------------------------------------------------------


async def test_a_result_over_the_budget_is_refused_with_its_size(workspace: Path) -> None:
    (workspace / "big.md").write_text("word " * 400)
    p = primer("@big.md")
    tokens = (await run(p, "", workspace)).tokens
    assert (await run(p, "", workspace, budget_left=tokens)).tokens == tokens
    with pytest.raises(PrimerTooLarge) as caught:
        await run(p, "", workspace, budget_left=tokens - 1)
    assert caught.value.tokens == tokens and caught.value.budget_left == tokens - 1
    assert f"{tokens:,} tokens" in str(caught.value) and "nothing was injected" in str(caught.value)


async def test_the_token_count_is_what_the_ledger_counts_and_what_fold_sends(workspace: Path) -> None:
    (workspace / "notes.md").write_text("Some notes about the parser.\n" * 20)
    p = primer("Fix $0 using @notes.md and !`echo ready`", "checkpoints: [a, b]", name="bug")
    resolved = await run(p, "parser.py", workspace)
    counter = default_counter()
    event = resolved.event().model_copy(update={"seq": 2, "agent": "primary"})
    ledger = TokenLedger("primary", counter)
    ledger.observe(event)
    assert ledger.categories["primers"] == resolved.tokens
    recounting = TokenLedger("primary", counter)  # a Primed event without a stored count
    recounting.observe(event.model_copy(update={"tokens": 0}))
    assert recounting.categories["primers"] == resolved.tokens
    spawn = AgentSpawned(seq=1, agent="primary")
    [message] = fold([spawn, event]).messages
    assert counter.count(message["content"][0]["text"]) == resolved.tokens
    assert message["content"][0]["text"] == primer_text(event)


async def test_the_primed_event_reproduces_exactly_what_was_injected(workspace: Path) -> None:
    resolved = await run(primer("Hello $0 !`echo there`", "checkpoints: [one, two]"), "world", workspace)
    assert resolved.sha256 == hashlib.sha256(resolved.text.encode()).hexdigest()
    event = resolved.event()
    assert (event.primer, event.arguments, event.text, event.tokens) == ("p", "world", resolved.text, resolved.tokens)
    again = decode_event(encode_event(event))
    assert again == event
    spawn = AgentSpawned(seq=1, agent="a")
    assert (
        fold([spawn, again.model_copy(update={"agent": "a"})]).messages
        == fold([spawn, event.model_copy(update={"agent": "a"})]).messages
    )
    assert resolved.text.startswith("Hello world there\n\n<checkpoints>")
    assert checkpoints_of(resolved.text) == ["one", "two"]


# --- Claude Code commands, unchanged ----------------------------------------------------------


@pytest.fixture
def claude_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(FIXTURES, project)
    return project


def test_claude_code_commands_are_found_with_their_namespaces(claude_project: Path, environ: dict[str, str]) -> None:
    entries = {e.file.name: e for e in primer_catalog(primer_dirs(claude_project, environ))}
    for name in ("commit", "review-pr", "fix-issue", "frontend:component"):
        assert entries[name].file.origin == "claude" and entries[name].primer is not None, name
    commit = entries["commit"].primer
    assert commit is not None
    assert commit.argument_hint == "[message]" and commit.model == "claude-3-5-haiku-20241022"
    assert [r.text for r in commit.command_rules()] == ["Bash(git add:*)", "Bash(git status:*)", "Bash(git commit:*)"]


async def test_a_namespaced_command_with_positionals_and_a_file(claude_project: Path, environ: dict[str, str]) -> None:
    p = find_primer("frontend:component", primer_dirs(claude_project, environ))
    resolved = await run(p, "Card title", claude_project)
    assert "Create a React component named Card with props title." in resolved.text
    assert '<file path="src/components/Button.tsx">\nexport function Button' in resolved.text
    assert "Use `@testing-library/react` for its test, and name it `Card.test.tsx`." in resolved.text
    assert p.tool_names == ["Read", "Write", "Edit", "Bash"]


async def test_review_pr_and_fix_issue(claude_project: Path, environ: dict[str, str]) -> None:
    dirs = primer_dirs(claude_project, environ)
    review = await run(find_primer("review-pr", dirs), "456 high alice", claude_project)
    assert review.text.startswith("Review PR #456 with priority high and assign to alice.")
    fix = await run(find_primer("fix-issue", dirs), "123", claude_project)
    assert fix.text.startswith("Find and fix issue #123. Follow these steps:")


@needs_git
async def test_commit_runs_its_allowed_commands_and_asks_about_the_rest(
    claude_project: Path, environ: dict[str, str]
) -> None:
    git(claude_project, "init", "-q", "-b", "main")
    git(claude_project, "add", ".")
    git(claude_project, "commit", "-q", "-m", "first")
    (claude_project / "src" / "components" / "Button.tsx").write_text("changed\n")
    commit = find_primer("commit", primer_dirs(claude_project, environ))
    policy = PermissionPolicy(mode="default", workspace=claude_project)
    # git status is pre-approved by allowed-tools; git diff HEAD is not
    with pytest.raises(CommandDenied, match=r"git diff HEAD.*needs approval"):
        await run(commit, "", claude_project, policy)
    approver = Approver("allow_once")
    resolved = await run(commit, "", claude_project, policy, approver=approver)
    assert [r["subject"] for r in approver.requests] == [
        "git diff HEAD",
        "git branch --show-current",
        "git log --oneline -10",
    ]
    assert "modified:   src/components/Button.tsx" in resolved.text
    assert "+changed" in resolved.text and "Current branch: main" in resolved.text and "first" in resolved.text


# --- the built-in primers ----------------------------------------------------------------------


def test_every_builtin_primer_is_complete() -> None:
    assert sorted(p.stem for p in BUILTIN_DIR.glob("*.md")) == BUILTINS
    dirs = [PrimerDir(path=BUILTIN_DIR, origin="builtin")]
    for name in BUILTINS:
        p = find_primer(name, dirs)
        assert p.description and p.argument_hint and len(p.checkpoints) >= 3, name
        assert p.tool_names and {"Read", "Grep", "Bash"} <= set(p.tool_names), name
        assert p.command_rules(), name
    assert find_primer("bug-smash", dirs).checkpoints == ["reproduce", "diagnose", "fix", "validate"]
    # a reviewer reports; it is not offered tools that change files
    assert not {"Edit", "Write"} & set(find_primer("review", dirs).tool_names or [])


@pytest.mark.parametrize("name", BUILTINS)
async def test_builtins_degrade_gracefully_outside_git(
    name: str, workspace: Path, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(workspace.parent))  # no enclosing repository either
    (workspace / "app.py").write_text("def main(): ...\n")
    p = find_primer(name, primer_dirs(workspace, environ))
    # the default mode asks before commands: the built-ins' own rules must cover every one
    resolved = await run(p, "app.py", workspace, PermissionPolicy(mode="default", workspace=workspace))
    assert "not a git repository" in resolved.text
    assert '<file path="app.py">\ndef main(): ...\n</file>' in resolved.text
    assert "$ARGUMENTS" not in resolved.text and "!`" not in resolved.text
    assert checkpoints_of(resolved.text) == p.checkpoints


@needs_git
async def test_review_and_feature_show_the_live_repository(workspace: Path, environ: dict[str, str]) -> None:
    (workspace / "app.py").write_text("def main():\n    return 1\n")
    git(workspace, "init", "-q")
    git(workspace, "add", ".")
    git(workspace, "commit", "-q", "-m", "the first commit")
    (workspace / "app.py").write_text("def main():\n    return 2\n")
    (workspace / "new.py").write_text("NEW = True\n")
    dirs = primer_dirs(workspace, environ)
    policy = PermissionPolicy(mode="default", workspace=workspace)
    review = await run(find_primer("review", dirs), "", workspace, policy)
    assert " M app.py" in review.text and "?? new.py" in review.text
    assert "-    return 1\n+    return 2" in review.text and "the first commit" in review.text
    assert "not a git repository" not in review.text
    feature = await run(find_primer("feature", dirs), "add a flag to app.py", workspace, policy)
    assert "app.py | 2 +-" in feature.text and '<file path="app.py">' in feature.text


async def test_bug_smash_includes_the_failing_tests_output(
    workspace: Path, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    (workspace / "test_math.py").write_text("def test_add():\n    assert 1 + 1 == 3\n")
    p = find_primer("bug-smash", primer_dirs(workspace, environ))
    resolved = await run(p, "test_math.py::test_add wrong sum", workspace, PermissionPolicy(workspace=workspace))
    assert "assert (1 + 1) == 3" in resolved.text and "1 failed" in resolved.text
    assert '<file path="test_math.py">' in resolved.text


# --- workbench primers ls / show ---------------------------------------------------------------


async def test_primers_ls_lists_names_origins_shadows_and_broken_files(
    claude_project: Path, environ: dict[str, str]
) -> None:
    put(claude_project / ".workbench" / "primers", "review", "our own review")
    (claude_project / ".workbench" / "primers" / "bad.md").write_text("---\ntimeout: never\n---\nx")
    out = io.StringIO()
    assert await list_primers(Config(), claude_project, out, environ=environ) == 0
    lines = out.getvalue().splitlines()
    row = {line.split()[0]: line for line in lines if not line.startswith(" ")}
    assert row["review"].split()[1] == "project" and "our own review" in row["review"]
    assert f"(shadows the builtin primer {BUILTIN_DIR / 'review.md'})" in out.getvalue()
    assert "BROKEN:" in row["bad"] and "'timeout' must be a number" in row["bad"]
    assert row["frontend:component"].split()[1] == "claude" and "<ComponentName> [props]" in row["frontend:component"]
    assert {"bug-smash", "docs", "feature", "test", "commit", "fix-issue"} <= set(row)


async def test_primers_show_prints_the_text_and_the_token_count(claude_project: Path, environ: dict[str, str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = await show_primer(
        Config(), claude_project, "review-pr", ["456", "high", "alice b"], out, err, environ=environ
    )
    assert code == 0 and err.getvalue() == ""
    p = find_primer("review-pr", primer_dirs(claude_project, environ))
    expected = await run(p, "456 high 'alice b'", claude_project)
    text, footer = out.getvalue().rsplit("\n-- ", 1)
    assert text == expected.text + "\n"
    assert f"{expected.tokens:,} tokens" in footer and expected.sha256[:12] in footer and "(claude:" in footer
    assert "assign to alice b." in text


async def test_primers_show_reports_errors_and_fails(claude_project: Path, environ: dict[str, str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert await show_primer(Config(), claude_project, "nope", "", out, err, environ=environ) == 1
    assert "No primer named 'nope'" in err.getvalue() and out.getvalue() == ""
    err = io.StringIO()
    denying = Config.model_validate({"permissions": {"deny": ["Bash(git status:*)"]}})
    assert await show_primer(denying, claude_project, "commit", "", out, err, environ=environ) == 1
    assert "Denied by the rule Bash(git status:*)" in err.getvalue() and out.getvalue() == ""
