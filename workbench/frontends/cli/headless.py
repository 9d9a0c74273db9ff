"""The headless front end: ``workbench run`` and ``workbench bundles``."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from workbench.engine.brain_factory import choose_brain, make_brain
from workbench.engine.config import Config
from workbench.engine.engine import Engine, store_for
from workbench.frontends.cli.terminal import TerminalApprover, TerminalAsker, TerminalDesk
from workbench.log.bundle import BundleContents, BundleError
from workbench.log.transcript import brain_label, describe, transcript
from workbench.protocol.brain_io import BrainError
from workbench.protocol.commands import Close, Send
from workbench.protocol.events import AgentFinished, AssistantMessage, Error, Event, ToolCall, ToolResult
from workbench.protocol.signals import Live, TextStreamed


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
    """Reply text to stdout as it streams; tool activity and errors to stderr."""

    def __init__(self, agent: str, out: TextIO, err: TextIO) -> None:
        self.agent, self.out, self.err = agent, out, err
        self.mid_line = False

    def __call__(self, item: Event | Live) -> None:
        if getattr(item, "agent", None) != self.agent:
            return
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
    if not config.project_trusted:
        report_restricted(Path.cwd(), stderr)
    choice = choose_brain(config)
    brain = make_brain(choice, config, script=script)
    if choice.offline_reason:
        print(f"[{choice.offline_reason}]", file=stderr)
    try:
        engine = await Engine.open(config, Path.cwd(), brain, offline_reason=choice.offline_reason)
    except (BundleError, OSError) as exc:
        print(f"workbench: cannot open the bundle store: {exc}", file=stderr)
        return 1
    desk = TerminalDesk(engine.submit, TerminalApprover(yes, stdin, stderr), TerminalAsker(stdin, stderr))
    engine.subscribe(desk.hear)
    engine.subscribe(_Printer("primary", stdout, stderr))
    failed = False
    try:
        await engine.start_mcp()
        if engine.mcp is not None:
            await engine.mcp.settled()
        await engine.submit(Send(text=prompt))
        await engine.settled()
        await engine.wait_all()
        failed = any(isinstance(e, Error) and not e.retryable for e in engine.events)
    except BrainError as exc:  # defensive: brains report through events, but never crash the CLI
        print(f"workbench: {exc}", file=stderr)
        failed = True
    finally:
        await engine.submit(Close())
    print(f"session {engine.session.id}", file=stderr)
    return 1 if failed else 0


async def list_bundles(config: Config, out: TextIO = sys.stdout) -> int:
    from workbench.log.catalog import list_sessions

    store = store_for(config)
    entries = await list_sessions(store)
    if not entries:
        print(f"no sessions in {store.root}", file=out)
        return 0
    for entry in entries:
        meta = entry.meta
        when = f"{meta.created:%Y-%m-%d %H:%M}" if meta.created else "?"
        tokens = meta.input_tokens + meta.output_tokens
        live = f"  [open in {entry.holder}]" if entry.holder else ""
        print(
            f"{meta.id}  {when}  {len(meta.agents)} agent(s)  {meta.events} events  "
            f"{tokens:,} tokens  {brain_label(meta.brain, meta.model)}  {meta.title}{live}",
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
