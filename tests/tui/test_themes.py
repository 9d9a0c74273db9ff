"""Theme files: each becomes a Textual theme; a broken one is reported by name and skipped; the choice is remembered."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from workbench.frontends.tui.locations import BUILTIN_THEMES
from workbench.frontends.tui.themes import load_themes, read_theme
from workbench.frontends.tui.user_config import ConfigWriteError, remember_theme, with_theme

from .helpers import engine_ready, notices, until

SHIPPED = ("workbench-dark", "workbench-light", "workbench-high-contrast")


def test_the_shipped_themes_load() -> None:
    load = load_themes([BUILTIN_THEMES])
    assert load.problems == []
    assert {theme.name for theme in load.themes} >= set(SHIPPED)
    assert not read_theme(BUILTIN_THEMES / "workbench-light.toml").dark


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("name = 'x'\nprimary = ", "not valid TOML"),
        ("name = 'x'\nprimary = 'not-a-colour'\n", "primary: not a colour"),
        ("name = 'x'\n", "primary: Field required"),
        ("name = 'x'\nprimary = '#fff'\nsparkle = true\n", "sparkle: unknown setting"),
    ],
)
def test_a_broken_theme_file_is_reported_by_name(tmp_path: Path, text: str, says: str) -> None:
    (tmp_path / "broken.toml").write_text(text)
    (tmp_path / "fine.toml").write_text("name = 'fine'\nprimary = '#336699'\n")
    load = load_themes([tmp_path])
    assert [theme.name for theme in load.themes] == ["fine"]
    (problem,) = load.problems
    assert problem.startswith("broken.toml: ") and says in problem


async def test_the_app_reports_and_skips_a_malformed_theme_file(make_app, tmp_path: Path) -> None:
    themes = tmp_path / "themes"
    shutil.copytree(BUILTIN_THEMES, themes)
    (themes / "zebra.toml").write_text("name = 'zebra'\nprimary = 'stripes'\n")
    async with make_app(theme_dirs=[themes]).run_test(size=(100, 30)) as pilot:
        app = await engine_ready(pilot)
        assert any("zebra.toml" in notice and "not a colour" in notice for notice in notices(app))
        assert "zebra" not in app.available_themes
        assert app.theme == "workbench-dark"


async def test_an_unknown_theme_in_the_config_falls_back_to_the_default(make_app) -> None:
    async with make_app(theme="no-such-theme").run_test(size=(100, 30)) as pilot:
        app = await engine_ready(pilot)
        assert app.theme == "workbench-dark"
        assert any("no-such-theme" in notice for notice in notices(app))


async def test_a_theme_chosen_in_the_app_is_remembered_in_the_user_config(make_app) -> None:
    app = make_app()
    app.config_path.parent.mkdir(parents=True)
    app.config_path.write_text('# mine\nbrain = "scripted"\n\n[keys]\nhelp = "f1"\n')
    async with app.run_test(size=(100, 30)) as pilot:
        await engine_ready(pilot)
        app.theme = "workbench-light"
        await until(pilot, lambda: "workbench-light" in app.config_path.read_text())
    text = app.config_path.read_text()
    assert tomllib.loads(text) == {"brain": "scripted", "theme": "workbench-light", "keys": {"help": "f1"}}
    assert text.startswith("# mine\n")


def test_with_theme_replaces_only_the_top_level_theme() -> None:
    text = 'theme = "old"\n[section]\ntheme = "not this one"\n'
    assert with_theme(text, "new") == 'theme = "new"\n[section]\ntheme = "not this one"\n'


def test_with_theme_adds_the_key_before_the_first_table() -> None:
    text = 'brain = "auto"\n[keys]\nhelp = "f2"\n'
    assert tomllib.loads(with_theme(text, "x")) == {"brain": "auto", "theme": "x", "keys": {"help": "f2"}}
    assert with_theme("", "x") == 'theme = "x"\n'


def test_a_config_file_that_is_not_toml_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("this is = = not toml")
    with pytest.raises(ConfigWriteError, match="left as it is"):
        remember_theme(path, "x")
    assert path.read_text() == "this is = = not toml"
