"""The headless front end: ``workbench run`` and ``workbench bundles``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from workbench.engine.brain_factory import choose_brain, credentials_problem, make_brain
from workbench.engine.config import Config
from workbench.engine.engine import Engine, store_for
from workbench.engine.pricing import PriceTable
from workbench.engine.views.spend import Spend, cost_report, cost_text
from workbench.frontends.cli.pipes import silence_stdout
from workbench.frontends.cli.terminal import TerminalApprover, TerminalAsker, TerminalDesk
from workbench.log.bundle import BundleContents, BundleError
from workbench.log.transcript import brain_label, describe, transcript
from workbench.protocol.commands import Close, Interrupt, Send
from workbench.protocol.events import AgentFinished, AssistantMessage, Error, Event, ToolCall, ToolResult
from workbench.protocol.signals import Live, TextStreamed

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def report_restricted(cwd: Path, err: TextIO) -> None:
    """Say what of the folder's own configuration a restricted run leaves out, if anything."""
    from workbench.engine.trust import survey

    found = survey(cwd)
    if not found.needs_decision:
        return
    print("[restricted: this folder's own configuration is not applied; --trust applies it]", file=err)
    for line in found.lines():
        print(f"  - {line}", file=err)


class _Printer:
    """Reply text to stdout as it streams; tool activity and errors to stderr.

    When the reader of the output goes away (``| head``) it stops printing and calls ``gone``.
    """

    def __init__(self, agent: str, out: TextIO, err: TextIO, gone: Callable[[], None]) -> None:
        self.agent, self.out, self.err, self.gone = agent, out, err, gone
        self.mid_line = False
        self.closed = False

    def __call__(self, item: Event | Live) -> None:
        if self.closed or getattr(item, "agent", None) != self.agent:
            return
        try:
            self._print(item)
        except BrokenPipeError:
            self.closed = True
            self.gone()

    def _print(self, item: Event | Live) -> None:
        if isinstance(item, TextStreamed):
            self.out.write(item.text)
            self.out.flush()
            self.mid_line = not item.text.endswith("\n")
            return
        if isinstance(item, AssistantMessage) and self.mid_line:
            self.out.write("\n")
            self.mid_line = False
        if isinstance(item, (ToolCall, ToolResult, Error, AgentFinished)):
            marker = {"tool_call": "→", "tool_result": "←", "error": "!", "agent_finished": "■"}[item.kind]
            print(f"  {marker} {describe(item)}", file=self.err, flush=True)


async def run_headless(
    config: Config,
    prompt: str,
    *,
    yes: bool = False,
    script: Path | None = None,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
    stdin: TextIO = sys.stdin,
) -> int:
    """Run the primary on ``prompt``. 0 when it answered; 1 when the turn failed for good (the API
    unreachable, the log unwritable …); 128 + N when signal N stopped it. A warning (an MCP server
    that failed, say) does not fail a run that was answered."""
    if not config.project_trusted:
        report_restricted(Path.cwd(), stderr)
    choice = choose_brain(config)
    if (problem := credentials_problem(choice, config)) is not None:
        print(f"workbench: {problem}", file=stderr)  # before any session: a refused run leaves nothing behind
        return 1
    brain = make_brain(choice, config, script=script)
    if choice.offline_reason:
        print(f"[{choice.offline_reason}]", file=stderr)
    try:
        engine = await Engine.open(config, Path.cwd(), brain, offline_reason=choice.offline_reason)
    except (BundleError, OSError) as exc:
        await brain.aclose()
        print(f"workbench: cannot open the bundle store: {exc}", file=stderr)
        return 1

    def reader_gone() -> None:
        if stdout is sys.stdout:
            silence_stdout()
        engine.follow(asyncio.ensure_future(engine.submit(Interrupt())))  # nobody reads the answer: stop

    desk = TerminalDesk(engine.submit, TerminalApprover(yes, stdin, stderr), TerminalAsker(stdin, stderr))
    engine.subscribe(desk.hear)
    engine.subscribe(_Printer("primary", stdout, stderr, reader_gone))
    stopped_by: list[signal.Signals] = []
    capped = False
    try:
        with _stopped_by_signals(stopped_by):
            await engine.start_mcp()
            if engine.mcp is not None:
                await engine.mcp.settled()
            capped = await _until_capped(engine, prompt)
        if capped:
            print(f"workbench: {engine.view.caps.reason}; stopped there, nothing lost.", file=stderr)
            print("  Resume the session in the app and raise the cap with /budget <usd>.", file=stderr)
    except asyncio.CancelledError:
        if not stopped_by:
            raise
    finally:
        await engine.submit(Close())
    for line in cost_report(engine.events, engine.view.spend.prices):
        print(line, file=stderr)
    print(f"session {engine.session.id}", file=stderr)
    if stopped_by:
        return 128 + stopped_by[0]
    if capped:
        return 1
    if (failure := engine.session.writer.failure) is not None:
        print(f"workbench: the session log could not be written: {failure}", file=stderr)
        return 1
    return 0 if engine.primary.answered else 1


