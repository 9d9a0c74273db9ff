"""Checks that hold for the whole test run."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.processes import shells_owned_by


@pytest.fixture(autouse=True, scope="session")
def no_background_shell_outlives_the_tests() -> Iterator[None]:
    """Every engine stops its background shells when it closes: none may be running after the tests."""
    yield
    left = shells_owned_by(os.getpid())
    assert not left, f"background shells outlived their engines: processes {sorted(left)}"
