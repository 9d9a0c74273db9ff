"""The prompt: enter sends, ctrl+j breaks the line, up/down walk the history, / completes commands."""

from __future__ import annotations

from tests.engine_driver import spawn
from tests.tui.helpers import engine_of
from workbench.frontends.tui.slash import completions, parse
from workbench.frontends.tui.widgets.agents_pane import AgentsPane
from workbench.frontends.tui.widgets.prompt import PromptArea, SlashMenu
from workbench.protocol.events import AgentSpawned, UserMessage

from .helpers import engine_ready, notices, settle, type_and_send, until


def test_completions_follow_the_command_word_only() -> None:
    assert [c.word for c in completions("/ba")] == ["/background"]
    assert completions("/background run") == []
    assert completions("hello") == []
    assert {"/help", "/mode", "/tasks", "/compact", "/remount"} <= {c.word for c in completions("/")}


def test_parsing_a_slash_command() -> None:
    background = parse("/background  run the tests ")
    assert (background.command.action.name, background.argument) == ("background", "run the tests")
    prime = parse("/prime-bug-smash login fails")
    assert (prime.command.action.name, prime.word, prime.argument) == ("prime", "/prime-bug-smash", "login fails")
    assert parse("/nope").command is None


async def test_enter_sends_and_ctrl_j_breaks_the_line(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        await pilot.press(*"first", "ctrl+j", *"second", "enter")
        await settle(pilot)
        sent = [e.text for e in engine_of(app).events if isinstance(e, UserMessage)]
        assert sent == ["first\nsecond"]
        assert app.query_one(PromptArea).text == ""


async def test_up_and_down_walk_the_history_from_the_edges(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        await engine_ready(pilot)
        prompt = pilot.app.query_one(PromptArea)
        for text in ("one", "two"):
            await pilot.press(*text, "enter")
            await settle(pilot)
        await pilot.press(*"draft")
        await pilot.press("up")
        assert prompt.text == "two"
        await pilot.press("up")
        assert prompt.text == "one"
        await pilot.press("down", "down")
        assert prompt.text == "draft"
        # inside a multi-line prompt the arrows move the cursor
        prompt.load_text("a\nb")
        prompt.move_cursor((1, 0))
        await pilot.press("up")
        assert prompt.text == "a\nb" and prompt.cursor_location == (0, 0)


async def test_the_slash_menu_completes_with_tab_and_escape_closes_it(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        prompt = app.query_one(PromptArea)
        menu = app.query_one(SlashMenu)
        await pilot.press("/", "b", "a")
        assert menu.display and menu.chosen == "/background"
        await pilot.press("tab")
        assert prompt.text == "/background " and not menu.display
        prompt.clear()
        await pilot.press("/", "h")
        assert menu.display
        await pilot.press("escape")
        assert not menu.display and prompt.text == "/h"


async def test_an_unknown_slash_command_is_explained(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        await pilot.press(*"/frobnicate", "enter")
        await pilot.pause()
        assert any("No command /frobnicate" in notice for notice in notices(app))
        assert not [e for e in engine_of(app).events if isinstance(e, UserMessage)]


async def test_keys_typed_right_after_enter_or_ctrl_b_start_the_next_prompt(make_app) -> None:  # type: ignore[no-untyped-def]
    from textual import events

    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        prompt = app.query_one(PromptArea)

        def burst(*keys: str) -> None:
            """Keys as a fast typist sends them: all queued before the first is handled."""
            for key in keys:
                app.post_message(events.Key(key, key if len(key) == 1 else None))

        prompt.load_text("search for alpha")
        burst("enter", "X", "Y", "Z")
        await until(pilot, lambda: prompt.text == "XYZ")
        await settle(pilot)
        assert [e.text for e in engine_of(app).events if isinstance(e, UserMessage)] == ["search for alpha"]

        prompt.load_text("read README.md")
        burst("ctrl+b", "p", "l", "s")
        await until(pilot, lambda: prompt.text == "pls")
        await settle(pilot)
        spawned = [e for e in engine_of(app).events if isinstance(e, AgentSpawned) and e.mode == "background"]
        assert [e.task for e in spawned] == ["read README.md"]


async def test_a_prompt_given_back_keeps_the_next_keys_after_it(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        await spawn(engine_of(app), "background", "read README.md")
        await until(pilot, lambda: app.query_one(AgentsPane).rows["agent-1"].ended)
        app.main_screen.show_agent("agent-1")
        await pilot.pause()
        prompt = app.query_one(PromptArea)
        prompt.focus()
        await type_and_send(pilot, "and then")  # a finished one-shot agent takes no prompt: the text comes back
        await until(pilot, lambda: any("agent-1 has finished" in notice for notice in notices(app)))
        await pilot.press(*" more")
        assert prompt.text == "and then more"
