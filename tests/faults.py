"""Real faults for tests: a disk that fills up, a store mounted read-only.

A full disk is a file-size limit (``RLIMIT_FSIZE``) on a child process: past it, a
write stores what fits and fails with ``EFBIG`` (Python ignores the ``SIGXFSZ`` that
would otherwise kill it), which is what a full disk does to the writer. A read-only
store is a read-only bind mount inside a private mount namespace (``unshare``), so
the rest of the machine never sees it.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest


def with_file_size_limit(limit: int, argv: Sequence[str], **kwargs) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` where no file can grow past ``limit`` bytes."""

    def limit_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    return subprocess.run(argv, preexec_fn=limit_files, capture_output=True, text=True, timeout=120, **kwargs)


def read_only_run(folder: Path, argv: Sequence[str], **kwargs) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with ``folder`` mounted read-only (skips the test where namespaces are not allowed)."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare(1) is not installed")
    probe = subprocess.run([unshare, "--map-root-user", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here: {probe.stderr.decode().strip()}")
    mount_then_run = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    return subprocess.run(
        [unshare, "--map-root-user", "--mount", "sh", "-c", mount_then_run, str(folder), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )
