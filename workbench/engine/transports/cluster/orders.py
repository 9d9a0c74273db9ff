"""A run order: what a worker needs to take up a cluster agent, as the coordinator queues it.

It carries no secret: the worker's own environment holds the API key; the settings are the
session's limits, thresholds and permission policy as they stand when the run is ordered.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from workbench.engine.config import Config, PermissionsConfig
from workbench.engine.policy.permissions import PermissionPolicy

# what of the session's config a worker takes over (the rest is the worker's own: brain, keys, paths)
SHIPPED = frozenset({"model", "max_tokens", "window", "thresholds", "limits", "auto_delegate", "thinking", "models"})


class RepoSnapshot(BaseModel):
    """The session's git repository at a commit, as a bundle in the cluster's object store."""

    model_config = ConfigDict(frozen=True)

    object: str
    commit: str
    subdir: str = ""  # the session's folder inside the repository
    label: str = ""  # how to name it to a person: the repository's folder and the commit


class RunOrder(BaseModel):
    model_config = ConfigDict(frozen=True)

    session: str
    agent: str
    cwd: str  # the session's folder where it is hosted (for people; the worker works in its own checkout)
    settings: dict[str, Any]
    permissions: PermissionsConfig
    project_trusted: bool = False
    repo: RepoSnapshot | None = None

    @classmethod
    def of(
        cls, session: str, agent: str, cwd: str, config: Config, policy: PermissionPolicy, repo: RepoSnapshot | None
    ) -> RunOrder:
        return cls(
            session=session,
            agent=agent,
            cwd=cwd,
            settings=config.model_dump(mode="json", include=set(SHIPPED)),
            permissions=PermissionsConfig(
                mode=policy.mode,
                allow=[r.text for r in policy.allow],
                ask=[r.text for r in policy.ask],
                deny=[r.text for r in policy.deny],
            ),
            project_trusted=config.project_trusted,
            repo=repo,
        )

    def config(self, own: Config) -> Config:
        """The worker's config with the session's settings and policy in place of its own."""
        merged = own.model_dump(mode="json", exclude=set(SHIPPED) | {"permissions"})
        merged.update(self.settings, permissions=self.permissions.model_dump(mode="json"))
        config = Config.model_validate(merged)
        config._project_trusted = self.project_trusted
        return config
