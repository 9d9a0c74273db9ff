"""The permission vocabulary: the modes a session runs in and the lists a rule joins.

A module of its own, so the config can name them without loading the event models.
"""

from typing import Literal

PermissionMode = Literal["default", "acceptEdits", "plan", "bypass"]
RuleList = Literal["allow", "ask", "deny"]
