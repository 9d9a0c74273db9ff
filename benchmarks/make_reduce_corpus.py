"""Regenerate ``benchmarks/reduce_corpus.jsonl.gz``, the long sessions ``bench_reduce.py`` reduces.

Each session is a real run of the engine: the engine's agent loop, its tools
and its bundle, driven by the offline ScriptedBrain replaying a generated
script in a generated workspace (a Python package with planted bugs, its
unittest suite, docs and a small linter). The agent explores, reads and
re-reads files, greps, globs, runs the tests and the linter, fixes some bugs
with Edit, makes mistakes (a missing file, an edit that does not match) and
states decisions; the user gives the goal and instructions along the way.

One gzipped JSON line per session: ``item``, ``facts`` and ``events``. Facts
are what a reduced context must still hold: every path the agent touched, the
user's goal and instructions, the decisions, and the errors still open at the
end (those in the latest result of their command); errors fixed along the way
are listed apart as ``resolved_error``.

    .venv/bin/python benchmarks/make_reduce_corpus.py [--sessions 24] [--out PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workbench.brains.scripted import ScriptedBrain  # noqa: E402
from workbench.engine.config import Config, PermissionsConfig  # noqa: E402
from workbench.engine.engine import Engine  # noqa: E402
from workbench.protocol.commands import Close, Send  # noqa: E402
from workbench.protocol.events import Event, ToolCall, ToolResult  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "reduce_corpus.jsonl.gz"
TEST_COMMAND = "python3 -m unittest discover -s tests -t ."
LINT_COMMAND = "python3 tools/lint.py app"

NOUNS = """billing invoice customer inventory shipping tax currency report payment order catalog pricing refund
ledger account discount subscription warehouse rebate audit notification export schedule session permission
metric search cache storage voucher""".split()
VERBS = "compute collect format merge normalise resolve summarise load apply split rank group".split()
FIELDS = "amount quantity region label status created owner weight channel priority".split()
UNUSED = "decimal fractions statistics textwrap heapq bisect".split()
SENTENCES = [
    "Amounts are integer cents; rounding happens once, at the very end.",
    "Records without the field are skipped rather than rejected.",
    "The limit keeps a single report from loading an unbounded batch.",
    "This mirrors the rules the finance team documented for the {noun} export.",
    "Callers in the API layer rely on the order of the result.",
    "The {noun} service calls this on every request, so it must stay cheap.",
    "Negative values are clamped to zero because refunds are handled elsewhere.",
    "Keys are lower-cased so that imports from older systems still match.",
    "The rate comes from the module constant so that tests can patch it.",
    "Nothing here touches the database; the caller owns persistence.",
]

BUGS = {
    # kind: (buggy body line, the exception line unittest prints)
    "key": ('return sum(item["amount"] for item in items) + items[0]["{ident}"]', "KeyError: '{ident}'"),
    "off": ('return sum(item["amount"] for item in items) + {k}', "AssertionError: {total} != 7"),
    "type": ('return sum(item["amount"] for item in items) + str(len(items))',
             "TypeError: unsupported operand type(s) for +: 'int' and 'str'"),
    "attr": ('return sum(item["amount"] for item in items) + items[0].{ident}',
             "AttributeError: 'dict' object has no attribute '{ident}'"),
    "zero": ('return sum(item["amount"] for item in items) // (len(items) - 2)',
             "ZeroDivisionError: integer division or modulo by zero"),
    "name": ('return sum(item["amount"] for item in items) + {ident}', "NameError: name '{ident}' is not defined"),
}  # fmt: skip
FIXED_LINE = 'return sum(item["amount"] for item in items)'

INSTRUCTIONS = [
    "Never edit anything under vendor/.",
    "Keep the public function names in app/ unchanged.",
    "Use integer cents for every money amount.",
    "Do not add new dependencies.",
    "Keep each fix as small as possible.",
    "Leave the docs folder alone unless I ask.",
    "Run the test suite after every fix.",
    "Do not rename test files.",
    "Keep line length under 100 characters.",
]
DECISIONS = [
    "Decision: we will fix {module} first, because the other failures depend on its totals.",
    "We decided to keep the clamp helpers in {module} as they are, since callers rely on their bounds.",
    "We'll leave the unused import in {module} for now instead of widening this change.",
    "Decision: the {noun} totals stay in integer cents instead of floats, to avoid rounding drift.",
    "We decided to treat a missing {field} as zero rather than raising, as the docs describe.",
    "Decision: the lint warnings about long lines in {module} wait for a separate clean-up.",
]
FILLER = [
    "Reading {path} to see how the totals are computed.",
    "Checking where this helper is used.",
    "Looking at the test output next.",
    "I need the rest of the module before changing anything.",
    "Searching the package for the same pattern.",
]
REPORTS = [
    "{path} computes its totals in one place; the failing test exercises that path.",
    "The suite still has failures, listed above.",
    "The module is straightforward; nothing else depends on the changed line.",
    "The search shows the helper is used in several modules.",
    "Done with this step.",
]


# --- the workspace -------------------------------------------------------------------------


@dataclass
class Bug:
    module: str
    kind: str
    buggy: str
    error: str
    fixed: bool = False


@dataclass
class Project:
    files: dict[str, str] = field(default_factory=dict)
    modules: list[str] = field(default_factory=list)
    bugs: list[Bug] = field(default_factory=list)
    unused: dict[str, str] = field(default_factory=dict)  # module path -> its planted unused import line


def _doc(rng: random.Random, noun: str) -> str:
    return " ".join(rng.choice(SENTENCES).format(noun=noun) for _ in range(rng.randint(1, 3)))


def _function(rng: random.Random, noun: str, index: int) -> list[str]:
    verb, field_name, other = rng.choice(VERBS), rng.choice(FIELDS), rng.choice(FIELDS)
    name = f"{verb}_{noun}_{field_name}_{index}"
    shape = rng.randrange(4)
    summary = f"{verb.capitalize()} the {noun} {field_name} of each record."
    doc = [f'    """{summary}', "", f"    {_doc(rng, noun)}", '    """']
    if shape == 0:
        body = [
            f"def {name}(records, limit={rng.randint(10, 500)}):",
            *doc,
            "    result = []",
            "    for record in records[:limit]:",
            f'        if record.get("{field_name}") is None:',
            "            continue",
            f'        result.append(record["{field_name}"] * RATE)',
            "    return result",
        ]
    elif shape == 1:
        body = [
            f"def {name}(values):",
            *doc,
            "    table = {}",
            "    for key, value in values.items():",
            f"        table[key.lower()] = round(value * {rng.randint(2, 9)}.{rng.randint(0, 99):02d}, 2)",
            "    return table",
        ]
    elif shape == 2:
        body = [
            f"def {name}(payload):",
            *doc,
            "    errors = []",
            f'    if "{field_name}" not in payload:',
            f'        errors.append("missing {field_name}")',
            f'    if payload.get("{other}", 0) < 0:',
            f'        errors.append("{other} must not be negative")',
            "    return errors",
        ]
    else:
        cls = f"{noun.capitalize()}{field_name.capitalize()}{index}"
        body = [
            "@dataclass",
            f"class {cls}:",
            f'    """One {noun} {field_name}. {_doc(rng, noun)}"""',
            "",
            f"    {field_name}: int = 0",
            f'    {other}_name: str = ""',
            "",
            "    def describe(self) -> str:",
            f'        return f"{{self.{other}_name}} ({{self.{field_name}}})"',
        ]
    if rng.random() < 0.15:
        body.insert(1 if shape < 3 else 2, f"    # TODO: revisit the {field_name} rules once the {noun} export moves")
    return body + ["", ""]


def build_project(rng: random.Random) -> Project:
    project = Project()
    nouns = rng.sample(NOUNS, rng.randint(12, 24))
    for noun in nouns:
        path = f"app/{noun}.py"
        lines = [
            f'"""{noun.capitalize()} helpers. {_doc(rng, noun)}"""',
            "",
            "from __future__ import annotations",
            "",
            "from dataclasses import dataclass",
            "",
        ]
        if len(project.unused) < 3 and rng.random() < 0.2:
            module = UNUSED[len(project.unused)]
            project.unused[path] = f"import {module}  # unused"
            lines.append(project.unused[path])
        lines += ["", f"RATE = {rng.randint(2, 19)}", "", ""]
        for index in range(rng.randint(6, 28)):
            lines += _function(rng, noun, index)
        lines += [
            f"def clamp_{noun}(value, low, high):",
            f'    """Keep a {noun} value between low and high."""',
            "    return max(low, min(high, value))",
            "",
            "",
            f"def total_{noun}_cents(items):",
            f'    """Sum the amounts of the {noun} items, in integer cents."""',
            f"    {FIXED_LINE}",
            "",
        ]
        project.files[path] = "\n".join(lines)
        project.modules.append(path)
        project.files[f"tests/test_{noun}.py"] = _test_file(noun)
    for path in rng.sample(project.modules, rng.randint(2, 4)):
        kind = rng.choice(sorted(BUGS))
        noun = Path(path).stem
        ident = f"{rng.choice(FIELDS)}_{noun}_{rng.randint(10, 99)}"
        k = rng.randint(1, 9)
        buggy, error = (s.format(ident=ident, k=k, total=7 + k) for s in BUGS[kind])
        project.files[path] = project.files[path].replace(f"    {FIXED_LINE}", f"    {buggy}")
        project.bugs.append(Bug(path, kind, buggy, error))
    for noun in rng.sample(nouns, min(len(nouns), rng.randint(3, 6))):
        project.files[f"docs/{noun}.md"] = _doc_file(rng, noun)
    project.files["app/__init__.py"] = ""
    project.files["tests/__init__.py"] = ""
    project.files["tools/lint.py"] = LINT_SCRIPT
    project.files["vendor/README.md"] = "Vendored code: do not edit.\n"
    return project


def _test_file(noun: str) -> str:
    return f"""import unittest

