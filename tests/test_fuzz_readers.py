"""No log, however damaged, crashes a reader: each bad line is reported and skipped.

Four hundred generated logs and transcripts in the default run; ``WORKBENCH_SLOW=1 pytest -m slow`` runs ten
thousand of each
(``tests/bundle_fuzz.py`` says what they hold and what reads them), in some ten minutes each.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from tests.bundle_fuzz import bundles, import_transcript, queries, read_everything, transcripts

QUICK = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
QUICK_IMPORTS = settings(QUICK, max_examples=100)
THOROUGH = settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(bundles(), queries)
def test_every_reader_survives_a_damaged_log(data: bytes, query: str) -> None:
    read_everything(data, query)


@QUICK_IMPORTS
@given(transcripts())
def test_importing_a_damaged_claude_code_transcript(data: bytes) -> None:
    import_transcript(data, "claude-code")


@QUICK_IMPORTS
@given(transcripts())
def test_importing_a_damaged_codex_rollout(data: bytes) -> None:
    import_transcript(data, "codex")


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("WORKBENCH_SLOW"), reason="10,000 cases: set WORKBENCH_SLOW=1")
@pytest.mark.timeout(3600)
@THOROUGH
@given(bundles(), queries)
def test_every_reader_survives_ten_thousand_damaged_logs(data: bytes, query: str) -> None:
    read_everything(data, query)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("WORKBENCH_SLOW"), reason="10,000 cases: set WORKBENCH_SLOW=1")
@pytest.mark.timeout(3600)
@THOROUGH
@given(transcripts())
def test_importing_ten_thousand_damaged_transcripts(data: bytes) -> None:
    import_transcript(data, "claude-code")
    import_transcript(data, "codex")
