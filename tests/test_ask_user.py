"""AskUserQuestion: answered through the callback in ToolContext.extras, on a terminal, or refused clearly."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from tests.engine_driver import Answers, ask
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config
from workbench.engine.engine import Engine
from workbench.frontends.cli.terminal import TerminalAsker
from workbench.protocol.events import PermissionDecision, ToolResult
from workbench.tools.ask_user import (
    ASK_USER,
    DECLINED,
    NO_ONE_TO_ASK,
    AskUserAnswer,
    AskUserQuestion,
    AskUserQuestionInput,
    AskUserRequest,
)
from workbench.tools.base import ToolContext
from workbench.tools.registry import InvalidToolCall, ToolRegistry

QUESTIONS = {
    "questions": [
        {
            "question": "Which database should the app use?",
            "header": "Database",
            "options": [
                {"label": "SQLite", "description": "A file, no server"},
                {"label": "Postgres", "description": "A server, more features"},
            ],
            "multiSelect": False,
        },
        {
            "question": "Which checks should run in CI?",
            "header": "CI checks",
            "options": [
                {"label": "Tests", "description": "pytest"},
                {"label": "Types", "description": "mypy"},
                {"label": "Lint", "description": "ruff"},
            ],
            "multiSelect": True,
        },
    ]
}


def params() -> AskUserQuestionInput:
    return AskUserQuestionInput.model_validate(QUESTIONS)


async def test_the_callback_gets_the_questions_and_the_answers_go_to_the_model(tmp_path: Path) -> None:
    asked: list[AskUserRequest] = []

    async def ask(request: AskUserRequest) -> AskUserAnswer:
        asked.append(request)
        return AskUserAnswer(
            answers={
                "Which database should the app use?": ["Postgres"],
                "Which checks should run in CI?": ["Tests", "Lint"],
            }
        )

    ctx = ToolContext(workspace=tmp_path, agent_id="primary", extras={ASK_USER: ask})
    out = await AskUserQuestion().run(params(), ctx)
    assert asked[0].agent_id == "primary" and asked[0].questions[1].multiSelect
    assert not out.is_error
    assert out.content == (
        'User has answered your questions: "Which database should the app use?"="Postgres", '
        '"Which checks should run in CI?"="Tests, Lint". You can now continue with the user\'s answers in mind.'
    )


async def test_without_a_callback_the_model_is_told_no_one_can_answer(tmp_path: Path) -> None:
    registry = ToolRegistry([AskUserQuestion()])
    out = await registry.invoke(registry.get("AskUserQuestion"), params(), ToolContext(workspace=tmp_path))
    assert out.is_error and out.content == NO_ONE_TO_ASK


async def test_a_dismissed_question_is_an_error_result(tmp_path: Path) -> None:
    async def dismiss(request: AskUserRequest) -> AskUserAnswer:
        return AskUserAnswer()

    out = await AskUserQuestion().run(params(), ToolContext(workspace=tmp_path, extras={ASK_USER: dismiss}))
    assert out.is_error and out.content == DECLINED


def test_the_input_has_claude_codes_shape_and_limits() -> None:
    registry = ToolRegistry([AskUserQuestion()])
    question = AskUserQuestion().spec().input_schema["$defs"]["AskQuestion"]
    assert set(question["properties"]) == {"question", "header", "options", "multiSelect"}
    one_option = {"questions": [{**QUESTIONS["questions"][0], "options": QUESTIONS["questions"][0]["options"][:1]}]}
    with pytest.raises(InvalidToolCall, match="options"):
        registry.validate("AskUserQuestion", one_option)
    with pytest.raises(InvalidToolCall, match="header"):
        registry.validate(
            "AskUserQuestion", {"questions": [{**QUESTIONS["questions"][0], "header": "A very long header"}]}
        )
    with pytest.raises(InvalidToolCall, match="unique"):
        registry.validate("AskUserQuestion", {"questions": [QUESTIONS["questions"][0]] * 2})


async def test_a_terminal_answers_by_number_several_numbers_or_own_words() -> None:
    out = io.StringIO()
    asker = TerminalAsker(io.StringIO("2\n1, 3\n"), out)
    answer = await asker(params().questions)
    assert answer == {
        "Which database should the app use?": ["Postgres"],
        "Which checks should run in CI?": ["Tests", "Lint"],
    }
    shown = out.getvalue()
    assert (
        "[Database] Which database should the app use?" in shown and "  2. Postgres — A server, more features" in shown
    )

    own = await TerminalAsker(io.StringIO("DuckDB, please\n"), io.StringIO())(params().questions)
    assert own == {"Which database should the app use?": ["DuckDB, please"]}  # input ended after one
    assert (await TerminalAsker(io.StringIO(""), io.StringIO())(params().questions)) == {}


async def test_an_agent_asks_without_a_permission_prompt_and_gets_the_answer(tmp_path: Path) -> None:
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump([{"tool_use": {"name": "AskUserQuestion", "input": QUESTIONS}}, "ok"]))
    config = Config(bundles=tmp_path / "bundles", fsync="never")
    bench = await Engine.open(config, tmp_path, ScriptedBrain(script))
    answers = {"Which database should the app use?": ["SQLite"], "Which checks should run in CI?": ["Types"]}
    Answers(bench, answers=answers)
    await ask(bench, "set it up")
    await bench.close()
    decision = next(e for e in bench.events if isinstance(e, PermissionDecision))
    assert decision.decision == "allow" and decision.source == "mode"
    result = next(e for e in bench.events if isinstance(e, ToolResult))
    assert '"Which database should the app use?"="SQLite"' in result.content
    assert '"Which checks should run in CI?"="Types"' in result.content