from app import {noun}


class Test{noun.capitalize()}(unittest.TestCase):
    def test_clamp(self):
        self.assertEqual({noun}.clamp_{noun}(5, 0, 3), 3)

    def test_total_cents(self):
        self.assertEqual({noun}.total_{noun}_cents([{{"amount": 3}}, {{"amount": 4}}]), 7)
"""


def _doc_file(rng: random.Random, noun: str) -> str:
    parts = [f"# {noun.capitalize()}", ""]
    for section in range(rng.randint(4, 12)):
        parts += [f"## {rng.choice(VERBS).capitalize()} {rng.choice(FIELDS)} ({section + 1})", ""]
        for _ in range(rng.randint(2, 5)):
            parts += [_doc(rng, noun) + " " + _doc(rng, noun), ""]
    return "\n".join(parts)


LINT_SCRIPT = '''"""A small linter: long lines, TODOs, and imports marked unused."""

import pathlib
import re
import sys


def main(root):
    errors = 0
    for path in sorted(pathlib.Path(root).rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if len(line) > 88:
                print(f"{path}:{number}: warning: line too long ({len(line)} > 88)")
            if "TODO" in line:
                print(f"{path}:{number}: warning: TODO left in the code")
            match = re.match(r"import (\\w+)  # unused", line)
            if match:
                errors += 1
                print(f"{path}:{number}: error: unused import '{match[1]}'")
    print(f"{errors} error(s)")
    return 1 if errors else 0


sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "app"))
'''


# --- the session plan ----------------------------------------------------------------------


@dataclass
class Step:
    text: str
    calls: list[dict[str, Any]]


@dataclass
class Turn:
    user: str
    steps: list[Step]
    reply: str


@dataclass
class Plan:
    turns: list[Turn] = field(default_factory=list)
    facts: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # planted error lines to look for in the log

    def fact(self, kind: str, text: str) -> None:
        if {"kind": kind, "text": text} not in self.facts:
            self.facts.append({"kind": kind, "text": text})

    def script(self) -> list[dict[str, Any]]:
        turns: list[dict[str, Any]] = []
        for turn in self.turns:
            for step in turn.steps:
                turns.append({"text": step.text, "tool_use": step.calls})
            turns.append({"text": turn.reply})
        return turns


def _read(path: str, **extra: int) -> dict[str, Any]:
    return {"name": "Read", "input": {"file_path": path, **extra}}


def _bash(command: str) -> dict[str, Any]:
    return {"name": "Bash", "input": {"command": command}}


def _edit(path: str, old: str, new: str) -> dict[str, Any]:
    return {"name": "Edit", "input": {"file_path": path, "old_string": old, "new_string": new}}


def _grep(pattern: str) -> dict[str, Any]:
    return {"name": "Grep", "input": {"pattern": pattern, "output_mode": "content"}}


def _size(project: Project, path: str) -> int:
    """Rough tokens a Read of the whole file adds."""
    text = project.files.get(path, "")
    return (len(text) + 8 * text.count("\n")) // 4


def build_plan(rng: random.Random, project: Project, target_tokens: int) -> Plan:
    plan = Plan()
    read: list[str] = []
    spent = 0
    instructions = rng.sample(INSTRUCTIONS, rng.randint(3, 6))
    goal = "Goal: get the test suite passing again and clear the lint errors in app/."
    plan.fact("instruction", goal)
    plan.errors += [bug.error for bug in project.bugs]
    plan.errors += [f"error: unused import '{line.split()[1]}'" for line in project.unused.values()]

    def filler(path: str = "the module") -> str:
        return rng.choice(FILLER).format(path=path)

    def step_read(paths: list[str]) -> Step:
        nonlocal spent
        for path in paths:
            plan.fact("path", path)
            spent += _size(project, path)
            if path not in read:
                read.append(path)
        return Step(filler(paths[0]), [_read(p) for p in paths])

    def step_tests() -> Step:
        nonlocal spent
        spent += 300 + 450 * sum(not b.fixed for b in project.bugs)
        return Step("Running the test suite.", [_bash(TEST_COMMAND)])

    first_user = f"{goal} {instructions[0]} Start by looking around."
    plan.turns.append(
        Turn(
            first_user,
            [
                Step("Listing the package first.", [{"name": "Glob", "input": {"pattern": "app/**/*.py"}}]),
                step_tests(),
                step_read(rng.sample(project.modules, 2)),
            ],
            "The suite fails; the errors are in the output above.",
        )
    )
    plan.fact("instruction", instructions[0])
    pending_instructions = instructions[1:]
    decisions = rng.sample(DECISIONS, rng.randint(2, 5))
    missing = f"app/{rng.choice(NOUNS)}_legacy.py"

    while spent < target_tokens:
        steps: list[Step] = []
        user_parts: list[str] = []
        choice = rng.random()
        open_bugs = [b for b in project.bugs if not b.fixed]
        if pending_instructions and rng.random() < 0.35:
            instruction = pending_instructions.pop(0)
            user_parts.append(instruction)
            plan.fact("instruction", instruction)
        if choice < 0.25 and open_bugs:
            bug = open_bugs[0]
            user_parts.append(f"Fix the failure in {bug.module}.")
            steps.append(step_read([bug.module]))
            if rng.random() < 0.3:  # a first attempt that does not match the file
                wrong = bug.buggy.replace("items", "rows")
                steps.append(Step("Applying the fix.", [_edit(bug.module, wrong, FIXED_LINE)]))
            steps.append(Step("Applying the fix.", [_edit(bug.module, bug.buggy, FIXED_LINE)]))
            bug.fixed = True
            project.files[bug.module] = project.files[bug.module].replace(bug.buggy, FIXED_LINE)
            if rng.random() < 0.8:
                steps.append(step_tests())
        elif choice < 0.40:
            user_parts.append("Run the linter and show me what it finds.")
            spent += 150 + 40 * sum("TODO" in t for t in project.files.values())
            steps.append(Step("Running the linter.", [_bash(LINT_COMMAND)]))
            if project.unused and rng.random() < 0.5:
                path, line = next(iter(project.unused.items()))
                steps.append(Step("Removing the unused import.", [_edit(path, line + "\n", "")]))
                plan.fact("path", path)
                del project.unused[path]
                project.files[path] = project.files[path].replace(line + "\n", "")
                steps.append(Step("Running the linter again.", [_bash(LINT_COMMAND)]))
        elif choice < 0.55 and read:
            again = rng.sample(read, min(len(read), rng.randint(1, 2)))
            user_parts.append(f"Look at {again[0]} again; I changed my mind about the approach.")
            steps.append(step_read(again))
        elif choice < 0.68:
            noun = Path(rng.choice(project.modules)).stem
            pattern = rng.choice([f"def .*_{noun}_", "RATE", f"clamp_{noun}|total_{noun}", "TODO", "def total_"])
            user_parts.append(f"Search the code for `{pattern}`.")
            spent += 2500
            steps.append(Step(filler(), [_grep(pattern)]))
        elif choice < 0.76:
            docs = [p for p in project.files if p.startswith("docs/")]
            path = rng.choice(docs)
            user_parts.append(f"What do the docs say in {path}?")
            steps.append(step_read([path]))
        elif choice < 0.82:
            path = rng.choice(project.modules)
            user_parts.append(f"Show me the first part of {path} with sed.")
            plan.fact("path", path)
            spent += _size(project, path) // 2
            steps.append(Step(filler(path), [_bash(f"sed -n 1,150p {path}")]))
        elif choice < 0.87:
            user_parts.append(f"Is there a {missing}? The old notes mention it.")
            plan.fact("path", missing)
            steps.append(Step(f"Reading {missing}.", [_read(missing)]))
            plan.errors.append(f"File not found: {missing}")
        elif choice < 0.92:
            path = rng.choice(project.modules)
            text = project.files[path]
            lines = text.count("\n") + 1
            offset = rng.randint(1, max(1, lines - 60))
            user_parts.append(f"Explain lines {offset} to {offset + 59} of {path}.")
            plan.fact("path", path)
            spent += _size(project, path) * 60 // lines
            steps.append(Step(filler(path), [_read(path, offset=offset, limit=60)]))
        else:
            user_parts.append("Run the tests again.")
            steps.append(step_tests())
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):  # the agent looks further before answering
            if rng.random() < 0.8:
                steps.append(step_read(rng.sample(project.modules, rng.randint(1, 2))))
            else:
                noun = Path(rng.choice(project.modules)).stem
                spent += 1500
                steps.append(Step(filler(), [_grep(f"{noun}|RATE")]))
        reply = rng.choice(REPORTS).format(path=read[-1] if read else "the package")
        if decisions and rng.random() < 0.3:
            noun = rng.choice(NOUNS)
            decision = decisions.pop().format(module=rng.choice(project.modules), noun=noun, field=rng.choice(FIELDS))
            plan.fact("decision", decision)
            reply = f"{reply} {decision}"
        plan.turns.append(Turn(" ".join(user_parts), steps, reply))
        spent += 60 * len(steps) + 80
    return plan


# --- running it ----------------------------------------------------------------------------


async def run_session(name: str, seed: int, target_tokens: int, root: Path) -> dict[str, Any]:
    rng = random.Random(seed)
    project = build_project(rng)
    original = dict(project.files)  # the plan edits the project as its script will
    plan = build_plan(rng, project, target_tokens)
    workspace = root / name
    for path, text in original.items():
        (workspace / path).parent.mkdir(parents=True, exist_ok=True)
        (workspace / path).write_text(text)
    script = root / f"{name}.json"
    script.write_text(json.dumps(plan.script()))
    config = Config(bundles=root / "bundles", fsync="never", permissions=PermissionsConfig(mode="bypass"))
    bench = await Engine.open(config, workspace, ScriptedBrain(script), session_id=f"20261121T000000Z-{seed:04x}")
    try:
        for turn in plan.turns:
            await bench.submit(Send(text=turn.user))
            await bench.settled()
        events = list(bench.events)
    finally:
        await bench.submit(Close())
    facts = plan.facts + error_facts(events, plan.errors)
    return {"item": name, "facts": facts, "events": [e.model_dump(mode="json") for e in events]}


def error_facts(events: list[Event], planted: list[str]) -> list[dict[str, str]]:
    """Planted errors the log shows: open when the latest result of their call still has them."""
    calls = {e.tool_use_id: json.dumps([e.name, e.input], sort_keys=True) for e in events if isinstance(e, ToolCall)}
    latest: dict[str, ToolResult] = {}
    seen: set[str] = set()
    for e in events:
        if isinstance(e, ToolResult):
            latest[calls[e.tool_use_id]] = e
            seen.update(error for error in planted if error in e.content)
    still = {error for r in latest.values() if r.is_error for error in planted if error in r.content}
    ordered = list(dict.fromkeys(planted))
    return [
        {"kind": "error" if error in still else "resolved_error", "text": error} for error in ordered if error in seen
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=24)
    parser.add_argument("--out", type=Path, default=CORPUS)
    args = parser.parse_args()
    # the plan's estimate runs low on long sessions: these targets give about 20k to 150k tokens
    targets = [round(16_000 + i * (78_000 / max(1, args.sessions - 1))) for i in range(args.sessions)]
    root = Path(tempfile.mkdtemp(prefix="wb-reduce-corpus-"))
    try:
        with gzip.open(args.out, "wt", encoding="utf-8", compresslevel=9) as out:
            for index, target in enumerate(targets):
                name = f"session-{index + 1:02d}"
                item = await run_session(name, seed=index + 1, target_tokens=target, root=root)
                out.write(json.dumps(item, separators=(",", ":")) + "\n")
                print(f"{name}: {len(item['events'])} events, {len(item['facts'])} facts", file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
