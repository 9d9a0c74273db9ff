"""Memory files (CLAUDE.md, AGENTS.md, ~/.claude/CLAUDE.md and their @imports) as a standing primer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine_driver import ask, run, spawn
from workbench.brains.scripted import ScriptedBrain
from workbench.engine.config import Config, MemorySettings
from workbench.engine.context.compaction import compaction_range
from workbench.engine.context.fold import fold, primer_text
from workbench.engine.context.tokens import default_counter
from workbench.engine.engine import Engine
from workbench.engine.priming.memory import MAX_FILE_BYTES, MAX_IMPORT_HOPS, imports_of, load_memory, without_comments
from workbench.protocol.commands import Compact
from workbench.protocol.events import AgentSpawned, Compaction, Error, Primed, UserMessage

COUNTER = default_counter()


@pytest.fixture
def home(home_of_its_own: Path) -> Path:
    (home_of_its_own / ".claude").mkdir()
    return home_of_its_own


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "project" / "ws"
    ws.mkdir(parents=True)
    return ws


def load(workspace: Path, home: Path, max_tokens: int = 20_000):
    return load_memory(workspace, home, COUNTER, max_tokens)


def test_the_users_file_then_the_projects_from_the_outside_in(workspace: Path, home: Path) -> None:
    (home / ".claude" / "CLAUDE.md").write_text("Answer in English.")
    (workspace.parent / "CLAUDE.md").write_text("Monorepo rule.")
    (workspace / "CLAUDE.md").write_text("Run make test.")
    (workspace / ".claude").mkdir()
    (workspace / ".claude" / "CLAUDE.md").write_text("Team rule.")
    (workspace / "CLAUDE.local.md").write_text("My sandbox is at :8080.")
    (workspace / "AGENTS.md").write_text("Codex-style rules.")
    loaded = load(workspace, home)
    assert [p.name for p in loaded.files] == [
        "CLAUDE.md",
        "CLAUDE.md",
        "CLAUDE.md",
        "CLAUDE.md",
        "CLAUDE.local.md",
        "AGENTS.md",
    ]
    text = loaded.primed.text
    order = ["Answer in English.", "Monorepo rule.", "Run make test.", "Team rule.", "My sandbox", "Codex-style rules."]
    assert [text.index(part) for part in order] == sorted(text.index(part) for part in order)
    assert f"Contents of {home / '.claude' / 'CLAUDE.md'} (the user's own instructions" in text
    assert loaded.primed.primer == "memory" and loaded.problems == []
    assert loaded.primed.tokens == COUNTER.count(primer_text(loaded.primed))


def test_imports_resolve_from_the_importing_file_and_from_home(workspace: Path, home: Path) -> None:
    (workspace / "docs").mkdir()
    (workspace / "CLAUDE.md").write_text("See @docs/style.md and @~/.claude/mine.md, mail me at a@b.org.\n")
    (workspace / "docs" / "style.md").write_text("Style: @rules.md\n")  # relative to docs/
    (workspace / "docs" / "rules.md").write_text("Two spaces.")
    (home / ".claude" / "mine.md").write_text("Personal preference.")
    loaded = load(workspace, home)
    assert [p.name for p in loaded.files] == ["CLAUDE.md", "style.md", "rules.md", "mine.md"]
    assert "Two spaces." in loaded.primed.text and "Personal preference." in loaded.primed.text
    assert f"(imported by {workspace / 'docs' / 'style.md'})" in loaded.primed.text


def test_imports_in_code_are_text_and_a_missing_file_is_left_as_written(workspace: Path, home: Path) -> None:
    text = "Use `@decorator` and\n\n```\n@docs/fenced.md\n```\n\nand @nothing/here.md too."
    assert imports_of(text) == ["nothing/here.md"]
    (workspace / "CLAUDE.md").write_text(text)
    (workspace / "docs").mkdir()
    (workspace / "docs" / "fenced.md").write_text("NOT TO BE LOADED")
    loaded = load(workspace, home)
    assert "NOT TO BE LOADED" not in loaded.primed.text and "@nothing/here.md too." in loaded.primed.text
    assert loaded.problems == []


def test_imports_stop_after_four_hops_and_a_cycle_is_read_once(workspace: Path, home: Path) -> None:
    chain = [f"f{i}.md" for i in range(MAX_IMPORT_HOPS + 2)]
    (workspace / "CLAUDE.md").write_text(f"@{chain[0]}")
    for name, following in zip(chain, chain[1:]):
        (workspace / name).write_text(f"{name} body @{following}")
    (workspace / chain[-1]).write_text("too deep @CLAUDE.md")
    loaded = load(workspace, home)
    assert [p.name for p in loaded.files] == ["CLAUDE.md", *chain[:MAX_IMPORT_HOPS]]
    assert loaded.problems == [f"{workspace / chain[MAX_IMPORT_HOPS - 1]}: @{chain[MAX_IMPORT_HOPS]} is more than "
                               f"{MAX_IMPORT_HOPS} imports deep from a memory file: not loaded."]  # fmt: skip


def test_a_projects_file_may_not_import_from_outside_the_workspace(workspace: Path, home: Path) -> None:
    secret = workspace.parent / "secret.txt"
    secret.write_text("TOKEN=hunter2")
    (workspace / "CLAUDE.md").write_text("@../secret.txt")
    (home / ".claude" / "CLAUDE.md").write_text(f"@{secret}")  # the user's own file may
    loaded = load(workspace, home)
    assert loaded.primed.text.count("TOKEN=hunter2") == 1
    assert "imported by" in loaded.primed.text and str(home) in loaded.primed.text
    (home / ".claude" / "CLAUDE.md").unlink()
    loaded = load(workspace, home)
    assert "hunter2" not in loaded.primed.text
    assert loaded.problems == [
        f"{workspace / 'CLAUDE.md'}: @../secret.txt leads outside the workspace ({secret.resolve()}): a project's "
        "memory file may not import it (your own ~/.claude/CLAUDE.md may)."
    ]


def test_block_comments_are_left_out(workspace: Path, home: Path) -> None:
    assert without_comments("keep\n\n<!-- maintainer\nnotes -->\n\nalso keep `<!-- inline -->`\n") == (
        "keep\n\n\nalso keep `<!-- inline -->`\n"
    )


def test_a_huge_file_is_skipped_and_named(workspace: Path, home: Path) -> None:
    (workspace / "CLAUDE.md").write_text("small and fine")
    (workspace / "AGENTS.md").write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    loaded = load(workspace, home)
    assert "small and fine" in loaded.primed.text and "xxxx" not in loaded.primed.text
    assert loaded.problems == [f"{workspace / 'AGENTS.md'}: {MAX_FILE_BYTES + 1:,} bytes, over the 4 MiB a memory file may hold: not loaded."]  # fmt: skip


def test_files_over_the_token_limit_load_nothing_at_all(workspace: Path, home: Path) -> None:
    (workspace / "CLAUDE.md").write_text("short rule")
    (workspace / "AGENTS.md").write_text("a long rule " * 500)
    loaded = load(workspace, home, max_tokens=300)
    assert loaded.primed is None and loaded.files == []
    assert loaded.problems[0].startswith("The memory files hold ") and "none was loaded" in loaded.problems[0]
    assert str(workspace / "AGENTS.md") in loaded.problems[0]


def test_an_unreadable_file_is_named_and_the_rest_loads(workspace: Path, home: Path) -> None:
    (workspace / "CLAUDE.md").write_bytes(b"\xff\xfe not text")
    (workspace / "AGENTS.md").write_text("fine")
    loaded = load(workspace, home)
    assert loaded.problems == [f"{workspace / 'CLAUDE.md'}: not UTF-8 text: not loaded."]
    assert "fine" in loaded.primed.text


# -- in a session ------------------------------------------------------------------------------


async def open_bench(workspace: Path, **config: object) -> Engine:
    settings = Config(bundles=workspace.parent / "bundles", fsync="never", **config)  # type: ignore[arg-type]
    return await Engine.open(settings, workspace, ScriptedBrain())


async def test_every_agent_starts_with_the_memory_as_its_first_message(workspace: Path, home: Path) -> None:
    (workspace / "CLAUDE.md").write_text("Always say which files you read.")
    bench = await open_bench(workspace)
    kinds = [e.kind for e in bench.session.events_of("primary")]
    assert kinds[:2] == ["agent_spawned", "primed"]
    child = await spawn(bench, "delegated", "list the files")
    await bench.wait_all()
    await ask(bench, "hello")
    for agent in ("primary", child.id):
        first = fold(bench.session.events_of(agent), agent=agent).messages[0]["content"][0]["text"]
        assert first.startswith('<primer name="memory">') and "Always say which files you read." in first
    budget = bench.budget("primary")
    memory = next(e for e in bench.events if isinstance(e, Primed) and e.agent == "primary")
    assert budget.estimates["memory"] == memory.tokens > 0
    assert budget.estimates["primers"] == 0
    await bench.close()


async def test_switched_off_or_absent_there_is_no_primer_and_problems_are_logged(workspace: Path, home: Path) -> None:
    (workspace / "CLAUDE.md").write_text("rule")
    off = await open_bench(workspace, memory=MemorySettings(enabled=False))
    assert not any(isinstance(e, Primed) for e in off.events)
    await off.close()
    (workspace / "AGENTS.md").write_text("word " * 5000)
    over = await open_bench(workspace, memory=MemorySettings(max_tokens=1000))
    assert not any(isinstance(e, Primed) for e in over.events)
    (error,) = [e for e in over.events if isinstance(e, Error)]
    assert error.error_type == "memory" and "none was loaded" in error.message and error.agent == "primary"
    await over.close()


async def test_compaction_summarises_the_turns_but_never_the_memory(workspace: Path, home: Path) -> None:
    (workspace / "CLAUDE.md").write_text("Keep the memory.")
    (workspace / "README.md").write_text("# Readme\n" + "A line of the readme that the summary can drop.\n" * 200)
    bench = await open_bench(workspace)
    for prompt in ("read README.md", "list the files", "read README.md again", "what did we do"):
        await ask(bench, prompt)
    memory = next(e for e in bench.events if isinstance(e, Primed))
    start, _ = compaction_range(bench.session.events_of("primary"), "primary")
    assert start > memory.seq
    await run(bench, Compact())
    assert any(isinstance(e, Compaction) for e in bench.events)
    first = fold(bench.session.events_of("primary"), agent="primary").messages[0]["content"]
    assert first[0]["text"].startswith('<primer name="memory">')
    assert [b["text"].split(">", 1)[0] + ">" for b in first[1:3]] == ["<facts>", "<conversation-summary>"]
    await bench.close()


async def test_after_a_resume_new_agents_get_the_sessions_memory_byte_for_byte(workspace: Path, home: Path) -> None:
    (workspace / "CLAUDE.md").write_text("Version one.")
    bench = await open_bench(workspace)
    await bench.close()
    (workspace / "CLAUDE.md").write_text("Version two, edited since.")  # the session keeps what it started with
    config = Config(bundles=workspace.parent / "bundles", fsync="never")
    bench = await Engine.resume(config, workspace, ScriptedBrain(), bench.session.id)
    child = await spawn(bench, "delegated", "list the files")
    await bench.wait_all()
    primed = [e for e in bench.events if isinstance(e, Primed)]
    assert [e.agent for e in primed] == ["primary", child.id]
    assert primed[0].text == primed[1].text and "Version one." in primed[1].text
    spawned, first = bench.session.events_of(child.id)[:2]
    assert isinstance(spawned, AgentSpawned) and first == primed[1] and first.ts >= spawned.ts
    assert any(isinstance(e, UserMessage) and e.agent == child.id for e in bench.events)
    await bench.close()
