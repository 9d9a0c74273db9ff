"""The actions that drive the engine: compact, delegate, prime, pause and resume, hand a result over, questions."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList, RadioSet

from tests.engine_driver import run
from tests.tui.helpers import engine_of
from workbench.brains.scripted import ScriptedBrain
from workbench.frontends.tui.screens.primer_picker import PrimerPicker
from workbench.frontends.tui.screens.questions import QuestionsScreen
from workbench.frontends.tui.widgets.conversation import Conversation
from workbench.frontends.tui.widgets.prompt import PromptArea
from workbench.protocol.commands import Send
from workbench.protocol.events import ChildResult, Compaction, Delegated, Primed, PromptQueued, ToolResult, UserMessage

from .helpers import engine_ready, notices, settle, type_and_send, until

HELLO_PRIMER = "---\ndescription: Greet someone\nargument-hint: <name>\n---\nSay hello to $ARGUMENTS.\n"
QUESTION_SCRIPT = """
- text: One question first.
  tool_use:
    name: AskUserQuestion
    input:
      questions:
        - question: Which database should we use?
          header: Database
          options:
            - {label: SQLite, description: "one file, no server"}
            - {label: Postgres, description: a server}
- Noted.
"""


def markers(app) -> list[str]:
    return [str(marker.visual) for marker in app.query_one(Conversation).query("Marker")]


async def test_ctrl_l_compacts_the_focused_agent(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        for text in ("read README.md", "what can you do?", "read app.py", "list python files"):
            await type_and_send(pilot, text)
            await settle(pilot)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: any(isinstance(e, Compaction) for e in engine_of(app).events))
        await settle(pilot)
        assert any(marker.startswith("⇣ compacted") for marker in markers(app))


async def test_ctrl_t_delegates_the_prompt_and_the_summary_comes_back(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        app.query_one(PromptArea).load_text("read README.md")
        await pilot.press("ctrl+t")
        await until(pilot, lambda: any(isinstance(e, ChildResult) for e in bench.events))
        await settle(pilot)
        child = bench.supervisor.agents["agent-1"]
        assert (child.spec.mode, child.spec.parent, child.state) == ("delegated", "primary", "done")
        assert any(isinstance(e, Delegated) and e.child == "agent-1" for e in bench.session.events_of("primary"))
        assert any(marker.startswith("↳ delegated to agent-1") for marker in markers(app))


async def test_a_primer_loads_by_slash_command_and_from_the_picker(make_app, workspace: Path) -> None:
    primers = workspace / ".workbench" / "primers"
    primers.mkdir(parents=True)
    (primers / "hello.md").write_text(HELLO_PRIMER)
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        await type_and_send(pilot, "/prime-hello world")
        await until(pilot, lambda: any(isinstance(e, Primed) for e in bench.events))
        await settle(pilot)
        (primed,) = [e for e in bench.events if isinstance(e, Primed)]
        assert "Say hello to world." in primed.text
        assert any("Primer hello loaded" in notice for notice in notices(app))

        app.query_one(PromptArea).load_text("moon")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, PrimerPicker))
        options = app.screen.query_one(OptionList)
        options.highlighted = options.get_option_index("hello")
        await until(pilot, lambda: app.screen.state == "ready")  # no commands: previewed at once
        await pilot.press("enter")  # that preview is loaded
        await until(pilot, lambda: len([e for e in bench.events if isinstance(e, Primed)]) == 2)
        assert "Say hello to moon." in [e for e in bench.events if isinstance(e, Primed)][-1].text


async def test_an_unknown_primer_is_explained(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "/prime-nonesuch")
        await until(pilot, lambda: any("nonesuch" in notice for notice in notices(app)))
        assert not any(isinstance(e, Primed) for e in engine_of(app).events)


async def test_ctrl_s_pauses_and_resumes_the_focused_agent(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bench.primary.state == "paused")
        await run(bench, Send(text="read README.md"))
        await until(pilot, lambda: any(e.kind == "prompt_queued" for e in bench.events))  # held while paused
        assert not [e for e in bench.events if e.kind == "assistant_message"]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [e for e in bench.events if e.kind == "assistant_message"]


async def test_a_background_result_is_handed_to_the_primary(make_app) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        await type_and_send(pilot, "/background read README.md")
        await until(pilot, lambda: bench.supervisor.agents.get("agent-1") is not None)
        await until(pilot, lambda: any("f3 hands agent-1's result" in notice for notice in notices(app)))
        await type_and_send(pilot, "/hand agent-1")
        await until(pilot, lambda: any(isinstance(e, ChildResult) for e in bench.session.events_of("primary")))
        await settle(pilot)
        told = [e.text for e in bench.session.events_of("primary") if isinstance(e, UserMessage)]
        assert told and "agent-1" in told[-1]


async def test_an_agents_questions_are_answered_in_a_modal(make_app, tmp_path: Path) -> None:
    script = tmp_path / "ask.yaml"
    script.write_text(QUESTION_SCRIPT)
    async with make_app(brain=ScriptedBrain(script=script)).run_test(size=(120, 40)) as pilot:
        app = await engine_ready(pilot)
        await type_and_send(pilot, "set up the storage")
        await until(pilot, lambda: isinstance(app.screen, QuestionsScreen))
        radio = app.screen.query_one(RadioSet)
        radio.focus()
        await pilot.press("down", "enter")
        await pilot.press("ctrl+s")
        await settle(pilot)
        result = next(e for e in engine_of(app).events if isinstance(e, ToolResult))
        assert '"Which database should we use?"="Postgres"' in result.content


async def test_a_claude_code_command_runs_as_slash_name_with_its_arguments(make_app, workspace: Path) -> None:
    commands = workspace / ".claude" / "commands"
    commands.mkdir(parents=True)
    (commands / "fix-issue.md").write_text("---\nargument-hint: <number> <priority>\n---\nFix issue #$0 ($1).\n")
    (commands / "compact.md").write_text("Clashes with the built-in /compact.\n")
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        await until(pilot, lambda: "fix-issue" in app.query_one(PromptArea).primers)
        await until(pilot, lambda: any("/prime-compact" in notice for notice in notices(app)))  # said once
        await type_and_send(pilot, '/fix-issue 123 "very high"')
        await until(pilot, lambda: any(isinstance(e, Primed) for e in bench.events))
        (primed,) = [e for e in bench.events if isinstance(e, Primed)]
        assert (primed.primer, primed.text) == ("fix-issue", "Fix issue #123 (very high).")


async def test_delegate_with_agent_names_the_agent_type(make_app, workspace: Path) -> None:
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        await type_and_send(pilot, "/delegate --agent Explore read README.md")
        await until(pilot, lambda: any(isinstance(e, ChildResult) for e in bench.events))
        child = bench.supervisor.agents["agent-1"]
        assert "read README.md" in child.spec.task and child.spec.tools == ["Read", "Glob", "Grep"]
        await type_and_send(pilot, "/delegate --agent nobody read README.md")
        await until(pilot, lambda: any("No agent type named 'nobody'" in notice for notice in notices(app)))


async def test_a_command_that_fails_in_its_worker_is_shown_not_swallowed(make_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)

        async def broken(command: object) -> object:
            raise RuntimeError("the engine fell over")

        monkeypatch.setattr(app.main_screen.client, "submit", broken)
        await type_and_send(pilot, "read README.md")
        await until(pilot, lambda: any("the engine fell over" in notice for notice in notices(app)))
        assert any(notice.startswith("Something went wrong") for notice in notices(app))


async def test_a_prompt_sent_to_a_paused_agent_shows_as_queued_and_is_delivered_on_resume(make_app) -> None:  # type: ignore[no-untyped-def]
    async with make_app().run_test(size=(120, 36)) as pilot:
        app = await engine_ready(pilot)
        bench = engine_of(app)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bench.primary.state == "paused")
        await type_and_send(pilot, "read README.md")
        await until(
            pilot,
            lambda: any("queued for primary" in str(m.visual) for m in app.query_one(Conversation).query("Marker")),
        )
        assert not [e for e in bench.events if isinstance(e, UserMessage)]  # it waits, in the log as queued
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any(isinstance(e, UserMessage) for e in bench.events))
        await settle(pilot)
        (delivered,) = [e for e in bench.events if isinstance(e, UserMessage)]
        queued = next(e for e in bench.events if isinstance(e, PromptQueued))
        assert delivered.prompt_id == queued.prompt_id and delivered.text == "read README.md"
