"""Where agents go without a cluster, and how a cluster is configured: the checks that need no server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine_driver import spawn
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.agent_types import AgentTypeError, parse_agent_type
from workbench.engine.config import Config, ConfigError, load_config
from workbench.engine.engine import Engine
from workbench.engine.runtime.placement import goes_to_cluster
from workbench.protocol.commands import Spawn


async def test_a_spawn_for_the_cluster_without_one_is_refused_and_others_run_here(tmp_path: Path) -> None:
    engine = await Engine.open(Config(bundles=tmp_path / "store", scripted_delay_s=0), tmp_path, ScriptedBrain())
    refused = await engine.submit(Spawn(mode="background", task="crunch", placement="cluster"))
    assert not refused.ok and "no cluster is configured" in refused.message
    assert "agent-1" not in engine.supervisor.agents
    agent = await spawn(engine, "background", "list python files")  # single machine stays the default
    await engine.wait_all()
    assert agent.state == "done" and not agent.remote
    await engine.close()


def test_background_and_delegated_agents_go_to_the_cluster_unless_told_otherwise() -> None:
    local = parse_agent_type("---\nname: local-one\nplacement: local\n---\nStay.\n", Path("a.md"), "project")
    anywhere = parse_agent_type("---\nname: any-one\n---\nGo.\n", Path("b.md"), "project")
    assert goes_to_cluster("background", None, None) and goes_to_cluster("delegated", None, anywhere)
    assert not goes_to_cluster("foreground", None, None)
    assert not goes_to_cluster("background", None, local) and goes_to_cluster("background", "cluster", local)
    assert not goes_to_cluster("delegated", "local", anywhere)
    with pytest.raises(AgentTypeError, match="placement must be local or cluster"):
        parse_agent_type("---\nname: odd\nplacement: moon\n---\nHm.\n", Path("c.md"), "project")


def test_the_cluster_comes_from_the_users_config_never_a_projects(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    (home / "workbench").mkdir(parents=True)
    (project / ".workbench").mkdir(parents=True)
    (home / "workbench" / "config.toml").write_text('[cluster]\nurl = "nats://build:4222"\nack_wait_s = 60\n')
    (project / ".workbench" / "config.toml").write_text('[cluster]\nurl = "nats://elsewhere:4222"\n')
    config = load_config(project, {"XDG_CONFIG_HOME": str(home)}, trusted=True)
    assert config.cluster.url == "nats://build:4222" and config.cluster.ack_wait_s == 60

    (home / "workbench" / "config.toml").write_text('[cluster]\nurl = "http://build"\n')
    with pytest.raises(ConfigError, match=r"cluster\.url: expected nats://HOST:PORT"):
        load_config(project, {"XDG_CONFIG_HOME": str(home)})
