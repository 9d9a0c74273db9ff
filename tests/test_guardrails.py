"""The git guardrails: each stops its command whatever the mode and the allow rules say, says which
guardrail it is, and is lifted only by naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine_driver import ask
from tests.git_repos import call, make_repo, script, sh_git
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config, ConfigError, PermissionsConfig, load_config
from workbench.engine.engine import Engine
from workbench.engine.policy.guardrails import Guardrails
from workbench.engine.policy.session_policy import SessionPolicy
from workbench.protocol.events import PermissionDecision, ToolResult
from workbench.tools.bash import Bash, BashInput


@pytest.fixture
def pushed(tmp_path: Path) -> Path:
    """A clone on main whose HEAD is on origin/main (pushed), with a feature branch beside it."""
    origin = tmp_path / "origin.git"
    sh_git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    repo = make_repo(tmp_path / "clone", {"a.txt": "a\n"})
    sh_git(repo, "remote", "add", "origin", str(origin))
    sh_git(repo, "push", "--quiet", "origin", "main")
    sh_git(repo, "fetch", "--quiet", "origin")
    return repo


def judge(policy: SessionPolicy, command: str) -> tuple[str, str]:
    decision = policy.decide(Bash(), BashInput(command=command))
    return decision.verdict, decision.reason


@pytest.mark.parametrize(
    ("command", "guardrail"),
    [
        ("git push --force origin main", "force-push-main"),
        ("git push -f origin master", "force-push-main"),
        ("git push origin +main", "force-push-main"),
        ("git push --force-with-lease origin HEAD:refs/heads/main", "force-push-main"),
        ("git push -fu", "force-push-main"),  # no refspec: the current branch, main
        ("cd . && sudo git -C . push --force", "force-push-main"),
        ("bash -c 'git push --force origin main'", "force-push-main"),
        ("echo $(git push -f origin main)", "force-push-main"),
        ("git commit --amend -m 'fix'", "amend-pushed"),
        ("git commit --no-verify -m wip", "no-verify"),
        ("git commit -nm wip", "no-verify"),
        ("git -c core.hooksPath=/dev/null commit -m wip", "no-verify"),
        ("git push --no-verify origin feature", "no-verify"),
    ],
)
def test_each_denying_guardrail_blocks_its_command_in_bypass_mode_and_against_allow_rules(
    pushed: Path, command: str, guardrail: str
) -> None:
    policy = SessionPolicy(mode="bypass", allow=["Bash", "Bash(git push:*)", "Bash(git commit:*)"], workspace=pushed)
    verdict, reason = judge(policy, command)
    assert verdict == "deny"
    assert f"guardrail {guardrail}" in reason and f'lift_guardrails = ["{guardrail}"]' in reason


def test_push_always_asks_and_commit_asks_for_the_agent(pushed: Path) -> None:
    policy = SessionPolicy(mode="bypass", allow=["Bash"], workspace=pushed)
    assert judge(policy, "git push origin feature")[0] == "ask"
    assert "guardrail push" in judge(policy, "git push")[1]
    assert "guardrail agent-commit" in judge(policy, "git add . && git commit -m 'x'")[1]
    assert judge(policy, "git status && git log --oneline")[0] == "allow"
    assert judge(policy, "git commit --amend --no-edit")[0] == "deny"  # HEAD is pushed


def test_amending_an_unpushed_commit_only_asks(pushed: Path) -> None:
    (pushed / "b.txt").write_text("b\n")
    sh_git(pushed, "add", "b.txt")
    sh_git(pushed, "commit", "--quiet", "-m", "local only")
    policy = SessionPolicy(mode="bypass", workspace=pushed)
    verdict, reason = judge(policy, "git commit --amend -m 'better'")
    assert verdict == "ask" and "agent-commit" in reason


def test_a_deny_rule_still_denies_what_a_guardrail_would_ask(pushed: Path) -> None:
    policy = SessionPolicy(deny=["Bash(git push:*)"], workspace=pushed)
    verdict, reason = judge(policy, "git push origin feature")
    assert verdict == "deny" and "rule Bash(git push:*)" in reason


def test_only_naming_a_guardrail_lifts_it(pushed: Path) -> None:
    lifted = SessionPolicy(mode="bypass", workspace=pushed, guardrails=Guardrails(["no-verify", "push"]))
    assert judge(lifted, "git push --no-verify origin feature")[0] == "allow"
    assert judge(lifted, "git push --force origin main")[0] == "deny"  # force-push-main still stands


def test_the_config_names_guardrails_and_rejects_a_wrong_name(tmp_path: Path) -> None:
    (tmp_path / ".workbench").mkdir()
    (tmp_path / ".workbench" / "config.toml").write_text('[permissions]\nlift_guardrails = ["push"]\n')
    assert load_config(tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "none")}).permissions.lift_guardrails == [
        "push"
    ]
    (tmp_path / ".workbench" / "config.toml").write_text('[permissions]\nlift_guardrails = ["force-push"]\n')
    with pytest.raises(ConfigError, match="lift_guardrails"):
        load_config(tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "none")})


def test_a_line_no_one_can_read_before_it_runs_asks_when_it_may_run_git(pushed: Path) -> None:
    policy = SessionPolicy(mode="bypass", workspace=pushed)
    verdict, reason = judge(policy, "$TOOL push --force origin main  # git, maybe")
    assert verdict == "ask" and "may run git" in reason
    assert judge(policy, "$TOOL build")[0] == "allow"
    verdict, reason = judge(policy, "git push $FLAGS origin main")  # the flags are unknown: a push still asks
    assert verdict == "ask" and "guardrail push" in reason


async def test_an_agent_is_told_which_guardrail_stopped_it(tmp_path: Path, pushed: Path) -> None:
    turns = [call("Bash", command="git push --force origin main"), "stopped"]
    config = Config(bundles=tmp_path / "bundles", fsync="never", permissions=PermissionsConfig(mode="bypass"))
    engine = await Engine.open(config, pushed, ScriptedBrain(script(tmp_path / "s.yaml", turns)))
    await ask(engine, "push it")
    await engine.close()
    decision = next(e for e in engine.session.events_of("primary") if isinstance(e, PermissionDecision))
    result = next(e for e in engine.session.events_of("primary") if isinstance(e, ToolResult))
    assert decision.decision == "deny" and decision.rule == "guardrail:force-push-main"
    assert result.is_error and "guardrail force-push-main" in result.content
    assert sh_git(pushed, "rev-parse", "origin/main") == sh_git(pushed, "rev-parse", "HEAD")


def test_a_project_lifts_a_guardrail_only_once_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.engine.trust import survey

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    project = tmp_path / "cloned"
    (project / ".workbench").mkdir(parents=True)
    (project / ".workbench" / "config.toml").write_text('[permissions]\nlift_guardrails = ["push", "no-verify"]\n')
    assert survey(project).lines() == [
        ".workbench/config.toml: lifts the git guardrail push",
        ".workbench/config.toml: lifts the git guardrail no-verify",
    ]
    assert load_config(project, trusted=False).policy(project).guardrails.lifted == frozenset()
    assert load_config(project, trusted=True).policy(project).guardrails.lifted == {"push", "no-verify"}
