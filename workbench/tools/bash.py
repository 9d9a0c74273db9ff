"""Bash: run a shell command in the workspace, in its own process group."""

from __future__ import annotations

import asyncio
import os
import signal

from pydantic import BaseModel, ConfigDict, Field

from workbench.tools.base import MAX_RESULT_CHARS, Tool, ToolContext, ToolOutput, truncate
from workbench.tools.shells import start_background

DEFAULT_TIMEOUT_S = 120
MAX_TIMEOUT_S = 600
# output beyond this is counted but not kept, so a runaway command cannot exhaust memory
KEEP_BYTES = 1 << 20
# room after the (possibly truncated) output for the exit status line
STATUS_ROOM = 200


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
        # our own pipe rather than PIPE: asyncio's proc.wait() would also wait for
        # the pipe to close, which a process that left the group could hold forever
        read_fd, write_fd = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                "bash",
                "-c",
                params.command,
                cwd=ctx.workspace,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=write_fd,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own process group, so a kill reaches every child
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
        try:
            async with asyncio.timeout(params.timeout):
                await output.collect(reader)
                code = await proc.wait()
        except TimeoutError:
            _kill_group(proc.pid)
            await proc.wait()
            status = f"[timed out after {params.timeout:g} s; killed the command's process group]"
            return output.result(status, is_error=True)
        except BaseException:  # cancelled (or anything else): leave nothing running behind
            _kill_group(proc.pid)
            await proc.wait()  # prompt after SIGKILL; reaps the shell before the task ends
            raise
        finally:
            transport.close()
        return output.result(f"[exit code {code}]", is_error=code != 0)


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


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:  # every process of the group has already exited
        pass
