"""Whether an agent's requests offer the API's web search.

The search runs on the API's side: the model's call never reaches the tool gate, so it
cannot be asked about or refused one by one. What decides is known before the request:
the config (``[web] search_max_uses``, 0 = never), the agent's tool list (an agent type
that lists its tools without ``WebSearch`` goes without), and a deny rule ``WebSearch``.
"""

from __future__ import annotations

from workbench.engine.policy.permissions import WEB_SEARCH, PermissionPolicy
from workbench.protocol.brain_io import WebSearchTool


def offered_search(
    search: WebSearchTool | None, tools: list[str] | None, policy: PermissionPolicy
) -> WebSearchTool | None:
    """The web search to offer with an agent's request, or None."""
    if search is None or (tools is not None and WEB_SEARCH not in tools) or policy.denies_outright(WEB_SEARCH):
        return None
    return search
