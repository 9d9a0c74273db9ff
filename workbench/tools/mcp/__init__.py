"""Tools of MCP servers, through the official ``mcp`` SDK.

``config`` (the settings, cheap to import) · ``server`` (one connection) ·
``tool`` (the tool adapter) · ``manager`` (all servers of a session).
Nothing is imported here: the SDK takes half a second to import, and reading
the config must not pay for it.
"""
