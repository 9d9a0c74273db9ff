"""The primer picker: primers in lookup order, a preview of exactly what is injected and its cost, and bad
primers explained in the picker with nothing injected."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, Static

from tests.tui.helpers import engine_of
from workbench.frontends.tui.screens.primer_picker import PrimerPicker
from workbench.frontends.tui.widgets.prompt import PromptArea
from workbench.protocol.events import Primed

from .conftest import WORKSPACE
from .helpers import engine_ready, notices, settle, until

HELLO = """---
description: Greet someone, with the README at hand
argument-hint: <name>
---
Say hello to $ARGUMENTS, then summarise the project for them.

@README.md
"""
OUR_FEATURE = """---
description: Our own feature primer (it overrides the built-in one)
argument-hint: <feature>
---
Build $ARGUMENTS, starting from the entry point:

@app.py
"""
REVIEW = """---
description: Review a pull request
argument-hint: <number>
allowed-tools: Bash(echo:*)
---
!`echo reviewing pull request $0`
"""
BROKEN = "---\ndescription: Broken on purpose\ntools: [Read, Grep\n---\nbody\n"
MISSING_FILE = "---\ndescription: Includes a file that is not there\n---\nRead this:\n@docs/missing.md\n"
BINARY = "---\ndescription: Includes a binary file\n---\nRead this:\n@blob.bin\n"
FAILING = "---\ndescription: Runs a command that fails\ntools: Bash(ls:*)\n---\n!`ls no-such-folder`\n"
SLOW = "---\ndescription: Runs a command that takes too long\ntools: Bash(sleep:*)\ntimeout: 1\n---\n!`sleep 5`\n"
LARGE = "---\ndescription: Includes a large file\n---\n@big.txt\n"


@pytest.fixture
def primers(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # the user's own primers folder is pinned (and empty), so only these and the built-ins are listed
    monkeypatch.setenv("XDG_CONFIG_HOME", str(WORKSPACE.parent / "user-config"))
    project = workspace / ".workbench" / "primers"
    project.mkdir(parents=True)
    (project / "hello.md").write_text(HELLO)
    (project / "feature.md").write_text(OUR_FEATURE)
    (project / "broken.md").write_text(BROKEN)
    claude = workspace / ".claude" / "commands"
    claude.mkdir(parents=True)
    (claude / "review-pr.md").write_text(REVIEW)
    return project


def picker(app) -> PrimerPicker:
    assert isinstance(app.screen, PrimerPicker)
    return app.screen


async def open_picker(pilot, arguments: str = "", highlight: str | None = None) -> PrimerPicker:
    app = pilot.app
    app.query_one(PromptArea).load_text(arguments)
    await pilot.press("ctrl+r")
    await until(pilot, lambda: isinstance(app.screen, PrimerPicker))
    screen = picker(app)
    if highlight is not None:
        options = screen.query_one(OptionList)
        options.highlighted = options.get_option_index(highlight)
    await pilot.pause()
    return screen


def status(screen: PrimerPicker) -> str:
    return str(screen.query_one("#primer-status", Static).visual)


def primed(app) -> list[Primed]:
    return [e for e in engine_of(app).events if isinstance(e, Primed)]


async def test_primers_are_listed_in_lookup_order_with_what_shadows_what(make_app, primers: Path) -> None:
    async with make_app().run_test(size=(160, 48)) as pilot:
        await engine_ready(pilot)
        screen = await open_picker(pilot)
        rows = [str(o.prompt).split("\n")[0] for o in screen.query_one(OptionList).options if o is not None]
        assert rows[:6] == [
            "PROJECT  .workbench/primers",
            "broken  ✕ cannot be used",
            "feature  <feature>  overrides built-in",
            "hello  <name>",
            "CLAUDE CODE COMMANDS  .claude/commands",
            "review-pr  <number>",
        ]
        assert rows[6] == "BUILT-IN"
        assert "feature  overridden by project" in rows[7:]
        assert {"bug-smash", "docs", "refactor", "review", "test"} <= {row.split("  ")[0] for row in rows[7:]}
        # the highlighted primer's file, and the one it overrides
        options = screen.query_one(OptionList)
        options.highlighted = options.get_option_index("feature")
        await pilot.pause()
        info = str(screen.query_one("#primer-info", Static).visual)
        assert ".workbench/primers/feature.md  (project)" in info
        assert "overrides   feature.md  (built-in)" in info
        assert "includes    @app.py" in info
        assert screen.query_one(Input).placeholder == "<feature>"


async def test_the_previewed_token_count_is_what_lands_in_the_primers_budget(make_app, primers: Path) -> None:
    async with make_app().run_test(size=(160, 48)) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        before = bench.budget("primary").estimates["primers"]
        screen = await open_picker(pilot, "Ada", highlight="hello")
        await until(pilot, lambda: screen.state == "ready")  # no commands: previewed without asking
        preview = screen.preview
        assert preview is not None and preview.arguments == "Ada"
        assert f"{preview.tokens:,} tokens" in status(screen)
        shown = str(screen.query_one("#primer-text", Static).visual)
        assert shown == preview.text and "Say hello to Ada" in shown and "# Demo project" in shown
        assert not primed(app)  # a preview injects nothing

        await pilot.press("enter")
        await until(pilot, lambda: bool(primed(app)))
        await settle(pilot)
        (event,) = primed(app)
        assert (event.text, event.sha256, event.tokens) == (preview.text, preview.sha256, preview.tokens)
        assert bench.budget("primary").estimates["primers"] - before == preview.tokens
        assert any(f"Primer hello loaded: {preview.tokens:,} tokens into primary" in n for n in notices(app))


async def test_an_at_that_names_no_file_is_previewed_as_text_with_a_note(make_app, primers: Path) -> None:
    (primers / "missing-file.md").write_text(MISSING_FILE)
    async with make_app().run_test(size=(160, 48)) as pilot:
        await engine_ready(pilot)
        screen = await open_picker(pilot, "")
        options = screen.query_one(OptionList)
        ids = lambda: {options.get_option_at_index(i).id for i in range(options.option_count)}  # noqa: E731
        await until(pilot, lambda: "missing-file" in ids())
        options.highlighted = options.get_option_index("missing-file")
        await until(pilot, lambda: screen.preview is not None and screen.preview.primer.name == "missing-file")
        assert screen.preview.text == "Read this:\n@docs/missing.md"
        assert "note: @docs/missing.md was left as text: it is not a file of the workspace" in status(screen)


async def test_a_primer_with_commands_runs_them_only_on_enter_and_a_new_argument_needs_a_new_preview(
    make_app, primers: Path
) -> None:
    async with make_app().run_test(size=(160, 48)) as pilot:
        app = await engine_ready(pilot)
        screen = await open_picker(pilot, "42", highlight="review-pr")
        await until(pilot, lambda: "runs 1 command" in status(screen))
        assert screen.state == "idle"
        await pilot.press("enter")
        await until(pilot, lambda: screen.state == "ready")
        assert screen.preview.text == "reviewing pull request 42"
        assert "ran 1 command" in status(screen)

        screen.query_one(Input).value = "43"  # typed arguments: the preview no longer applies
        await pilot.pause()
        assert screen.state == "idle" and screen.preview is None
        await pilot.press("enter")
        await until(pilot, lambda: screen.state == "ready")
        await pilot.press("enter")
        await until(pilot, lambda: bool(primed(app)))
        assert primed(app)[0].text == "reviewing pull request 43"


BAD = {
    "broken front matter": ("broken", None, "the front matter is not valid YAML (line 3)"),
    "binary @path": ("binary", BINARY, "@blob.bin is a binary file, not text"),
    "failing command": ("failing", FAILING, "!`ls no-such-folder` failed (exit code 2)"),
    "slow command": ("slow", SLOW, "!`sleep 5` did not finish within 1 s and was stopped"),
    "larger than the budget left": ("large", LARGE, "more than the"),
}


@pytest.mark.parametrize("case", list(BAD))
async def test_a_bad_primer_is_explained_in_the_picker_and_nothing_is_injected(
    make_app, primers: Path, workspace: Path, case: str
) -> None:
    name, text, message = BAD[case]
    if text is not None:
        (primers / f"{name}.md").write_text(text)
    (workspace / "big.txt").write_text("lorem ipsum dolor sit amet " * 2000)
    (workspace / "blob.bin").write_bytes(b"\x00\x01binary")
    async with make_app(window=8000).run_test(size=(160, 48)) as pilot:
        app = await engine_ready(pilot)
        screen = await open_picker(pilot, "keep me", highlight=name)
        await pilot.press("enter")
        await until(pilot, lambda: screen.state == "failed")
        assert "nothing will be loaded" in status(screen) and message in status(screen)
        await pilot.press("enter")  # again: still nothing, and the picker stays open to choose another
        await pilot.pause()
        assert app.screen is screen and screen.state == "failed"
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, PrimerPicker))
        await settle(pilot)
        assert not primed(app)
        assert app.query_one(PromptArea).text == "keep me"  # the prompt's text comes back


def test_the_picker_with_a_preview(snap_compare, make_app, primers: Path) -> None:
    async def run_before(pilot) -> None:
        await engine_ready(pilot)
        screen = await open_picker(pilot, "Ada", highlight="hello")
        await until(pilot, lambda: screen.state == "ready")
        screen.query_one(Input).cursor_blink = False
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=(160, 48), run_before=run_before)
