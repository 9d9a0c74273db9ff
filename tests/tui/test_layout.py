"""One screen, every pane visible, from 100x30 to 200x60."""

from __future__ import annotations

import pytest
from textual.widgets import Footer

from workbench.frontends.tui.widgets.agents_pane import AgentsPane
from workbench.frontends.tui.widgets.budget_pane import BudgetPane
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.log_pane import LogPane
from workbench.frontends.tui.widgets.prompt import PromptBox
from workbench.frontends.tui.widgets.session_header import SessionHeader

from .helpers import engine_ready, settle, type_and_send

PANES = (SessionHeader, AgentsPane, BudgetPane, Conversation, LogPane, PromptBox, Footer)


def assert_every_pane_fits(app, width: int, height: int) -> None:
    screen_region = app.screen.region
    assert (screen_region.width, screen_region.height) == (width, height)
    regions = {}
    for pane in PANES:
        region = app.query_one(pane).region
        assert region.width > 0 and region.height > 0, f"{pane.__name__} is not visible"
        assert screen_region.contains_region(region), f"{pane.__name__} spills off screen"
        regions[pane] = region
    # the conversation is the largest pane
    area = {pane: r.width * r.height for pane, r in regions.items()}
    assert max(area, key=area.get) is Conversation


@pytest.mark.parametrize("size", [(100, 30), (160, 48), (200, 60)])
async def test_every_pane_is_visible(make_app, size: tuple[int, int]) -> None:
    async with make_app().run_test(size=size) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "read README.md")
        await settle(pilot)
        assert_every_pane_fits(app, *size)


async def test_resizing_down_to_100x30_keeps_every_pane(make_app) -> None:
    async with make_app().run_test(size=(200, 60)) as pilot:
        app = await engine_ready(pilot)
        await pilot.resize_terminal(100, 30)
        await settle(pilot)
        assert_every_pane_fits(app, 100, 30)
        budget = app.query_one(BudgetPane)
        assert budget.region.height >= 6  # the gauge, the thresholds and the totals at least
