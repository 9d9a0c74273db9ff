"""Inline code in a reply keeps the spaces around it on screen ("`pwd` failed", not "pwdfailed")."""

from __future__ import annotations

from pathlib import Path

import yaml
from textual.widget import Widget

from workbench.brains.scripted import ScriptedBrain
from workbench.frontends.tui.app import WorkbenchApp
from workbench.frontends.tui.widgets.assistant_reply import AssistantReply

from .helpers import engine_ready, settle, type_and_send

REPLY = "Running `pwd` failed, so I read `README.md` instead: `README.md` has 170 lines and `app.py` has 2."


def shown_text(app: WorkbenchApp, widget: Widget) -> str:
    """What the screen shows in the widget's region, its lines joined by spaces."""
    region = widget.region
    lines = app.screen._compositor.render_strips()[region.y : region.bottom]
    return " ".join(" ".join(line.text[region.x : region.right].split()) for line in lines)


async def test_the_spaces_around_inline_code_survive_on_screen(make_app, tmp_path: Path) -> None:
    script = tmp_path / "reply.yaml"
    script.write_text(yaml.safe_dump([REPLY]))
    for size in ((160, 48), (100, 30)):
        async with make_app(brain=ScriptedBrain(script)).run_test(size=size) as pilot:
            app = await engine_ready(pilot)
            await type_and_send(pilot, "where am I?")
            await settle(pilot)
            (reply,) = app.query(AssistantReply)
            shown = shown_text(app, reply)
            for words in ("Running pwd failed,", "read README.md instead", "README.md has 170 lines", "app.py has 2"):
                assert words in shown, (size, shown)
