"""Where a store's daemon listens and keeps its state: one daemon per store.

The socket lives under ``$XDG_RUNTIME_DIR/workbench`` (owner-only), named after
the store it serves; the daemon's lock and the list of sessions it hosts live
in the store itself (``.daemon/``), so a daemon started after a crash finds
what the last one was running.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

DIR_MODE = 0o700


def runtime_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_RUNTIME_DIR")
    root = Path(base) if base else Path(tempfile.gettempdir()) / f"workbench-{os.getuid()}"
    return root / "workbench" if base else root


def socket_path(store_root: Path, environ: dict[str, str] | None = None) -> Path:
    digest = hashlib.sha256(str(store_root.resolve()).encode()).hexdigest()[:16]
    return runtime_dir(environ) / f"daemon-{digest}.sock"


def daemon_dir(store_root: Path) -> Path:
    return store_root / ".daemon"


def make_private_dir(path: Path) -> None:
    """Create ``path`` owner-only; an existing folder must be ours and private already."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    info = path.stat()
    if info.st_uid != os.getuid():
        raise PermissionError(f"{path} belongs to another user; the daemon will not use it")
    if info.st_mode & 0o077:
        os.chmod(path, DIR_MODE)
