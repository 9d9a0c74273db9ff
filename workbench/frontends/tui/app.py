"""The Textual app: themes, keys, the engine's lifecycle, and the main screen.

The first screen is shown before the engine exists: opening the Workbench
(the tokenizer, the bundle store, maybe the Anthropic SDK) happens in a worker
afterwards, so nothing heavy is imported when this module is.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.theme import Theme

from workbench.engine.config import Config, user_config_path
from workbench.frontends.tui.actions import ACTIONS, bindings, unknown_actions
from workbench.frontends.tui.commands import ActionCommands
from workbench.frontends.tui.locations import theme_folders
from workbench.frontends.tui.messages import EngineFailed, EngineReady, McpChanged
from workbench.frontends.tui.modal_queue import ModalQueue
from workbench.frontends.tui.screens.main import MainScreen
from workbench.frontends.tui.session_start import Leaving, NewSession, SessionStart, working_agents
from workbench.frontends.tui.themes import DEFAULT_THEME, load_themes
from workbench.frontends.tui.user_config import ConfigWriteError, remember_theme
from workbench.frontends.tui.worker_failures import ReportsFailedWorkers

if TYPE_CHECKING:
    from workbench.engine.brain_factory import Brain
    from workbench.engine.client import EngineClient
    from workbench.engine.context.tokens import TokenCounter

Clock = Callable[[], datetime]
TUI_FOLDER = Path(__file__).parent
CLOSE_TIMEOUT_S = 3.0
# imported in a thread before the engine opens: on the event loop these imports (the tokenizer,
# pydantic's schemas of every event) would freeze the first screen, keys and all; the brain is
# made in a thread too
ENGINE_MODULES = ("workbench.engine.engine", "workbench.engine.client", "workbench.engine.context.tokens",
                  "workbench.log.bundle", "workbench.log.secret_rules", "workbench.engine.brain_factory")  # fmt: skip


def utc_now() -> datetime:
    return datetime.now(UTC)


def preload_engine() -> None:
    """Import the engine's modules (run in a thread). A failure is left to the import proper, on the
    loop, to report."""
    for name in ENGINE_MODULES:
        try:
            importlib.import_module(name)
        except Exception:
            pass


def settle_collector() -> None:
    """Tune the garbage collector for a long-lived, busy event loop, once the engine is loaded.

    What is loaded so far (modules, classes, schemas: hundreds of thousands of objects that live
    as long as the app) is frozen out of later collections: left in, every
    full collection walks it all, 75-90 ms stalls of the loop every second or so while a reply
    streams. Rendering makes cyclic garbage by the thousand (Textual's strips cache themselves);
    a larger first generation lets it die young rather than be promoted to the old generations
    and walked there (benchmarks/bench_stream.py: lag p99 28 -> 16 ms at 300 tokens/s)."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


class WorkbenchApp(ReportsFailedWorkers, App[None]):
    # the main screen is the default screen, and Textual loads only the app's CSS for that one
    CSS_PATH = [TUI_FOLDER / "app.tcss", TUI_FOLDER / "screens" / "main.tcss"]
    BINDINGS = bindings("app")
    COMMANDS = App.COMMANDS | {ActionCommands}
    TITLE = "workbench"

    def __init__(
        self,
        config: Config,
        *,
        script: Path | None = None,
        cwd: Path | None = None,
        brain: Brain | None = None,
        offline_reason: str | None = None,
        clock: Clock | None = None,
        session_id: str | None = None,
        counter: TokenCounter | None = None,
        config_path: Path | None = None,
        theme_dirs: list[Path] | None = None,
        owns_process: bool = False,
        start: SessionStart | None = None,
        trust_gate: bool = False,
    ) -> None:
        """``owns_process``: the app is the whole process (not one test among many), and may tune
        the process-wide garbage collector. ``trust_gate``: ``config`` was read restricted, and the
        folder's own configuration applies only once trusted (asked on the trust screen)."""
        super().__init__()
        self.config = config
        self.trust_gate = trust_gate
        self.owns_process = owns_process
        self.script = script
        self.cwd = cwd or Path.cwd()
        self.brain = brain
        self.offline_reason = offline_reason
        # the injected clock stamps events too; without one the engine stamps them itself
        self.event_clock = clock
        self.clock: Clock = clock or utc_now
        self.session_id = session_id
        self.counter = counter
        self.config_path = config_path or user_config_path()
        self.theme_dirs = theme_dirs if theme_dirs is not None else theme_folders()
        self.modals = ModalQueue(self)
        self.client: EngineClient | None = None
        self.first_start = start  # what the app opens first (default: a new session)
        self.first_open = True
        self.left: tuple[str, Leaving] | None = None  # the session the app left, and how
        self.engine_failed = False
        self.main_screen = MainScreen(self.clock)
        self._theme_problems: list[tuple[str, str]] = []
        self._remembered_theme = ""
        self._choose_theme()

    def get_default_screen(self) -> MainScreen:
        return self.main_screen

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's own palette commands, less those the action table already offers."""
        ours = {action.label.lower() for action in ACTIONS if action.palette}
        for command in super().get_system_commands(screen):
            if command.title.lower() not in ours:
                yield command

    def on_mount(self) -> None:
        from workbench.frontends.tui.lag_probe import start_from_env  # opt-in, for the benchmarks

        self.lag_probe = start_from_env()
        self._report_theme_problems()
        self._apply_keys()
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.call_after_refresh(self.open_engine)

    # ---------------------------------------------------------------- themes and keys

    def _choose_theme(self) -> None:
        """Register the theme files and pick the configured theme, before the first paint
        (set later, it would make Textual parse every stylesheet a second time)."""
        load = load_themes(self.theme_dirs)
        for theme in load.themes:
            self.register_theme(theme)
        self._theme_problems = [(problem, "Theme file skipped") for problem in load.problems]
        wanted = self.config.theme
        if wanted not in self.available_themes:
            fallback = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
            problem = f"Your config asks for the theme {wanted!r}, which does not exist; using {fallback}."
            self._theme_problems.append((problem, "Unknown theme"))
            wanted = fallback
        self.theme = wanted
        self._remembered_theme = wanted

    def _report_theme_problems(self) -> None:
        for problem, title in self._theme_problems:
            self.notify(problem, title=title, severity="warning", timeout=12)

    def _theme_changed(self, theme: Theme) -> None:
        """A theme chosen in the app is remembered in the user's config file."""
        if theme.name == self._remembered_theme:
            return
        self._remembered_theme = theme.name
        try:
            remember_theme(self.config_path, theme.name)
        except ConfigWriteError as exc:
            self.notify(str(exc), title="Theme not remembered", severity="warning")

    def _apply_keys(self) -> None:
        if unknown := unknown_actions(self.config.keys):
            self.notify(
                f"No action named {', '.join(unknown)}; F1 lists the actions.",
                title="Key override ignored",
                severity="warning",
                timeout=12,
            )
        self.set_keymap({name: key for name, key in self.config.keys.items() if name not in unknown})

    # ---------------------------------------------------------------- the engine

    @work(group="engine", exclusive=True, exit_on_error=False)
    async def open_engine(self, start: SessionStart | None = None) -> None:
        """Open a new session, or ``start`` (a remount, a resume, an attach): the session open now ends
        first (or is detached from), and the panes start afresh on a new main screen."""
        if start is not None:
            await self._leave_session()
        await asyncio.to_thread(preload_engine)
        from workbench.engine.brain_factory import choose_brain, make_brain
        from workbench.engine.config import ConfigError
        from workbench.engine.context.tokens import default_counter
        from workbench.engine.library import BundleError
        from workbench.protocol.brain_io import BrainError

        start = start or self.first_start or NewSession(self.session_id)
        try:
            if self.trust_gate:
                from workbench.frontends.tui.trust_gate import settle_trust

                self.config = await settle_trust(self, self.cwd)
                self.trust_gate = False  # settled for the app's life: a remount here keeps it
            brain, offline_reason = self.brain, self.offline_reason
            if brain is None and start.needs_brain:
                choice = choose_brain(self.config)
                brain = await asyncio.to_thread(make_brain, choice, self.config, self.script)
                offline_reason = choice.offline_reason
            counter = self.counter or await asyncio.to_thread(default_counter)
            self.client = await start.open(
                self.config, self.cwd, brain, clock=self.event_clock, counter=counter, offline_reason=offline_reason
            )
        except (BrainError, BundleError, OSError, ConfigError) as exc:
            self._engine_failed(str(exc))
            return
        except Exception as exc:  # the app stays up to say what went wrong
            self._engine_failed(f"{type(exc).__name__}: {exc}")
            return
        # once, when the process has loaded what it keeps: a later session's garbage (the screen
        # it replaced) would never be collected once frozen
        settle = self.owns_process and self.first_open
        self.first_open = False
        if settle:
            settle_collector()
        self.main_screen.post_message(EngineReady(self.client))
        await self.client.start()
        if settle:
            settle_collector()  # and the MCP SDK, when servers are configured
        # the servers' first signals came before the screen listened: it reads them all once
        self.main_screen.post_message(McpChanged())

    async def _leave_session(self) -> None:
        """Close the session and put a new main screen in place of its own (``App.query`` keeps looking
        in the first main screen: query ``app.main_screen``)."""
        await self.close_engine("detach" if self.client is not None and self.client.detaches else "stop")
        self.engine_failed = False
        while len(self.screen_stack) > 1 and self.screen is not self.main_screen:
            await self.pop_screen()
        if not self.main_screen._result_callbacks:
            # Textual installs the default screen without the result callback switch_screen pops
            self.main_screen._push_result_callback(self, None)
        self.main_screen = MainScreen(self.clock)
        await self.switch_screen(self.main_screen)

    def _engine_failed(self, reason: str) -> None:
        self.engine_failed = True
        self.main_screen.post_message(EngineFailed(reason))

    async def close_engine(self, how: Leaving = "stop") -> None:
        """Leave the session: detach from the daemon's, or close this process's (``stop``: agents go on
        from here when it is resumed; ``cancel``: they are cancelled first)."""
        client, self.client = self.client, None
        self.modals.close_all()
        if client is not None:
            self.left = (client.info.session_id, "detach" if client.detaches else how)
            # every event was flushed when written; an agent stuck in a tool is left behind
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(client.leave(how), CLOSE_TIMEOUT_S)

    # ---------------------------------------------------------------- actions

    async def action_quit(self) -> None:
        self.run_worker(self._quit(), group="quit", exclusive=True, exit_on_error=False)

    async def _quit(self) -> None:
        """Quit; with agents at work in this process, ask first whether to stop them (they go on when the
        session is resumed) or to cancel them."""
        client = self.client
        if client is not None and not client.detaches and (working := working_agents(client.view)):
            from workbench.frontends.tui.screens.quit import QuitScreen

            choice = await self.push_screen_wait(QuitScreen(client.info.session_id, working, self.config.keys))
            if choice is None:
                return
            await self.close_engine(choice)
        self.exit(return_code=1 if self.engine_failed else 0)

    async def on_unmount(self) -> None:
        """However the app ends, the session's agents stop (or the daemon keeps them) and its bundle is closed."""
        await self.close_engine("detach" if self.client is not None and self.client.detaches else "stop")

    def export_screenshot(self, *, title: str | None = None, simplify: bool = False) -> str:
        """The screen as SVG, its spaces kept: without ``xml:space="preserve"`` renderers such as rsvg drop
        the spaces that begin a run of text (after a bold key, a coloured word), and words run together."""
        svg = super().export_screenshot(title=title, simplify=simplify)
        return svg.replace("<svg ", '<svg xml:space="preserve" ', 1)

    def action_theme(self, name: str = "") -> None:
        """``/theme NAME`` applies it; ``/theme`` alone opens the theme picker."""
        if not name:
            self.action_change_theme()
        elif name in self.available_themes:
            self.theme = name
        else:
            known = ", ".join(sorted(self.available_themes))
            self.notify(f"No theme {name!r}; the themes are {known}.", title="Theme not changed", severity="warning")

    def action_help(self) -> None:
        from workbench.frontends.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.config.keys))


def run_app(
    config: Config, script: Path | None = None, start: SessionStart | None = None, *, trust_gate: bool = False
) -> int:
    """Run the app until the user quits; the exit code is 1 when the session could not start. What was
    left, and how to come back to it, is said on the terminal."""
    app = WorkbenchApp(config, script=script, owns_process=True, start=start, trust_gate=trust_gate)
    app.run()
    if app.left is not None:
        print(farewell(*app.left))
    return app.return_code or 0


def farewell(session_id: str, how: Leaving) -> str:
    if how == "detach":
        return f"session {session_id} goes on in the daemon · watch it again: workbench attach {session_id}"
    stopped = "its agents were cancelled" if how == "cancel" else "its agents stopped where they were"
    return f"session {session_id}: {stopped} · resume it: workbench --resume {session_id}"
