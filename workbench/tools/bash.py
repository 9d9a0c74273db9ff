"""Bash: run a shell command in the workspace; everything it starts ends with the call."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys

from pydantic import BaseModel, ConfigDict, Field

from workbench.tools import shell_guard
from workbench.tools.base import MAX_RESULT_CHARS, Tool, ToolContext, ToolOutput, truncate
from workbench.tools.shell_guard import MARK, kill_marked, kill_orphans, of_call, owner_of_this_process
from workbench.tools.shells import kill_group, start_background

DEFAULT_TIMEOUT_S = 120
MAX_TIMEOUT_S = 600
# output beyond this is counted but not kept, so a runaway command cannot exhaust memory
KEEP_BYTES = 1 << 20
# room after the (possibly truncated) output for the exit status line
STATUS_ROOM = 200
# after a call's processes are killed, how long a process that escaped the kill may hold its output open
DRAIN_S = 2.0


class BashInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: str = Field(description="The command to run with `bash -c`, in the workspace folder")
    timeout: float = Field(
        default=DEFAULT_TIMEOUT_S,
        gt=0,
        le=MAX_TIMEOUT_S,
        description=f"Seconds to wait before the command and everything it started is killed "
        f"(default {DEFAULT_TIMEOUT_S}, at most {MAX_TIMEOUT_S})",
    )
    description: str | None = Field(default=None, description="What the command does, in 5-10 words, shown to the user")
    run_in_background: bool = Field(
        default=False,
        description="Run it in the background and answer at once with a shell ID: for servers, watchers and "
        "long builds. Read its output with TaskOutput, stop it with TaskStop (timeout does not apply)",
    )


class Bash(Tool[BashInput]):
    name = "Bash"
    description = (
        "Run a shell command with `bash -c` in the workspace. stdout and stderr come back together, "
        f"followed by the exit code; output is cut after {MAX_RESULT_CHARS:,} characters. Nothing can be "
        "typed into the command (stdin is empty). Prefer Read, Edit, Glob and Grep for files. "
        "With run_in_background the command runs on while you work; TaskOutput reads what it wrote since."
    )
    Input = BashInput
    kind = "exec"

    def subject(self, params: BashInput) -> str:
        return params.command

    async def run(self, params: BashInput, ctx: ToolContext) -> ToolOutput:
        if params.run_in_background:
            return await start_background(params.command, params.description, ctx)
        call = await SHELL_CALLS.begin()
        # our own pipe rather than PIPE: asyncio's proc.wait() would also wait for
        # the pipe to close, which a process that left the group could hold forever
        read_fd, write_fd = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                "bash",
                "-c",
                params.command,
                cwd=ctx.workspace,
                env=SHELL_CALLS.environment(call),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_fd,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own session and process group, so a kill reaches every child
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        reader = asyncio.StreamReader()
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
        )
        output = _Output()
        collecting = asyncio.create_task(output.collect(reader))
        timed_out = False
        try:
            async with asyncio.timeout(params.timeout):
                code = await proc.wait()
        except TimeoutError:
            timed_out = True
        finally:
            # the shell is done, timed out or interrupted: what it started ends with it, then
            # the pipe closes (whatever escaped the kill gets a moment to let go of it)
            await _end_call(proc, call)
            await asyncio.wait([collecting], timeout=DRAIN_S)
            collecting.cancel()
            transport.close()
        if timed_out:
            status = f"[timed out after {params.timeout:g} s; killed the command and everything it started]"
            return output.result(status, is_error=True)
        return output.result(f"[exit code {code}]", is_error=code != 0)


async def _end_call(proc: asyncio.subprocess.Process, call: str) -> None:
    """Kill the call's process group and every process carrying its mark; reap the shell."""
    kill_group(proc.pid)
    await asyncio.shield(proc.wait())  # prompt after SIGKILL; an interrupt must not leave a zombie
    await asyncio.to_thread(kill_marked, of_call(call))


class _ShellCalls:
    """The Bash calls of this process: a mark for each (see ``shell_guard``), and the guard that
    ends them with the app, started with the first call (which also ends what crashed runs left)."""

    def __init__(self) -> None:
        self._pid = 0
        self._owner = ""
        self._count = itertools.count(1)
        self._guard: subprocess.Popen[bytes] | None = None

    async def begin(self) -> str:
        """A new call's mark."""
        if self._pid != os.getpid():  # the first call of this process (or of a forked child)
            self._pid, self._owner, self._guard = os.getpid(), owner_of_this_process(), None
            await asyncio.to_thread(kill_orphans)
        if self._guard is None or self._guard.poll() is not None:
            self._guard = subprocess.Popen(
                [sys.executable, "-I", "-S", shell_guard.__file__, self._owner],
                stdin=subprocess.PIPE,  # the lifeline: only this process holds its other end
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # signals sent to the app's process group leave it be
            )
        return f"{self._owner}-{next(self._count)}"

    def environment(self, call: str) -> dict[str, str]:
        inherited = os.environ.get(MARK)
        return {**os.environ, MARK: f"{inherited}:{call}" if inherited else call}


SHELL_CALLS = _ShellCalls()


class _Output:
    """The command's combined output, kept up to KEEP_BYTES."""

    def __init__(self) -> None:
        self.kept = bytearray()
        self.dropped = 0

    async def collect(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(65536):
            room = KEEP_BYTES - len(self.kept)
            self.kept += chunk[:room]
            self.dropped += max(0, len(chunk) - room)

    def result(self, status: str, is_error: bool) -> ToolOutput:
        text = self.kept.decode("utf-8", errors="replace")
        body = truncate(text, MAX_RESULT_CHARS - STATUS_ROOM) if text else ToolOutput(content="(no output)")
        if self.dropped:
            status += f" [a further {self.dropped:,} bytes of output were discarded]"
        return ToolOutput(
            content=f"{body.content}\n{status}",
            is_error=is_error,
            truncated_chars=body.truncated_chars + self.dropped,
        )
