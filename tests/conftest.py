"""Checks and fixtures for every test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import shells_owned_by


@pytest.fixture(autouse=True, scope="session")
def no_background_shell_outlives_the_tests() -> Iterator[None]:
    """Every engine stops its background shells when it closes: none may be running after the tests."""
    yield
    left = shells_owned_by(os.getpid())
    assert not left, f"background shells outlived their engines: processes {sorted(left)}"


@pytest.fixture(autouse=True)
def home_of_its_own(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test has an empty home folder: the machine's ``~/.claude/CLAUDE.md`` (a memory file every
    session would load) and its user config never reach a test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    return home