@contextlib.contextmanager
def _stopped_by_signals(stopped_by: list[signal.Signals]) -> Iterator[None]:
    """SIGTERM and SIGHUP cancel the run, so that it ends as a closed app does: every agent stopped,
    every command it ran killed, the log closed. The signal is recorded in ``stopped_by``."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None

    def stop(sig: signal.Signals) -> None:
        if not stopped_by:
            stopped_by.append(sig)
            task.cancel()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop, sig)
    try:
        yield
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
        if stopped_by:
            task.uncancel()


async def _until_capped(engine: Engine, prompt: str) -> bool:
    """Run the prompt and every agent it starts to the end; True when a spend cap stopped them first."""

    async def work() -> None:
        await engine.submit(Send(text=prompt))
        await engine.settled()
        await engine.wait_all()

    running = asyncio.ensure_future(work())
    capped = asyncio.ensure_future(engine.view.caps.reached.wait())
    await asyncio.wait({running, capped}, return_when=asyncio.FIRST_COMPLETED)
    capped.cancel()
    if running.done():
        running.result()
        return False
    running.cancel()
    return True


async def list_bundles(config: Config, out: TextIO = sys.stdout) -> int:
    from workbench.log.catalog import list_sessions

    store = store_for(config)
    entries = await list_sessions(store)
    if not entries:
        print(f"no sessions in {store.root}", file=out)
        return 0
    spend = Spend(PriceTable(config.prices))
    for entry in entries:
        meta = entry.meta
        when = f"{meta.created:%Y-%m-%d %H:%M}" if meta.created else "?"
        tokens = meta.input_tokens + meta.output_tokens
        live = f"  [open in {entry.holder}]" if entry.holder else ""
        cost = cost_text(spend.cost_of(meta.usage)) if meta.usage else "$0.00"
        print(
            f"{meta.id}  {when}  {len(meta.agents)} agent(s)  {meta.events} events  "
            f"{tokens:,} tokens  {cost}  {brain_label(meta.brain, meta.model)}  {meta.title}{live}",
            file=out,
        )
    return 0


async def stored_session(config: Config, session: str, err: TextIO) -> tuple[Path, str, BundleContents] | None:
    """A stored session named by its id or a prefix: its folder, its id, its log; None once it said why not."""
    store = store_for(config)
    try:
        session_id = store.resolve(session)
        return store.folder(session_id), session_id, await store.read(session_id)
    except BundleError as exc:
        print(f"workbench: {exc}", file=err)
        return None


async def show_bundle(config: Config, session: str, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    found = await stored_session(config, session, err)
    if found is None:
        return 1
    _, session_id, contents = found
    print(f"session {session_id}  ({len(contents.events)} events)", file=out)
    for line in transcript(contents.events):
        print(line, file=out)
    for line in cost_report(contents.events, PriceTable(config.prices)):
        print(line, file=out)
    for problem in contents.problems:
        print(f"warning: skipped {problem}", file=err)
    return 0


def session_to_resume(config: Config, session: str | None, err: TextIO = sys.stderr) -> str | None:
    """The session ``--resume ID`` names, or (no id, and ``--continue``) the latest one of this folder;
    None after saying why there is none."""
    from workbench.log.catalog import list_sessions

    store = store_for(config)
    try:
        if session:
            return store.resolve(session)
        here = str(Path.cwd())
        entries = asyncio.run(list_sessions(store))
    except BundleError as exc:
        print(f"workbench: {exc}", file=err)
        return None
    found = next((entry.meta.id for entry in entries if entry.meta.cwd == here), None)
    if found is None:
        print(f"workbench: no session was started in {here} yet; run workbench to start one", file=err)
    return found
