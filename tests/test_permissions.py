"""The permission policy: Claude Code rule syntax, deny → ask → allow, then the mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from workbench.engine.policy.permissions import (
    PermissionMode,
    PermissionPolicy,
    PermissionRuleError,
    Rule,
)
from workbench.protocol.commands import Approve
from workbench.protocol.modes import MODE_CYCLE, next_mode
from workbench.tools.base import Tool, ToolKind
from workbench.tools.registry import builtin_tools


class _AnyInput(BaseModel):
    model_config = {"extra": "allow"}


def _fake_tool(tool_name: str, tool_kind: ToolKind) -> Tool[Any]:
    class Fake(Tool[_AnyInput]):
        name = tool_name
        description = "fake"
        Input = _AnyInput
        kind = tool_kind

    return Fake()


TOOLS: dict[str, Tool[Any]] = {tool.name: tool for tool in builtin_tools()}
TOOLS["Task"] = _fake_tool("Task", "agent")
for _mcp in ("mcp__github__create_issue", "mcp__github__delete_repo", "mcp__github__listx", "mcp__gitlab__list"):
    TOOLS[_mcp] = _fake_tool(_mcp, "exec")


def bash(command: str) -> tuple[str, dict[str, Any]]:
    return "Bash", {"command": command}


def edit(path: str) -> tuple[str, dict[str, Any]]:
    return "Edit", {"file_path": path, "old_string": "a", "new_string": "b"}


def write(path: str) -> tuple[str, dict[str, Any]]:
    return "Write", {"file_path": path, "content": ""}


def read(path: str) -> tuple[str, dict[str, Any]]:
    return "Read", {"file_path": path}


def grep(path: str) -> tuple[str, dict[str, Any]]:
    return "Grep", {"pattern": "x", "path": path}


def glob(path: str) -> tuple[str, dict[str, Any]]:
    return "Glob", {"pattern": "*", "path": path}


def other(name: str) -> tuple[str, dict[str, Any]]:
    return name, {}


def decide(policy: PermissionPolicy, call: tuple[str, dict[str, Any]]):  # type: ignore[no-untyped-def]
    name, raw = call
    tool = TOOLS[name]
    return policy.decide(tool, tool.Input.model_validate(raw))


R = dict[str, list[str]]

# (rules, mode, call, verdict, the deciding rule)
TABLE: list[tuple[R, PermissionMode, tuple[str, dict[str, Any]], str, str | None]] = [
    # deny first, then ask, then allow
    ({"allow": ["Bash"], "deny": ["Bash(rm:*)"]}, "default", bash("rm -rf build"), "deny", "Bash(rm:*)"),
    ({"allow": ["Bash"], "deny": ["Bash(rm:*)"]}, "default", bash("ls"), "allow", "Bash"),
    ({"allow": ["Edit"], "ask": ["Edit(secrets/**)"]}, "default", edit("secrets/key"), "ask", "Edit(secrets/**)"),
    ({"allow": ["Edit"], "ask": ["Edit(secrets/**)"]}, "default", edit("src/key"), "allow", "Edit"),
    ({"ask": ["Bash"], "deny": ["Bash(curl:*)"]}, "default", bash("curl x.com"), "deny", "Bash(curl:*)"),
    ({"ask": ["Read(*.pem)"]}, "default", read("certs/site.pem"), "ask", "Read(*.pem)"),
    # Bash prefix rules: that command alone or followed by anything, on a word boundary
    ({"allow": ["Bash(git status:*)"]}, "default", bash("git status"), "allow", "Bash(git status:*)"),
    ({"allow": ["Bash(git status:*)"]}, "default", bash("git status --short"), "allow", "Bash(git status:*)"),
    ({"allow": ["Bash(git status:*)"]}, "default", bash("git statusx"), "ask", None),
    ({"allow": ["Bash(git status:*)"]}, "default", bash("git log"), "ask", None),
    # Bash exact rules
    ({"allow": ["Bash(npm run test)"]}, "default", bash("npm run test"), "allow", "Bash(npm run test)"),
    ({"allow": ["Bash(npm run test)"]}, "default", bash("npm run test --watch"), "ask", None),
    ({"deny": ["Bash(npm run test)"]}, "bypass", bash("npm run test --watch"), "allow", None),
    # compound commands: allow needs every part, deny and ask any part
    ({"allow": ["Bash(git status:*)"]}, "default", bash("git status && rm -rf /"), "ask", None),
    ({"allow": ["Bash(git status:*)"]}, "default", bash("git status\nrm -rf /"), "ask", None),
    (
        {"allow": ["Bash(git status:*)", "Bash(npm run test)"]},
        "default",
        bash("git status; npm run test"),
        "allow",
        "Bash(git status:*), Bash(npm run test)",
    ),
    ({"deny": ["Bash(git push:*)"]}, "bypass", bash("cd repo && git push origin main"), "deny", "Bash(git push:*)"),
    ({"deny": ["Bash(rm:*)"]}, "bypass", bash("FOO=1 rm x"), "deny", "Bash(rm:*)"),
    ({"deny": ["Bash(rm:*)"]}, "bypass", bash("if true; then rm x; fi"), "deny", "Bash(rm:*)"),
    ({"deny": ["Bash(rm:*)"]}, "bypass", bash('echo "$(rm -rf x)"'), "deny", "Bash(rm:*)"),
    ({"deny": ["Bash(rm:*)"]}, "bypass", bash("echo rmdir"), "allow", None),
    # what an allow rule cannot see into it does not allow
    ({"allow": ["Bash(echo:*)"]}, "default", bash("echo $(rm -rf x)"), "ask", None),
    ({"allow": ["Bash(echo:*)"]}, "default", bash("echo `rm -rf x`"), "ask", None),
    ({"allow": ["Bash(git status:*)"]}, "default", bash("git status > out.txt"), "ask", None),
    ({"allow": ["Bash(git status:*)"]}, "default", bash("git status 2>&1 >/dev/null"), "allow", "Bash(git status:*)"),
    # an Edit rule covers Write; a Write rule only Write
    ({"allow": ["Edit(src/**)"]}, "default", write("src/new/a.py"), "allow", "Edit(src/**)"),
    ({"deny": ["Edit(src/**)"]}, "acceptEdits", write("src/a.py"), "deny", "Edit(src/**)"),
    ({"deny": ["Edit"]}, "bypass", write("a.txt"), "deny", "Edit"),
    ({"allow": ["Write(docs/*)"]}, "default", write("docs/a.md"), "allow", "Write(docs/*)"),
    ({"allow": ["Write(docs/*)"]}, "default", edit("docs/a.md"), "ask", None),
    # a Read rule covers Read, Grep and Glob
    ({"deny": ["Read(secrets/**)"]}, "default", grep("secrets"), "deny", "Read(secrets/**)"),
    ({"deny": ["Read(secrets/**)"]}, "default", glob("secrets/sub"), "deny", "Read(secrets/**)"),
    ({"deny": ["Read(secrets/**)"]}, "default", read("./secrets/../secrets/k"), "deny", "Read(secrets/**)"),
    ({"deny": ["Read(secrets/**)"]}, "default", read("src/secrets.py"), "allow", None),
    ({"ask": ["Read(./docs/*.md)"]}, "default", read("docs/a.md"), "ask", "Read(./docs/*.md)"),
    ({"ask": ["Read(./docs/*.md)"]}, "default", read("docs/sub/a.md"), "allow", None),
    ({"ask": ["Glob"]}, "default", grep("src"), "allow", None),
    # gitignore-style globs
    ({"deny": ["Edit(**/*.lock)"]}, "acceptEdits", edit("a/b/c.lock"), "deny", "Edit(**/*.lock)"),
    ({"deny": ["Edit(**/*.lock)"]}, "acceptEdits", write("c.lock"), "deny", "Edit(**/*.lock)"),
    ({"deny": ["Edit(*.env)"]}, "acceptEdits", edit("config/prod.env"), "deny", "Edit(*.env)"),
    ({"deny": ["Edit(/build/**)"]}, "acceptEdits", edit("build/out/x.o"), "deny", "Edit(/build/**)"),
    ({"deny": ["Edit(/build/**)"]}, "acceptEdits", edit("src/build/x.o"), "allow", None),
    ({"allow": ["Edit(src/*.py)"]}, "default", edit("src/pkg/a.py"), "ask", None),
    ({"allow": ["Edit(src/**/*.py)"]}, "default", edit("src/pkg/deep/a.py"), "allow", "Edit(src/**/*.py)"),
    ({"allow": ["Edit(src/**/*.py)"]}, "default", edit("src/a.py"), "allow", "Edit(src/**/*.py)"),
    # modes, when no rule matches
    ({}, "default", read("a.py"), "allow", None),
    ({}, "default", grep("."), "allow", None),
    ({}, "default", other("Task"), "allow", None),
    ({}, "default", write("a.py"), "ask", None),
    ({}, "default", bash("ls"), "ask", None),
    ({}, "acceptEdits", write("a.py"), "allow", None),
    ({}, "acceptEdits", edit("a.py"), "allow", None),
    ({}, "acceptEdits", bash("ls"), "ask", None),
    ({}, "plan", read("a.py"), "allow", None),
    ({}, "plan", other("Task"), "allow", None),
    ({}, "plan", edit("a.py"), "deny", None),
    ({}, "plan", bash("ls"), "deny", None),
    ({"allow": ["Bash(git status:*)", "Edit"]}, "plan", bash("git status"), "deny", None),
    ({"allow": ["Edit"]}, "plan", write("a.py"), "deny", None),
    ({}, "bypass", bash("rm -rf build"), "allow", None),
    ({"ask": ["Bash"]}, "bypass", bash("ls"), "allow", None),
    ({"deny": ["Bash(ls)"]}, "bypass", bash("ls"), "deny", "Bash(ls)"),
    # MCP names
    ({"allow": ["mcp__github"]}, "default", other("mcp__github__create_issue"), "allow", "mcp__github"),
    ({"allow": ["mcp__github"]}, "default", other("mcp__gitlab__list"), "ask", None),
    ({"allow": ["mcp__github__*"]}, "default", other("mcp__github__create_issue"), "allow", "mcp__github__*"),
    ({"allow": ["mcp__github__*"]}, "default", other("mcp__gitlab__list"), "ask", None),
    (
        {"allow": ["mcp__github"], "deny": ["mcp__github__delete_repo"]},
        "default",
        other("mcp__github__delete_repo"),
        "deny",
        "mcp__github__delete_repo",
    ),
    ({"allow": ["mcp__github__list"]}, "default", other("mcp__github__listx"), "ask", None),
]


@pytest.mark.parametrize(("rules", "mode", "call", "verdict", "rule"), TABLE)
def test_decision_table(
    rules: R, mode: PermissionMode, call: tuple[str, dict[str, Any]], verdict: str, rule: str | None
) -> None:
    policy = PermissionPolicy(mode=mode, **rules)  # type: ignore[arg-type]
    decision = decide(policy, call)
    assert (decision.verdict, decision.rule) == (verdict, rule)
    assert decision.source == ("rule" if rule else "mode")


def test_plan_mode_says_why_it_denies() -> None:
    decision = decide(PermissionPolicy(mode="plan"), edit("a.py"))
    assert decision.verdict == "deny" and decision.source == "mode"
    assert "Plan mode forbids changing files (Edit)" in decision.reason
    assert "Plan mode forbids running commands (Bash)" in decide(PermissionPolicy(mode="plan"), bash("ls")).reason


def test_rule_decisions_name_their_rule_in_the_reason() -> None:
    policy = PermissionPolicy(deny=["Bash(rm:*)"], ask=["Edit(secrets/**)"], allow=["Read"])
    assert decide(policy, bash("rm x")).reason == "Denied by the rule Bash(rm:*)"
    assert "Edit(secrets/**)" in decide(policy, edit("secrets/a")).reason
    assert decide(policy, read("a")).reason == "Allowed by the rule Read"


# --- paths against a real workspace ------------------------------------------------------------


def test_absolute_paths_inside_the_workspace_match_relative_rules(tmp_path: Path) -> None:
    policy = PermissionPolicy(allow=["Edit(src/**)"], workspace=tmp_path)
    assert decide(policy, edit(str(tmp_path / "src" / "a.py"))).verdict == "allow"
    assert decide(policy, edit(str(tmp_path / "lib" / "a.py"))).verdict == "ask"


def test_a_symlink_cannot_dodge_a_deny_rule(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "key").write_text("k")
    (tmp_path / "innocent").symlink_to(tmp_path / "secrets", target_is_directory=True)
    policy = PermissionPolicy(mode="acceptEdits", deny=["Edit(secrets/**)"], workspace=tmp_path)
    decision = decide(policy, edit("innocent/key"))
    assert (decision.verdict, decision.rule) == ("deny", "Edit(secrets/**)")
    # nor stretch an allow rule to where the link leads
    policy = PermissionPolicy(allow=["Edit(innocent/**)"], workspace=tmp_path)
    assert decide(policy, edit("innocent/key")).verdict == "ask"


# --- rule syntax -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tool", "specifier"),
    [
        ("Bash", "Bash", None),
        ("  Bash(git status:*) ", "Bash", "git status:*"),
        ("Bash(echo (hi))", "Bash", "echo (hi)"),
        ("Edit(src/**)", "Edit", "src/**"),
        ("Read(./docs/*.md)", "Read", "./docs/*.md"),
        ("mcp__server", "mcp__server", None),
        ("mcp__server__tool", "mcp__server__tool", None),
        ("mcp__my-server__*", "mcp__my-server__*", None),
    ],
)
def test_rules_parse_and_print_back(text: str, tool: str, specifier: str | None) -> None:
    rule = Rule.parse(text)
    assert (rule.tool, rule.specifier) == (tool, specifier)
    assert rule.text == text.strip()
    assert Rule.parse(rule.text) == rule


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Empty permission rule"),
        ("Bash(git status", "Malformed permission rule 'Bash(git status'"),
        ("Bash git", "Malformed permission rule"),
        ("Bash()", "Empty parentheses in 'Bash()': write Bash to match every call"),
        ("Bash(:*)", "empty command prefix"),
        ("Bash(git * main)", "no wildcards except a trailing ':*'"),
        ("Bash(git:*status)", "no wildcards except a trailing ':*'"),
        ("Bash(echo 'x)", "No closing quotation"),
        ("mcp__server(tool)", "MCP rules take no parentheses"),
        ("Ba*sh", "`*` is only allowed as mcp__server__*"),
        ("*", "`*` is only allowed as mcp__server__*"),
        ("Edit(../x)", "must not leave the workspace"),
        ("Edit(src/../../x)", "must not leave the workspace"),
        ("Read(~/.ssh/id_rsa)", "relative to the workspace"),
        ("Read(//etc/passwd)", "relative to the workspace"),
        ("9lives", "Bad tool name '9lives'"),
    ],
)
def test_malformed_rules_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(PermissionRuleError, match=None) as raised:
        Rule.parse(text)
    assert message in str(raised.value)


def test_policy_refuses_malformed_rules_at_construction() -> None:
    with pytest.raises(PermissionRuleError):
        PermissionPolicy(allow=["Bash("])


def test_add_rule_changes_later_decisions() -> None:
    policy = PermissionPolicy()
    assert decide(policy, bash("git status")).verdict == "ask"
    rule = policy.add_rule("allow", "Bash(git status:*)")
    policy.add_rule("allow", "Bash(git status:*)")
    assert policy.allow == [rule]
    assert decide(policy, bash("git status -s")).verdict == "allow"
    policy.add_rule("deny", "Bash(git status:*)")
    assert decide(policy, bash("git status -s")).verdict == "deny"
    with pytest.raises(ValueError, match="No rule list named 'maybe'"):
        policy.add_rule("maybe", "Bash")  # type: ignore[arg-type]
    with pytest.raises(PermissionRuleError):
        policy.add_rule("allow", "Bash()")


# --- suggestions, modes, approval types ----------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "suggested"),
    [
        (bash("git status"), "Bash(git status:*)"),
        (bash("git commit -m 'wip'"), "Bash(git commit:*)"),
        (bash("ls -la"), "Bash(ls:*)"),
        (bash("npm run test -- --watch"), "Bash(npm run test:*)"),
        (bash("python -m pytest -q tests"), "Bash(python -m pytest:*)"),
        (bash("FOO=1 make build"), "Bash(FOO=1 make build:*)"),
        (bash("cd src && make"), "Bash(cd src && make)"),
        (edit("path/to/file.py"), "Edit(path/to/file.py)"),
        (write("./src/../new.md"), "Edit(./new.md)"),
        (edit("weird[1].py"), "Edit(./weird\\[1\\].py)"),
        (read("docs/a.md"), "Read(docs/a.md)"),
        (grep("src"), "Read(src/**)"),
        (glob("."), "Read"),
        (other("mcp__github__create_issue"), "mcp__github__create_issue"),
    ],
)
def test_suggested_rules_cover_the_call_they_came_from(call: tuple[str, dict[str, Any]], suggested: str) -> None:
    policy = PermissionPolicy()
    name, raw = call
    tool = TOOLS[name]
    assert policy.suggest_rule(tool, tool.Input.model_validate(raw)) == suggested
    policy.add_rule("allow", suggested)
    assert decide(policy, call).verdict == "allow"


def test_suggested_prefix_rule_does_not_allow_other_commands() -> None:
    policy = PermissionPolicy(allow=["Bash(git status:*)"])
    assert decide(policy, bash("git push")).verdict == "ask"


def test_mode_cycle_skips_bypass() -> None:
    assert MODE_CYCLE == ("default", "acceptEdits", "plan")
    assert [next_mode("default"), next_mode("acceptEdits"), next_mode("plan")] == ["acceptEdits", "plan", "default"]
    assert next_mode("bypass") == "default"


def test_an_approval_answer_validates() -> None:
    assert Approve(request_id="approval:t1", choice="allow_always").reason == ""
    with pytest.raises(ValidationError):
        Approve(request_id="approval:t1", choice="maybe")  # type: ignore[arg-type]
