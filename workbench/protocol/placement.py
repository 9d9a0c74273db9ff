"""Where an agent runs: in the process that hosts its session, or on a worker of the cluster.

A module of its own, so the config and the agent types can name it without loading the event models.
"""

from typing import Literal

Placement = Literal["local", "cluster"]
