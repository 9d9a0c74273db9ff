"""Background shells: ``Bash`` with ``run_in_background``, read with TaskOutput, stopped with TaskStop.

Each shell runs ``bash -c`` in a session (so a process group) of its own; its
output is copied, up to a cap, into a file beside the bundle, and the agent
reads what is new since its last read. Stopping a shell kills its whole
process group; so does its ending on its own (children it left behind go with
it). The engine stops an agent's shells when the agent ends and every shell
when the session closes, so none outlives the app or the daemon. Each shell
carries :data:`OWNER_VARIABLE` in its environment (the engine's process id),
which is how a check after the tests finds any that escaped.

The manager logs ``shell_started`` and ``shell_ended`` through ``record`` and
reports output as it grows through ``signal`` (a live signal, not logged).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal as signals
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from workbench.protocol.events import Event, ShellEnded, ShellStarted
from workbench.protocol.signals import ShellOutputGrew
from workbench.tools.base import Tool, ToolContext, ToolFailure, ToolOutput

SHELLS = "shells"  # the key of the ShellManager in ToolContext.extras
OWNER_VARIABLE = "WORKBENCH_SHELL_OWNER"
MAX_OUTPUT_BYTES = 8 << 20  # kept per shell; more is counted, not kept
MAX_READ_BYTES = 64 << 10  # returned by one TaskOutput call; the rest waits for the next
SIGNAL_EVERY_S = 0.5  # how often the screens hear that a shell's output grew
DRAIN_AFTER_EXIT_S = 2.0
GROUP_EXIT_POLLS = 500  # of 10 ms: how long a stop waits for the killed processes to be gone  # a child that escaped the group may hold the pipe: stop reading after this

EndedHow = Literal["exited", "stopped", "agent_ended", "session_closed"]


@dataclass
class Shell:
    id: str
    agent: str
    command: str
    path: Path
    process: asyncio.subprocess.Process
    cap: int = MAX_OUTPUT_BYTES  # bytes of output kept in the file
    started: float = field(default_factory=time.monotonic)
    written: int = 0  # bytes the command wrote
    kept: int = 0  # of them, in the file
    read_at: int = 0  # the file offset up to which the agent has read
    exit_code: int | None = None
    how: EndedHow | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    grew: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def running(self) -> bool:
        return self.how is None

    @property
    def dropped(self) -> int:
        return self.written - self.kept

    def status(self) -> str:
        seconds = time.monotonic() - self.started
        if self.how is None:
            state = f"running for {seconds:.1f} s"
        elif self.how == "exited":
            state = f"exited with code {self.exit_code}"
        else:
            state = "stopped" if self.how == "stopped" else f"stopped ({self.how.replace('_', ' ')})"
        dropped = f", {self.dropped:,} past the {self.cap:,}-byte cap not kept" if self.dropped else ""
        return f"[{self.id} · {state} · {self.written:,} bytes of output{dropped}]"


class ShellManager:
    """Every background shell of a session."""

    def __init__(
        self,
        folder: Path,
        record: Callable[[Event], Awaitable[Any]],
        signal: Callable[[ShellOutputGrew], None] = lambda grew: None,
        *,
        cap_bytes: int = MAX_OUTPUT_BYTES,
    ) -> None:
        self.folder = folder
        self.record = record
        self.signal = signal
        self.cap_bytes = cap_bytes
        self.shells: dict[str, Shell] = {}
        self._number = 0
        self._watchers: set[asyncio.Task[None]] = set()
        self.closed = False

    def resume_numbering(self, started: int) -> None:
        """A resumed session had ``started`` shells already: new ids follow theirs."""
        self._number = max(self._number, started)

    def get(self, shell_id: str) -> Shell:
        shell = self.shells.get(shell_id)
        if shell is None:
            known = ", ".join(self.shells) or "none has been started"
            raise ToolFailure(f"No background shell {shell_id!r} (shells: {known})")
        return shell

    def running(self, agent: str | None = None) -> list[Shell]:
        return [s for s in self.shells.values() if s.running and (agent is None or s.agent == agent)]

    async def start(
        self, agent: str, command: str, cwd: Path, *, description: str = "", tool_use_id: str | None = None
    ) -> Shell:
        if self.closed:
            raise ToolFailure("The session is closing: no new background shell can start")
        self._number += 1
        shell_id = f"bash_{self._number}"
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.folder / f"{shell_id}.log"
        out_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        read_fd, write_fd = os.pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                "bash",
                "-c",
                command,
                cwd=cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_fd,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # a process group of its own: a stop reaches every child
                env={**os.environ, OWNER_VARIABLE: str(os.getpid())},
            )
        except BaseException:
            os.close(read_fd)
            os.close(out_fd)
            raise
        finally:
            os.close(write_fd)
        shell = Shell(id=shell_id, agent=agent, command=command, path=path, process=process, cap=self.cap_bytes)
        self.shells[shell_id] = shell
        await self.record(
            ShellStarted(
                agent=agent,
                shell_id=shell_id,
                command=command,
                description=description,
                output_path=str(path),
                tool_use_id=tool_use_id,
            )
        )
        watcher = asyncio.create_task(self._watch(shell, read_fd, out_fd), name=f"shell-{shell_id}")
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        return shell

    async def _watch(self, shell: Shell, read_fd: int, out_fd: int) -> None:
        reader = asyncio.StreamReader()
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
        )
        copying = asyncio.create_task(self._copy(shell, reader, out_fd))
        try:
            code = await shell.process.wait()
            kill_group(shell.process.pid)  # what the command left running goes with it
            await _group_gone(shell.process.pid)
            try:
                await asyncio.wait_for(asyncio.shield(copying), DRAIN_AFTER_EXIT_S)
            except TimeoutError:
                copying.cancel()
        finally:
            transport.close()
            os.close(out_fd)
        if shell.how is None:
            shell.exit_code = code
            await self._ended(shell, "exited")

    async def _copy(self, shell: Shell, reader: asyncio.StreamReader, out_fd: int) -> None:
        last_signal = 0.0
        while chunk := await reader.read(65536):
            room = shell.cap - shell.kept
            if room > 0:
                kept = chunk[:room]
                os.write(out_fd, kept)
                shell.kept += len(kept)
            shell.written += len(chunk)
            shell.grew.set()
            now = time.monotonic()
            if now - last_signal >= SIGNAL_EVERY_S:
                last_signal = now
                self.signal(ShellOutputGrew(agent=shell.agent, shell_id=shell.id, output_bytes=shell.written))

    async def stop(self, shell_id: str, how: EndedHow = "stopped", by: str = "") -> Shell:
        """Kill the shell's whole process group and log it; a shell that already ended is left as it is."""
        shell = self.get(shell_id)
        if not shell.running:
            return shell
        shell.how = how  # claimed now: the watcher will not log an exit of its own
        kill_group(shell.process.pid)
        shell.exit_code = await shell.process.wait()
        await _group_gone(shell.process.pid)
        await self._ended(shell, how, by)
        return shell

    async def _ended(self, shell: Shell, how: EndedHow, by: str = "") -> None:
        shell.how = how
        self.signal(ShellOutputGrew(agent=shell.agent, shell_id=shell.id, output_bytes=shell.written))
        await self.record(
            ShellEnded(
                agent=shell.agent,
                shell_id=shell.id,
                how=how,
                exit_code=shell.exit_code,
                output_bytes=shell.written,
                dropped_bytes=shell.dropped,
                by=by,
            )
        )
        shell.ended.set()
        shell.grew.set()

    async def stop_agent(self, agent: str) -> None:
        """The agent ended (done, failed or cancelled): its shells go with it."""
        for shell in self.running(agent):
            await self.stop(shell.id, "agent_ended")

    async def close(self) -> None:
        """The session closes: every shell is stopped and logged so, and their watchers end."""
        self.closed = True
        for shell in self.running():
            await self.stop(shell.id, "session_closed")
        await asyncio.gather(*self._watchers, return_exceptions=True)

    def read_new(self, shell: Shell, pattern: re.Pattern[str] | None) -> str:
        """The output written since the last read (at most MAX_READ_BYTES; a running shell's unfinished
        last line waits for the next read), kept to the lines ``pattern`` matches."""
        with shell.path.open("rb") as f:
            f.seek(shell.read_at)
            data = f.read(MAX_READ_BYTES)
        if shell.running and len(data) < MAX_READ_BYTES and b"\n" in data:
            data = data[: data.rindex(b"\n") + 1]
        elif shell.running and b"\n" not in data and len(data) < MAX_READ_BYTES:
            data = b""
        shell.read_at += len(data)
        text = data.decode("utf-8", errors="replace")
        if pattern is not None:
            text = "".join(line for line in text.splitlines(keepends=True) if pattern.search(line))
        return text


