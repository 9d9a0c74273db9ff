"""What a background shell has written, for a screen: the size of its output file and its last lines.

The file's path is in the shell's ``shell_started`` event; it is read only when it lies in the
session's own shells folder (a log from elsewhere cannot make a screen read any file it names).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from workbench.engine.toolbox import SHELLS_FOLDER
from workbench.engine.views.shells import Shells

if TYPE_CHECKING:
    from workbench.engine.engine import Engine

TAIL_BYTES = 16 * 1024  # of the end of the output a screen shows


class ShellOutput(BaseModel):
    shell_id: str
    size: int = 0  # bytes in its output file (a shell that wrote past the cap kept only the first of them)
    tail: str = ""  # the last whole lines, at most ``tail_bytes`` of them
    cut: bool = False  # the tail starts after the file's beginning
    note: str = ""  # why there is nothing to show


def shell_output(shells: Shells, folder: Path | None, shell_id: str, tail_bytes: int = TAIL_BYTES) -> ShellOutput:
    """The output of ``shell_id`` as its file holds it now; ``tail_bytes`` 0: its size only."""
    row = shells.rows.get(shell_id)
    if row is None:
        return ShellOutput(shell_id=shell_id, note=f"no background shell {shell_id!r} in this session")
    path = Path(row.output_path)
    if folder is None or not path.is_relative_to(folder):
        return ShellOutput(shell_id=shell_id, note=f"its output is not in this session's folder ({path})")
    try:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            start = max(0, size - tail_bytes)
            f.seek(start)
            data = f.read(size - start)
    except OSError as exc:
        return ShellOutput(shell_id=shell_id, note=f"its output cannot be read: {exc.strerror or exc}")
    if start and b"\n" in data:
        data = data[data.index(b"\n") + 1 :]  # from the first whole line
    return ShellOutput(shell_id=shell_id, size=size, tail=data.decode("utf-8", errors="replace"), cut=start > 0)


async def session_shell_output(engine: Engine, shell_id: str, tail_bytes: int = TAIL_BYTES) -> ShellOutput:
    """The output of a shell of the engine's session (read off the event loop)."""
    folder = engine.session.folder / SHELLS_FOLDER
    return await asyncio.to_thread(shell_output, engine.view.shells, folder, shell_id, tail_bytes)


async def recorded_shell_output(
    shells: Shells, session_folder: Path | None, shell_id: str, tail_bytes: int = TAIL_BYTES
) -> ShellOutput:
    """The output a past session's shell left in its folder."""
    folder = session_folder / SHELLS_FOLDER if session_folder is not None else None
    return await asyncio.to_thread(shell_output, shells, folder, shell_id, tail_bytes)
