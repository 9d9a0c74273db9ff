"""What the remount key leads to: the session browser, then what the user chose in it.

Continuing (remount, fork) and resuming end the session open now and open
another on a fresh main screen (``WorkbenchApp.open_engine``); the session
left behind stays in the store, whole. Replaying, and showing a session that
another process has open, push a read-only screen over the live one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.engine.context.tokens import default_counter
from workbench.engine.engine import SessionInfo, store_for
from workbench.engine.library import BlobStore, BundleError, BundleStore, lock_holder
from workbench.engine.presentation import brain_label
from workbench.engine.remount import RemountError, plan_remount
from workbench.engine.replay import ReplayClient
from workbench.frontends.tui.actions import BY_NAME, key_of
from workbench.frontends.tui.screens.replay import ReplayScreen
from workbench.frontends.tui.screens.session_browser import BrowserChoice, SessionBrowser
from workbench.frontends.tui.session_start import NewSession, ResumedSession
from workbench.protocol.commands import RestoreFiles

if TYPE_CHECKING:
    from workbench.frontends.tui.app import WorkbenchApp
    from workbench.frontends.tui.screens.main import MainScreen


async def browse(screen: MainScreen, session: str = "") -> None:
    """The browser; with ``session`` (``/remount ID``, a prefix will do) that session is continued at once."""
    app: WorkbenchApp = screen.app  # type: ignore[assignment]
    store = store_for(app.config)
    if session:
        try:
            choice: BrowserChoice | None = BrowserChoice("remount", store.resolve(session))
        except BundleError as exc:
            app.notify(str(exc), title="Nothing remounted", severity="warning")
            return
    else:
        current = screen.client.info.session_id if screen.client is not None else None
        browser = SessionBrowser(store, current=current, homes=[Path.home()], cwd=app.cwd)
        choice = await app.push_screen_wait(browser)
    if choice is None:
        return
    try:
        if choice.how == "replay":
            await show(screen, store, choice.session_id)
        elif choice.how == "resume":
            await resume(screen, store, choice.session_id)
        else:
            await remount(screen, store, choice)
    except BundleError as exc:
        app.notify(str(exc), title=f"Session {choice.session_id} not opened", severity="error")


async def remount(screen: MainScreen, store: BundleStore, choice: BrowserChoice) -> None:
    app: WorkbenchApp = screen.app  # type: ignore[assignment]
    contents = await store.read(choice.session_id)
    try:
        plan = await asyncio.to_thread(
            plan_remount, choice.session_id, contents.events, agent=choice.agent, up_to_seq=choice.up_to_seq
        )
    except RemountError as exc:
        app.notify(str(exc), title="Nothing remounted", severity="error")
        return
    key = key_of(BY_NAME["remount"], app.config.keys)
    left = f"; {screen.client.info.session_id} is kept, {key} lists it" if screen.client is not None else ""
    restore = None
    if choice.files is not None:  # the agent's files as they were at that point, too
        restore = RestoreFiles(
            source_session=plan.source_session,
            source_agent=plan.source_agent,
            up_to_seq=plan.up_to_seq,
            into=choice.files,
        )
    app.open_engine(NewSession(remount=plan.event, title=plan.title, restore=restore))
    app.notify(
        f"{plan.source_agent} of {plan.source_session} up to seq {plan.up_to_seq}, "
        f"{len(plan.context.messages)} messages, in a new session{left}.",
        title="Remounted",
    )


async def resume(screen: MainScreen, store: BundleStore, session_id: str) -> None:
    app: WorkbenchApp = screen.app  # type: ignore[assignment]
    holder = lock_holder(store.folder(session_id))
    if holder is not None:
        app.notify(f"{session_id} is open in {holder}: it is shown read-only, as it is now.",
                   title="Opened read-only", severity="warning", timeout=10)  # fmt: skip
        await show(screen, store, session_id, read_only=f"open in {holder}")
        return
    app.open_engine(ResumedSession(session_id))
    app.notify(f"{session_id} goes on where it stopped.", title="Resumed")


async def show(screen: MainScreen, store: BundleStore, session_id: str, read_only: str = "") -> None:
    """Replay the session over the live screen (all at once when ``read_only`` says why)."""
    app: WorkbenchApp = screen.app  # type: ignore[assignment]
    contents = await store.read(session_id)
    meta = await store.meta(session_id)
    counter = screen.client.view.counter if screen.client is not None else await asyncio.to_thread(default_counter)
    config = app.config
    info = SessionInfo(
        session_id=session_id,
        cwd="",
        brain=brain_label(meta.brain, meta.model),
        model=meta.model,
        window=config.window,
        delegate_at=config.thresholds.delegate,
        compact_at=config.thresholds.auto_compact,
        depth=config.limits.depth,
    )
    client = ReplayClient(info, counter, BlobStore(store.folder(session_id)))
    await app.push_screen(ReplayScreen(client, contents.events, read_only=read_only))