async def _group_gone(pgid: int) -> None:
    """Wait (briefly) until every process of the killed group has died: SIGKILL is delivered at once, but
    each process still has to be scheduled to exit."""
    for _ in range(GROUP_EXIT_POLLS):
        if not _group_running(pgid):
            return
        await asyncio.sleep(0.01)


def _group_running(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies have finished; they only wait to be reaped)."""
    try:
        entries = os.listdir("/proc")
    except OSError:  # no /proc: the kernel's word, zombies included
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signals.SIGKILL)
    except (ProcessLookupError, PermissionError):  # the whole group has exited already
        pass


def manager_of(ctx: ToolContext) -> ShellManager:
    manager = ctx.extras.get(SHELLS)
    if not isinstance(manager, ShellManager):
        raise ToolFailure(
            "Background shells are not available to this agent; run the command without run_in_background"
        )
    return manager


async def start_background(command: str, description: str | None, ctx: ToolContext) -> ToolOutput:
    """What ``Bash`` with ``run_in_background`` does: start the shell, say how to follow it."""
    shell = await manager_of(ctx).start(
        ctx.agent_id, command, ctx.workspace, description=description or "", tool_use_id=ctx.tool_use_id or None
    )
    return ToolOutput(
        content=f"Command running in background with ID: {shell.id}. Read its new output with "
        f'TaskOutput (task_id "{shell.id}"); stop it with TaskStop.'
    )


class TaskOutputInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_id: str = Field(
        validation_alias=AliasChoices("task_id", "bash_id", "shell_id"),
        description="The ID of the background shell (what Bash with run_in_background returned)",
    )
    block: bool = Field(default=True, description="Wait for the shell to finish (up to timeout) before answering")
    timeout: int = Field(default=30_000, ge=0, le=600_000, description="How long to wait when blocking, in ms")
    filter: str | None = Field(
        default=None,
        description="A regular expression: only the new lines it matches are returned (the others are "
        "consumed all the same)",
    )


class TaskOutput(Tool[TaskOutputInput]):
    name = "TaskOutput"
    description = (
        "Read the output a background shell wrote since your last read (a shell started by Bash with "
        "run_in_background), with its status: running, or how it ended and its exit code. block=true "
        "(the default) waits for the shell to finish, up to timeout ms; block=false answers at once. "
        "filter keeps only matching lines."
    )
    Input = TaskOutputInput
    kind = "read"

    def subject(self, params: TaskOutputInput) -> str:
        return params.task_id

    async def run(self, params: TaskOutputInput, ctx: ToolContext) -> ToolOutput:
        manager = manager_of(ctx)
        shell = manager.get(params.task_id)
        pattern = _pattern(params.filter)
        if params.block and shell.running:
            try:
                await asyncio.wait_for(shell.ended.wait(), params.timeout / 1000)
            except TimeoutError:
                pass
        text = await asyncio.to_thread(manager.read_new, shell, pattern)
        body = text.rstrip("\n") if text.strip() else "(no new output)"
        waiting = shell.kept - shell.read_at
        more = f"\n[{waiting:,} more bytes of output wait: call TaskOutput again]" if waiting > 0 else ""
        return ToolOutput(content=f"{shell.status()}\n{body}{more}")


class TaskStopInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task_id: str = Field(
        validation_alias=AliasChoices("task_id", "shell_id"), description="The ID of the background shell to stop"
    )


class TaskStop(Tool[TaskStopInput]):
    name = "TaskStop"
    description = "Stop a background shell by its ID: the command and every process it started are killed."
    Input = TaskStopInput
    kind = "interaction"

    def subject(self, params: TaskStopInput) -> str:
        return params.task_id

    async def run(self, params: TaskStopInput, ctx: ToolContext) -> ToolOutput:
        manager = manager_of(ctx)
        shell = manager.get(params.task_id)
        if not shell.running:
            return ToolOutput(content=f"{shell.id} had already ended: {shell.status()}")
        await manager.stop(shell.id, "stopped", by=ctx.agent_id)
        return ToolOutput(content=f"Stopped {shell.id} ({shell.command}) and every process it started.")


def _pattern(text: str | None) -> re.Pattern[str] | None:
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise ToolFailure(f"filter {text!r} is not a valid regular expression: {exc}") from None
