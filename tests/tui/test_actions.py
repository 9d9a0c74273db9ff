"""The action table drives the keys, the help screen and the palette; overrides from config apply."""

from __future__ import annotations

from pathlib import Path

from textual.content import Content
from textual.widgets import DataTable, Label, Static

from tests.tui.helpers import engine_of
from workbench.frontends.tui.actions import ACTIONS, BY_NAME, bindings, unknown_actions
from workbench.frontends.tui.screens.confirm import ConfirmScreen
from workbench.frontends.tui.screens.help import HelpScreen
from workbench.frontends.tui.screens.tasks import TasksScreen
from workbench.frontends.tui.widgets.agents_pane import AgentsPane
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.prompt import PromptArea, SlashMenu
from workbench.frontends.tui.widgets.session_header import SessionHeader
from workbench.protocol.events import ModeChanged

from .helpers import engine_ready, notices, settle, type_and_send, until


def test_every_action_has_a_unique_name_and_a_description() -> None:
    names = [action.name for action in ACTIONS]
    assert len(names) == len(set(names))
    assert all(action.description and action.label for action in ACTIONS)
    required = {"send", "background", "delegate", "compact", "prime", "remount", "interrupt", "cancel_agent",
                "pause_resume", "cycle_mode", "focus_next_pane", "focus_previous_pane", "focus_primary", "help",
                "quit", "palette"}  # fmt: skip
    assert required <= set(names)


def test_bindings_carry_the_action_name_as_their_id() -> None:
    main = {binding.id: binding.key for binding in bindings("main")}
    assert main["background"] == "ctrl+b"
    assert main["cycle_mode"] == "shift+tab"


def test_unknown_names_in_a_keys_override_are_found() -> None:
    assert unknown_actions({"help": "f2", "halp": "f3", "theme": "f4"}) == ["halp", "theme"]


async def test_a_key_override_from_config_takes_effect(make_app) -> None:
    async with make_app(keys={"help": "f12"}).run_test(size=(120, 36)) as pilot:
        await engine_ready(pilot)
        app = pilot.app
        await pilot.press("f1")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f12")  # a key nothing else uses
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = [app.screen.query_one(DataTable).get_row_at(i) for i in range(len(ACTIONS))]
        help_row = next(row for row in rows if str(row[2]) == BY_NAME["help"].description)
        assert str(help_row[0]) == "f12"


async def test_an_override_naming_no_action_is_reported(make_app) -> None:
    async with make_app(keys={"halp": "f3"}).run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        assert any("halp" in notice for notice in notices(app))


async def test_ctrl_b_sends_the_prompt_as_a_background_task(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        app.query_one(PromptArea).load_text("read README.md")
        await pilot.press("ctrl+b")
        await until(pilot, lambda: "agent-1" in engine_of(app).supervisor.agents)
        await settle(pilot)
        agent = engine_of(app).supervisor.agents["agent-1"]
        assert (agent.spec.mode, agent.spec.task, agent.state) == ("background", "read README.md", "done")
        assert app.query_one(PromptArea).text == ""
        assert app.query_one(AgentsPane).rows["agent-1"].state == "done"


async def test_shift_tab_cycles_the_permission_mode(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        header = app.query_one(SessionHeader)
        for expected in ("acceptEdits", "plan", "default"):
            await pilot.press("shift+tab")
            await until(pilot, lambda: header.mode == expected)  # noqa: B023 (awaited within the loop)
            assert engine_of(app).view.policy.mode == expected
        await type_and_send(pilot, "/mode plan")
        await until(pilot, lambda: header.mode == "plan")
        assert engine_of(app).view.policy.mode == "plan"
        assert [e.mode for e in engine_of(app).events if isinstance(e, ModeChanged)] == [
            "acceptEdits", "plan", "default", "plan"
        ]  # fmt: skip


async def test_f6_walks_the_panes(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        visited = []
        for _ in range(4):
            await pilot.press("f6")
            visited.append(type(app.focused).__name__)
        assert visited == ["Conversation", "AgentTree", "LogTable", "PromptArea"]
        await pilot.press("shift+f6")
        assert type(app.focused).__name__ == "LogTable"


async def test_escape_interrupts_a_running_turn(make_app) -> None:
    from .brains import HeldBrain

    brain = HeldBrain(hold_after=2, delay_s=0)
    async with make_app(brain=brain).run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "hello")
        await until(pilot, brain.holding.is_set)
        await pilot.press("escape")
        await settle(pilot)
        last = [e for e in engine_of(app).events if e.kind == "assistant_message"][-1]
        assert last.interrupted
        assert "reply interrupted" in str(app.query_one(Conversation).query("Marker").last().visual)


async def test_the_palette_lists_the_actions(make_app) -> None:
    from workbench.frontends.tui.commands import ActionCommands

    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        provider = ActionCommands(app.screen)
        hits = [hit async for hit in provider.search("background")]
        assert hits and "ctrl+b" in (hits[0].help or "")
        hits[0].command()
        await pilot.pause()
        assert any("Type the task in the prompt first" in notice for notice in notices(app))


def test_every_action_offered_by_the_palette_or_a_slash_command_can_run() -> None:
    from workbench.frontends.tui.app import WorkbenchApp
    from workbench.frontends.tui.screens.main import MainScreen

    for action in ACTIONS:
        if not (action.palette or action.slash):
            continue
        owner = WorkbenchApp if action.scope == "app" else MainScreen
        assert hasattr(owner, f"action_{action.textual_action}"), action.name


async def test_the_palette_offers_each_command_once(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Quit" not in titles and "Theme" not in titles


async def test_hints_name_the_keys_as_the_user_bound_them(make_app) -> None:
    keys = {"close": "ctrl+w", "show_agent": "o", "filter_failed": "x", "confirm_yes": "j", "confirm_no": "k,escape"}
    async with make_app(keys=keys).run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, TasksScreen))
        hint = str(app.screen.query_one("#tasks-hint", Label).visual)
        assert hint == "o opens · a r q p d x c filter · ctrl+w closes"
        await pilot.press("ctrl+w")  # the key the hint names does what it says
        await until(pilot, lambda: not isinstance(app.screen, TasksScreen))
        app.push_screen(ConfirmScreen("Discard", Content("Discard the changes?")))
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and bool(app.screen.query("#confirm-keys")))
        assert str(app.screen.query_one("#confirm-keys", Static).visual) == "j yes · k / esc no"


async def test_the_slash_menu_offers_a_command_of_the_workspace_by_name(make_app, workspace: Path) -> None:
    commands = workspace / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "fix-issue.md").write_text("Fix issue #$0.\n")
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        prompt, menu = app.query_one(PromptArea), app.query_one(SlashMenu)
        await until(pilot, lambda: "fix-issue" in prompt.primers)
        await pilot.press("/", "f", "i")
        assert menu.display and menu.chosen == "/fix-issue"
        await pilot.press("tab")
        assert prompt.text == "/fix-issue "
        prompt.clear()
        await pilot.press(*"/prime-fi")
        assert menu.chosen == "/prime-fix-issue"
