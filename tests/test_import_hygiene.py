"""At run time, as the import contracts say statically: the engine loads no UI."""

from __future__ import annotations

import subprocess
import sys

import pytest

ENGINE_SIDE = (
    "workbench.engine.engine",
    "workbench.engine.client",
    "workbench.engine.transports.daemon",
    "workbench.engine.transports.daemon_client",
    "workbench.frontends.cli.headless",
    "workbench.frontends.cli.daemon",
)


@pytest.mark.parametrize("module", ENGINE_SIDE)
def test_importing_it_loads_no_textual(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'workbench.frontends.tui'))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
