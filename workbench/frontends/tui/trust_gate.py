"""Before the engine opens a folder: settle whether the folder's own configuration applies.

A folder with nothing to list opens as it is; a remembered decision for the
folder's files as they are now is kept; otherwise the trust screen asks, and
the answer is remembered. The config is then read again accordingly.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

    from workbench.engine.config import Config


async def settle_trust(app: App[Any], cwd: Path) -> Config:
    """The config to open ``cwd`` with, the user asked on the trust screen if need be (call from a worker)."""
    from workbench.engine.config import load_config
    from workbench.engine.trust import TrustStore, survey, trust_store_path
    from workbench.frontends.tui.screens.trust import TrustScreen

    found = await asyncio.to_thread(survey, cwd)
    store = TrustStore(trust_store_path())
    decision = store.decision(found)
    if decision is None:
        trusted = await app.push_screen_wait(TrustScreen(found))
        decision = "trusted" if trusted else "restricted"
        await asyncio.to_thread(store.remember, found, decision)
    return await asyncio.to_thread(load_config, cwd, trusted=decision == "trusted")
