"""Screenshots read as the screen does: the spaces that begin a run of text are kept."""

from __future__ import annotations

import re

from tests.tui.helpers import engine_ready


async def test_a_screenshot_keeps_its_spaces(make_app) -> None:  # type: ignore[no-untyped-def]
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        svg = app.export_screenshot()
    assert '<svg xml:space="preserve" ' in svg
    # runs of text that begin with a space (a key's label after the bold key) are what need it
    assert re.search(r'clip-path="[^"]*">&#160;\w', svg)
