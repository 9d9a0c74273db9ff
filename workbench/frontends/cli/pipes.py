"""Standard output whose reader may go away: ``workbench … | head``."""

from __future__ import annotations

import os
import sys


def silence_stdout() -> None:
    """Send what is still written to stdout to /dev/null, so that nothing (Python's flush at exit
    included) fails again on a pipe whose reader is gone."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
