"""Regenerate ``benchmarks/real_corpus.jsonl.gz``: long coding sessions in the files Claude Code and Codex CLI write.

``bench_reduce.py`` imports each through Workbench's own importers, as a user's
``workbench bundles import`` would, then reduces it. The files follow the formats
as the tools document and write them, not Workbench's fixtures:

- **Claude Code** (``~/.claude/projects/<project>/<session>.jsonl``): one line per
  content block of a reply (parallel ``tool_use`` blocks share ``message.id``), one
  ``user`` line per ``tool_result`` with its ``toolUseResult`` and
  ``sourceToolAssistantUUID``, ``Read`` results numbered ``     1→…``, a failing ``Bash``
  as ``Exit code 1\\n…`` with ``is_error``, ``<tool_use_error>`` for a missing file or
  an ``Edit`` whose text is not found, thinking blocks, a slash command followed by its
  ``isMeta`` prompt, a prompt queued while the agent worked, a rewind (an abandoned
  branch left in the file), and a ``Task`` whose sub-agent writes
  ``<session>/subagents/agent-<id>.jsonl``.
- **Codex CLI** (``~/.codex/sessions/YYYY/MM/DD/rollout-….jsonl``): ``session_meta``,
  ``turn_context``, ``response_item`` messages, ``reasoning`` with encrypted content,
  parallel ``function_call`` items, reads through the shell (``sed -n 'A,Bp'``,
  ``nl -ba … | sed -n``, ``cat``), ``apply_patch`` as a custom tool, ``token_count``
  events, an interrupted turn; half the sessions with the ``shell`` tool and its JSON
  output (``{"output", "metadata": {"exit_code"}}``), half with ``exec_command`` and
  its plain-text header (``Process exited with code 1``).

The work in every session: explore a project (parallel reads of long files,
searches), run a failing test suite, edit after errors (an edit that does not
match, a re-read, the fix), run the tests again, take the user's corrections
mid-session, run a linter or type checker, read docs, sometimes end with errors
still open. Each session's facts are what the benchmark counts: every path the
tools touched, the user's explicit instructions, and the error lines of results
(open when the latest run of their command still shows them; the others are
``resolved_error``, reported apart).

    .venv/bin/python benchmarks/make_real_corpus.py [--sessions 24] [--out PATH]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent / "real_corpus.jsonl.gz"

# --- a project --------------------------------------------------------------------------------

DOMAINS = """billing cart catalog checkout coupons currency delivery discounts fulfilment inventory invoices
ledger loyalty orders payments pricing refunds returns reports shipping subscriptions taxes vouchers
warehouse""".split()
FIELDS = "amount quantity rate region currency status weight channel priority total".split()
VERBS = "compute apply collect merge normalise resolve split rank group validate load".split()
PROSE = [
    "Amounts are kept in integer cents; rounding happens once, per line item.",
    "Records without the field are skipped rather than rejected.",
    "The limit keeps one report from loading an unbounded batch.",
    "Callers in the API layer rely on the order of the result.",
    "The service calls this on every request, so it must stay cheap.",
    "Negative values are clamped to zero because refunds are handled elsewhere.",
    "Keys are lower-cased so that imports from the old system still match.",
    "Nothing here touches the database; the caller owns persistence.",
    "This mirrors the rules the finance team wrote down for the export.",
]


@dataclass
class Bug:
    module: str
    test_file: str
    test: str
    message: str  # the error line the test run prints
    old: str  # the buggy line, as the file holds it
    new: str
    fixed: bool = False


@dataclass
class Lint:
    path: str
    line: str  # the diagnostic, as the linter prints it
    old: str
    new: str
    fixed: bool = False


@dataclass
class Project:
    lang: str  # "python" | "typescript"
    root: str
    files: dict[str, str] = field(default_factory=dict)
    modules: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)
    bugs: list[Bug] = field(default_factory=list)
    lints: list[Lint] = field(default_factory=list)

    @property
    def test_command(self) -> str:
        return "python -m pytest -q" if self.lang == "python" else "npx jest"

    @property
    def lint_command(self) -> str:
        return "ruff check ." if self.lang == "python" else "npx eslint src"

    @property
    def typecheck_command(self) -> str:
        return "mypy billing" if self.lang == "python" else "npx tsc --noEmit"


def _py_function(rng: random.Random, domain: str, index: int) -> list[str]:
    verb, name, other = rng.choice(VERBS), rng.choice(FIELDS), rng.choice(FIELDS)
    func = f"{verb}_{domain}_{name}_{index}"
    doc = f'    """{verb.capitalize()} the {domain} {name} of each record.\n\n    {rng.choice(PROSE)}\n    """'
    shape = rng.randrange(3)
    if shape == 0:
        body = [
            f"def {func}(records: list[dict], limit: int = {rng.randint(10, 500)}) -> list[int]:",
            doc,
            "    result = []",
            "    for record in records[:limit]:",
            f'        if record.get("{name}") is None:',
            "            continue",
            f'        result.append(int(record["{name}"]) * RATE)',
            "    return result",
        ]
    elif shape == 1:
        body = [
            f"def {func}(values: dict[str, Decimal]) -> dict[str, Decimal]:",
            doc,
            "    table = {}",
            "    for key, value in values.items():",
            f'        table[key.lower()] = (value * Decimal("{rng.randint(1, 9)}.{rng.randint(0, 99):02d}")).quantize(CENT)',
            "    return table",
        ]
    else:
        cls = f"{domain.capitalize()}{name.capitalize()}{index}"
        body = [
            "@dataclass(frozen=True)",
            f"class {cls}:",
            f'    """One {domain} {name}. {rng.choice(PROSE)}"""',
            "",
            f"    {name}: int = 0",
            f'    {other}_label: str = ""',
            "",
            "    def describe(self) -> str:",
            f'        return f"{{self.{other}_label}} ({{self.{name}}})"',
        ]
    return [*body, "", ""]


def _ts_function(rng: random.Random, domain: str, index: int) -> list[str]:
    verb, name, other = rng.choice(VERBS), rng.choice(FIELDS), rng.choice(FIELDS)
    func = f"{verb}{domain.capitalize()}{name.capitalize()}{index}"
    shape = rng.randrange(3)
    doc = ["/**", f" * {verb.capitalize()} the {domain} {name} of each record.", f" * {rng.choice(PROSE)}", " */"]
    if shape == 0:
        body = [
            f"export function {func}(records: Record<string, number>[], limit = {rng.randint(10, 500)}): number[] {{",
            "  const result: number[] = [];",
            "  for (const record of records.slice(0, limit)) {",
            f"    if (record.{name} === undefined) continue;",
            f"    result.push(record.{name} * RATE);",
            "  }",
            "  return result;",
            "}",
        ]
    elif shape == 1:
        body = [
            f"export function {func}(values: Map<string, number>): Map<string, number> {{",
            "  const table = new Map<string, number>();",
            "  for (const [key, value] of values) {",
            f"    table.set(key.toLowerCase(), Math.round(value * {rng.randint(1, 9)}.{rng.randint(0, 99):02d}));",
            "  }",
            "  return table;",
            "}",
        ]
    else:
        body = [
            f"export interface {domain.capitalize()}{name.capitalize()}{index} {{",
            f"  {name}: number;",
            f"  {other}Label: string;",
            "}",
        ]
    return [*doc, *body, ""]


def build_project(rng: random.Random, lang: str) -> Project:
    name = rng.choice(["shop", "storefront", "backoffice", "orders-api", "merchant"])
    project = Project(lang=lang, root=f"/home/dev/{name}")
    domains = rng.sample(DOMAINS, rng.randint(8, 14))
    py = lang == "python"
    for domain in domains:
        path = f"billing/{domain}.py" if py else f"src/billing/{domain}.ts"
        if py:
            lines = [
                f'"""{domain.capitalize()}: {rng.choice(PROSE)}"""',
                "",
                "from __future__ import annotations",
                "",
                "from dataclasses import dataclass",
                "from decimal import Decimal",
                "",
                f"RATE = {rng.randint(2, 19)}",
                'CENT = Decimal("0.01")',
                "",
                "",
            ]
        else:
            lines = [f"// {domain}: {rng.choice(PROSE)}", "", f"export const RATE = {rng.randint(2, 19)};", ""]
        for index in range(rng.randint(12, 70)):
            lines += _py_function(rng, domain, index) if py else _ts_function(rng, domain, index)
        if py:
            lines += [
                f"def total_{domain}(items: list[dict]) -> Decimal:",
                f'    """The total of the {domain} items, rounded per line item."""',
                '    return sum((Decimal(str(item["amount"])).quantize(CENT) for item in items), Decimal(0))',
                "",
            ]
        else:
            lines += [
                f"export function total{domain.capitalize()}(items: {{ amount: number }}[]): number {{",
                "  return items.reduce((sum, item) => sum + Math.round(item.amount), 0);",
                "}",
                "",
            ]
        project.files[path] = "\n".join(lines)
        project.modules.append(path)
        test = f"tests/test_{domain}.py" if py else f"src/billing/{domain}.test.ts"
        project.files[test] = _test_file(lang, domain)
        project.tests.append(test)
    for domain in rng.sample(domains, rng.randint(2, 4)):
        module = next(m for m in project.modules if f"/{domain}." in m)
        test = next(t for t in project.tests if f"{domain}." in t or f"_{domain}." in t)
        project.bugs.append(_bug(rng, project, domain, module, test))
    for module in rng.sample(project.modules, rng.randint(1, 3)):
        project.lints.append(_lint(rng, project, module))
    for domain in rng.sample(domains, 3):
        path = f"docs/{domain}.md"
        project.files[path] = _doc(rng, domain)
        project.docs.append(path)
    project.files["README.md"] = f"# {name}\n\n{' '.join(rng.sample(PROSE, 4))}\n"
    return project


def _test_file(lang: str, domain: str) -> str:
    if lang == "python":
        return (
            f"from decimal import Decimal\n\nfrom billing import {domain}\n\n\n"
            f"def test_total_{domain}():\n"
            f'    assert {domain}.total_{domain}([{{"amount": "3.10"}}, {{"amount": "4.15"}}]) == Decimal("7.25")\n'
        )
    cap = domain.capitalize()
    return (
        f'import {{ total{cap} }} from "./{domain}";\n\n'
        f'describe("{domain}", () => {{\n  it("adds the amounts", () => {{\n'
        f"    expect(total{cap}([{{ amount: 310 }}, {{ amount: 415 }}])).toBe(725);\n  }});\n}});\n"
    )


def _bug(rng: random.Random, project: Project, domain: str, module: str, test: str) -> Bug:
    text = project.files[module]
    if project.lang == "python":
        good = '    return sum((Decimal(str(item["amount"])).quantize(CENT) for item in items), Decimal(0))'
        key = rng.choice(FIELDS)
        variants = [
            ('    return sum(Decimal(str(item["amount"])) for item in items).quantize(CENT)',
             "AssertionError: assert Decimal('7.26') == Decimal('7.25')"),
            (f'    return sum((Decimal(str(item["{key}"])).quantize(CENT) for item in items), Decimal(0))',
             f"KeyError: '{key}'"),
            ('    return sum((Decimal(item["amount"]).quantize(CENT) for item in items), 0) + items[0]["amount"]',
             "TypeError: unsupported operand type(s) for +: 'decimal.Decimal' and 'str'"),
            (f"    return {domain}_total_cache[len(items)]",
             f"NameError: name '{domain}_total_cache' is not defined"),
        ]  # fmt: skip
        buggy, message = rng.choice(variants)
        name = f"test_total_{domain}"
    else:
        cap = domain.capitalize()
        good = "  return items.reduce((sum, item) => sum + Math.round(item.amount), 0);"
        variants = [
            ("  return Math.round(items.reduce((sum, item) => sum + item.amount * 1.001, 0));",
             f"● {domain} › adds the amounts"),
            ("  return items.reduce((sum, item) => sum + Math.round(item.cents.amount), 0);",
             "TypeError: Cannot read properties of undefined (reading 'amount')"),
        ]  # fmt: skip
        buggy, message = rng.choice(variants)
        name = f"{domain} › adds the amounts"
        del cap
    project.files[module] = text.replace(good, buggy)
    return Bug(module=module, test_file=test, test=name, message=message, old=buggy, new=good)


def _lint(rng: random.Random, project: Project, module: str) -> Lint:
    lines = project.files[module].split("\n")
    if project.lang == "python":
        unused = rng.choice(["os", "json", "re", "itertools"])
        lines.insert(5, f"import {unused}")
        line = f"{module}:6:8: F401 [*] `{unused}` imported but unused"
        old, new = f"import {unused}\n", ""
    else:
        var = rng.choice(["legacyRate", "unusedTotal", "scratch"])
        lines.insert(3, f"const {var} = RATE * 2;")
        line = f"4:7  error  '{var}' is assigned a value but never used  @typescript-eslint/no-unused-vars"
        old, new = f"const {var} = RATE * 2;\n", ""
    project.files[module] = "\n".join(lines)
    return Lint(path=module, line=line, old=old, new=new)


def _doc(rng: random.Random, domain: str) -> str:
    parts = [f"# {domain.capitalize()}", ""]
    for section in range(rng.randint(6, 14)):
        parts += [f"## {rng.choice(VERBS).capitalize()} {rng.choice(FIELDS)} ({section + 1})", ""]
        for _ in range(rng.randint(2, 5)):
            parts += [" ".join(rng.sample(PROSE, 3)), ""]
    return "\n".join(parts)


# --- the work, in terms of no tool in particular -------------------------------------------------


@dataclass
class Call:
    kind: str  # read | missing | edit | run | grep | glob | task
    path: str = ""
    start: int = 1
    end: int | None = None  # None: to the end of the file
    lines: list[str] = field(default_factory=list)  # what a read shows
    total: int = 0  # the file's line count
    old: str = ""
    new: str = ""
    failed: bool = False
    command: str = ""
    output: str = ""
    exit_code: int = 0
    pattern: str = ""
    matches: list[str] = field(default_factory=list)
    task: str = ""  # a sub-agent's prompt
    subagent: list[Step] = field(default_factory=list)
    summary: str = ""


@dataclass
class Step:
    text: str
    calls: list[Call]
    thinking: str = ""


@dataclass
class Turn:
    prompt: str
    steps: list[Step]
    reply: str
    command: tuple[str, str, str] | None = None  # a slash command: name, arguments, its expanded prompt
    queued: str = ""  # a prompt the user typed while the agent worked (after the first step)
    interrupted: bool = False  # the user stopped the turn (Codex: turn_aborted)


@dataclass
class Plan:
    turns: list[Turn] = field(default_factory=list)
    abandoned: Turn | None = None  # a branch the user rewound (after turn ``rewind_after``)
    rewind_after: int = 0
    facts: list[dict[str, str]] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # error lines results showed, in order
    latest: dict[str, list[str]] = field(default_factory=dict)  # command -> error lines its last run showed

    def fact(self, kind: str, text: str) -> None:
        entry = {"kind": kind, "text": text}
        if entry not in self.facts:
            self.facts.append(entry)


GOALS = [
    "The invoice totals are off by a cent on some orders. Find the cause and fix it.",
    "CI has been red since yesterday's merge. Get the test suite passing again.",
    "Some billing totals are wrong and the linter complains. Clean up the billing package.",
    "Customers report wrong totals on their receipts. Track it down and fix it.",
]
CONSTRAINTS = [
    "Don't change the public signature of any total_ function.",
    "Keep the fix inside the billing package.",
    "Never use float for money; amounts stay Decimal or integer cents.",
    "Don't touch anything under migrations/.",
    "Run the full test suite before you tell me it's done.",
    "Don't add new dependencies.",
    "No drive-by refactors; keep each change as small as possible.",
    "Leave the docs alone unless I ask.",
]
CORRECTIONS = [
    "No, that's not what I meant. The rounding must happen per line item, not on the invoice total.",
    "Wait, don't delete that test. If it is wrong, fix the expectation and tell me why.",
    "Stop editing the tests to make them pass; the code is what's wrong.",
    "Actually, skip the docs for now and focus on the failing tests.",
    "Hold on: the cache was removed on purpose last month, don't bring it back.",
    "Please don't reformat whole files; only touch the lines you need.",
]
FOLLOW_UPS = [
    "Run the linter and fix what it reports in the files you touched.",
    "Run the type checker too and tell me what it says.",
    "What does {doc} say about rounding?",
    "Look at {module} again, I think it has the same problem.",
    "Is there a {legacy}? The old notes mention it.",
    "Explain what the first part of {module} does.",
    "Search the code for other places that call {symbol}.",
    "Run the tests again.",
]
FILLER = [
    "Let me look at the relevant modules first.",
    "I'll read the failing module and its test side by side.",
    "Checking where this helper is used.",
    "Let me look at the test output more closely.",
    "Reading the rest of the file before changing anything.",
]
THOUGHTS = [
    "The failure points at the totals; I should read the module before editing it.",
    "Two tests fail with different errors, so there may be two separate bugs.",
    "The user wants the smallest change; a one-line fix in the total function should do.",
    "Before editing I need the exact text of the line, or the edit will not match.",
]


class Planner:
    """Plans a session that reaches ``target`` tokens, step by step, keeping the project's state."""

    def __init__(self, rng: random.Random, project: Project, flavor: str, target: int) -> None:
        self.rng = rng
        self.project = project
        self.flavor = flavor  # claude-code | codex
        self.target = target
        self.spent = 0
        self.plan = Plan()
        self.read: list[str] = []

    # -- calls, each updating what the session has spent

    def _cost(self, text: str) -> None:
        self.spent += len(text) // 3 + 20

    def read_file(self, path: str, start: int = 1, end: int | None = None) -> list[Call]:
        lines = self.project.files[path].split("\n")
        self.plan.fact("path", path)
        if path not in self.read:
            self.read.append(path)
        if self.flavor == "codex" and end is None:  # Codex reads in chunks through the shell
            chunk = self.rng.choice([200, 250, 300])
            return [self.read_file(path, first, first + chunk - 1)[0] for first in range(1, len(lines) + 1, chunk)[:4]]
        shown = lines[start - 1 : end] if end is not None else lines[start - 1 :]
        self._cost("\n".join(shown) + " " * 8 * len(shown))
        return [Call("read", path=path, start=start, end=end, lines=shown, total=len(lines))]

    def missing(self, path: str) -> Call:
        self.plan.fact("path", path)
        message = (
            "File does not exist."
            if self.flavor == "claude-code"
            else f"sed: can't read {path}: No such file or directory"
        )
        self._note_errors(f"read {path}", [message])
        return Call("missing", path=path, failed=True, exit_code=2)

    def edit(self, path: str, old: str, new: str, *, miss: bool = False) -> Call:
        self.plan.fact("path", path)
        if miss:
            self.plan.fact("resolved_error", "String to replace not found in file." if self.flavor == "claude-code"
                           else f"Failed to find expected lines in {path}")  # fmt: skip
            return Call(
                "edit", path=path, old=old.replace("items", "rows").replace("amount", "amt"), new=new, failed=True
            )
        self.project.files[path] = self.project.files[path].replace(old, new, 1)
        self._cost(old + new + "x" * 400)
        return Call("edit", path=path, old=old, new=new)

    def run(self, command: str) -> Call:
        project = self.project
        if command == project.test_command:
            output, errors = _test_output(self.rng, project)
        elif command == project.lint_command:
            output, errors = _lint_output(project)
        else:
            output, errors = _typecheck_output(project)
        self._note_errors(command, errors)
        self._cost(output)
        return Call("run", command=command, output=output, exit_code=1 if errors else 0)

    def _note_errors(self, key: str, errors: list[str]) -> None:
        self.plan.latest[key] = errors
        self.plan.shown += [error for error in errors if error not in self.plan.shown]

    def grep(self, pattern: str) -> Call:
        matches = []
        for path in self.project.modules + self.project.tests:
            for number, line in enumerate(self.project.files[path].split("\n"), 1):
                if pattern in line:
                    matches.append(f"{path}:{number}:{line}")
        matches = matches[:250]
        self._cost("\n".join(matches))
        return Call("grep", pattern=pattern, matches=matches)

    def glob(self) -> Call:
        paths = sorted(p for p in self.project.files if p.endswith((".py", ".ts")))
        self._cost("\n".join(paths) * 2)
        return Call("glob", pattern="**/*.py" if self.project.lang == "python" else "src/**/*.ts", matches=paths)

    # -- the session

    def build(self) -> Plan:
        rng, project, plan = self.rng, self.project, self.plan
        goal = rng.choice(GOALS)
        constraints = rng.sample(CONSTRAINTS, rng.randint(2, 4))
        first = [goal, constraints[0]]
        pending = constraints[1:]
        command = None
        if (
            self.flavor == "claude-code" and rng.random() < 0.4
        ):  # the user runs a slash command: their words are its arguments
            issue = rng.randint(100, 999)
            args = f"{issue} {goal} {constraints[0]}"
            body = (
                f"Fix GitHub issue #{args}\n\n1. Reproduce it with the test suite.\n"
                "2. Find the smallest change that fixes it.\n3. Run the tests again and report what changed."
            )
            command = ("fix-issue", args, body)
            plan.fact("instruction", args)
        else:
            plan.fact("instruction", goal)
            plan.fact("instruction", constraints[0])
        explore = [Step(rng.choice(FILLER), [self.glob()])]
        opening = rng.sample(project.modules, min(len(project.modules), rng.randint(2, 4)))
        explore.append(
            Step(rng.choice(FILLER), [c for path in opening for c in self.read_file(path)], rng.choice(THOUGHTS))
        )
        explore.append(Step("Running the test suite to see what fails.", [self.run(project.test_command)]))
        plan.turns.append(
            Turn(" ".join(first), explore, "The suite fails; the failures are in the output above.", command=command)
        )
        corrections = rng.sample(CORRECTIONS, rng.randint(1, 3))
        follow_ups = list(FOLLOW_UPS)
        rng.shuffle(follow_ups)
        while self.spent < self.target:
            parts: list[str] = []
            steps: list[Step] = []
            if pending and rng.random() < 0.4:
                parts.append(pending.pop(0))
                plan.fact("instruction", parts[-1])
            open_bugs = [b for b in project.bugs if not b.fixed]
            choice = rng.random()
            if choice < 0.35 and open_bugs:
                steps += self._fix(open_bugs[0], parts)
            elif choice < 0.5 and corrections:
                correction = corrections.pop()
                parts.insert(0, correction)
                plan.fact("instruction", correction)
                path = rng.choice(self.read or project.modules)
                steps.append(Step("Understood. Let me look at it again.", self.read_file(path)))
            elif follow_ups:
                steps += self._follow_up(follow_ups.pop(), parts)
            else:
                parts.append("Run the tests again.")
                plan.fact("instruction", parts[-1])
                steps.append(Step("Running the tests.", [self.run(project.test_command)]))
            for _ in range(rng.choice([0, 1, 1, 2])):  # the agent looks further before answering
                more = rng.sample(project.modules, rng.randint(1, 3))
                steps.append(Step(rng.choice(FILLER), [c for p in more for c in self.read_file(p)]))
            if not parts:
                parts.append("Carry on.")
            turn = Turn(
                " ".join(parts),
                steps,
                rng.choice(["Done; see above.", "That step is finished.", "Here is where it stands."]),
            )
            plan.turns.append(turn)
            self.spent += 200
        self._extras()
        return plan

    def _fix(self, bug: Bug, parts: list[str]) -> list[Step]:
        rng, project = self.rng, self.project
        parts.append(f"Fix the failure in {bug.test_file}.")
        self.plan.fact("instruction", parts[-1])
        steps = [
            Step(
                "Reading the test and the module it exercises.",
                [*self.read_file(bug.test_file), *self.read_file(bug.module)],
            )
        ]
        if rng.random() < 0.45:
            steps.append(Step("Applying the fix.", [self.edit(bug.module, bug.old, bug.new, miss=True)]))
            lines = project.files[bug.module].split("\n")
            at = next(i for i, line in enumerate(lines, 1) if line == bug.old)
            steps.append(
                Step(
                    "The text did not match; reading the exact lines.",
                    self.read_file(bug.module, max(1, at - 20), at + 20),
                )
            )
        steps.append(Step("Applying the fix.", [self.edit(bug.module, bug.old, bug.new)], rng.choice(THOUGHTS)))
        bug.fixed = True
        if rng.random() < 0.85:
            steps.append(Step("Running the tests again.", [self.run(project.test_command)]))
        return steps

    def _follow_up(self, template: str, parts: list[str]) -> list[Step]:
        rng, project = self.rng, self.project
        module = rng.choice(self.read or project.modules)
        doc = rng.choice(project.docs)
        symbol = "total_" if project.lang == "python" else "total"
        legacy = "billing/legacy_totals.py" if project.lang == "python" else "src/billing/legacyTotals.ts"
        parts.append(template.format(doc=doc, module=module, symbol=symbol, legacy=legacy))
        self.plan.fact("instruction", parts[-1])
        if template.startswith("Run the linter"):
            steps = [Step("Running the linter.", [self.run(project.lint_command)])]
            for lint in [x for x in project.lints if not x.fixed][: rng.randint(0, 2)]:
                steps.append(Step("Removing the unused name.", [self.edit(lint.path, lint.old, lint.new)]))
                lint.fixed = True
            if len(steps) > 1:
                steps.append(Step("Running the linter again.", [self.run(project.lint_command)]))
            return steps
        if template.startswith("Run the type checker"):
            return [Step("Running the type checker.", [self.run(project.typecheck_command)])]
        if template.startswith("What does"):
            return [Step("Reading the docs.", self.read_file(doc))]
        if template.startswith("Look at"):
            return [Step("Reading it again.", self.read_file(module))]
        if template.startswith("Is there"):
            return [Step("Checking.", [self.missing(legacy)])]
        if template.startswith("Explain"):
            return [Step("Reading the top of the module.", self.read_file(module, 1, 120))]
        if template.startswith("Search"):
            if self.flavor == "claude-code" and rng.random() < 0.6:
                return [Step("Asking a sub-agent to map the callers.", [self._task(symbol)])]
            return [Step("Searching.", [self.grep(symbol)])]
        return [Step("Running the tests.", [self.run(project.test_command)])]

    def _task(self, symbol: str) -> Call:
        """A sub-agent (Claude Code's Task) that searches and reads on its own; only its summary comes back."""
        inner = Planner(self.rng, self.project, self.flavor, 0)
        steps = [Step("Searching for the callers.", [inner.grep(symbol)])]
        steps.append(
            Step(
                "Reading two of them.",
                [c for p in self.rng.sample(self.project.modules, 2) for c in inner.read_file(p)],
            )
        )
        summary = (
            f"`{symbol}` is defined once per billing module and called from the tests only; no caller outside billing."
        )
        self._cost(summary)
        return Call(
            "task",
            task=f"Find every caller of {symbol} functions and report where they are.",
            subagent=steps,
            summary=summary,
        )

    def _extras(self) -> None:
        """A prompt typed while the agent worked, a rewind, an interrupted turn: things real sessions hold."""
        rng, plan = self.rng, self.plan
        if len(plan.turns) > 3 and rng.random() < 0.6:
            turn = rng.choice(plan.turns[1:-1])
            if len(turn.steps) > 1:
                turn.queued = "Also, keep the error messages exactly as they are; support scripts grep for them."
                plan.fact("instruction", turn.queued)
        if self.flavor == "claude-code" and len(plan.turns) > 3 and rng.random() < 0.7:
            plan.rewind_after = rng.randrange(1, len(plan.turns) - 1)
            plan.abandoned = Turn(
                "Rewrite the whole billing package in Rust.", [], "That would be a large change; let me plan it."
            )
        if self.flavor == "codex" and len(plan.turns) > 3 and rng.random() < 0.6:
            turn = plan.turns[rng.randrange(1, len(plan.turns) - 1)]
            turn.interrupted = True
        # an error is open while the latest run of its command still shows it
        still = {error for errors in plan.latest.values() for error in errors}
        for error in plan.shown:
            plan.fact("error" if error in still else "resolved_error", error)


def _test_output(rng: random.Random, project: Project) -> tuple[str, list[str]]:
    open_bugs = [b for b in project.bugs if not b.fixed]
    if project.lang == "python":
        lines = [
            "============================= test session starts ==============================",
            "platform linux -- Python 3.12.3, pytest-8.3.2, pluggy-1.5.0",
            f"rootdir: {project.root}",
            "configfile: pyproject.toml",
            f"collected {len(project.tests) * 6} items",
            "",
        ]
        for test in project.tests:
            marks = "F" if any(b.test_file == test for b in open_bugs) else "."
            lines.append(f"{test} .....{marks}".ljust(78) + f"[{rng.randint(1, 99):3d}%]")
        if open_bugs:
            lines += ["", "=================================== FAILURES ==================================="]
            for bug in open_bugs:
                lines += [
                    f"{'_' * 28} {bug.test} {'_' * 28}",
                    "",
                    f"    def {bug.test}():",
                    '>       assert total(...) == Decimal("7.25")',
                    "",
                    f"{bug.test_file}:7: ",
                    "_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _",
                    "",
                    "items = [{'amount': '3.10'}, {'amount': '4.15'}]",
                    "",
                    "    def total(items: list[dict]) -> Decimal:",
                    f">   {bug.old.strip()}",
                    f"E   {bug.message}",
                    "",
                    f"{bug.module}:{rng.randint(200, 900)}: {bug.message.split(':')[0]}",
                ]
            lines += ["=========================== short test summary info ============================"]
            lines += [f"FAILED {b.test_file}::{b.test} - {b.message}" for b in open_bugs]
        passed = len(project.tests) * 6 - len(open_bugs)
        verdict = f"{len(open_bugs)} failed, {passed} passed" if open_bugs else f"{passed} passed"
        lines.append(f"{'=' * 20} {verdict} in {rng.uniform(1, 9):.2f}s {'=' * 20}")
    else:
        lines = []
        for test in project.tests:
            bugs = [b for b in open_bugs if b.test_file == test]
            lines.append(f"{'FAIL' if bugs else 'PASS'} {test}")
            for bug in bugs:
                domain = test.rsplit("/", 1)[-1].split(".")[0]
                lines += [f"  ● {domain} › adds the amounts", ""]
                if bug.message.startswith("●"):
                    lines += [
                        "    expect(received).toBe(expected) // Object.is equality",
                        "",
                        "    Expected: 725",
                        "    Received: 726",
                    ]
                else:
                    lines += [f"    {bug.message}"]
                lines += [
                    "",
                    f'      {rng.randint(2, 9)} |   it("adds the amounts", () => {{',
                    f"    > 5 |     expect(total{domain.capitalize()}([{{ amount: 310 }}, {{ amount: 415 }}])).toBe(725);",
                    "        |                                                              ^",
                    "",
                    f"      at Object.<anonymous> ({test}:5:62)",
                    "",
                ]
        failed = len({b.test_file for b in open_bugs})
        lines += [
            f"Test Suites: {failed} failed, {len(project.tests) - failed} passed, {len(project.tests)} total",
            f"Tests:       {len(open_bugs)} failed, {len(project.tests) - len(open_bugs)} passed, {len(project.tests)} total",
            f"Time:        {rng.uniform(2, 9):.3f} s",
        ]
    return "\n".join(lines), [b.message for b in open_bugs]


def _lint_output(project: Project) -> tuple[str, list[str]]:
    still = [lint for lint in project.lints if not lint.fixed]
    if project.lang == "python":
        if not still:
            return "All checks passed!", []
        lines = [lint.line for lint in still]
        return "\n".join(
            [*lines, f"Found {len(lines)} errors.", f"[*] {len(lines)} fixable with the `--fix` option."]
        ), lines
    if not still:
        return "", []
    out: list[str] = []
    for lint in still:
        out += [f"{project.root}/{lint.path}", f"  {lint.line}", ""]
    out.append(f"✖ {len(still)} problems ({len(still)} errors, 0 warnings)")
    return "\n".join(out), [lint.line for lint in still]


def _typecheck_output(project: Project) -> tuple[str, list[str]]:
    module = project.modules[0]
    if project.lang == "python":
        line = f'{module}:14: error: Incompatible return value type (got "int", expected "Decimal")  [return-value]'
        return f"{line}\nFound 1 error in 1 file (checked {len(project.modules)} source files)", [line]
    line = f"{module}(14,3): error TS2322: Type 'string' is not assignable to type 'number'."
    return line, [line]


# --- Claude Code's transcript -----------------------------------------------------------------

CLAUDE_VERSION = "2.0.76"
CLAUDE_MODEL = "claude-sonnet-4-5-20250929"


class ClaudeWriter:
    """Writes a plan as Claude Code's lines: the main file and one file per sub-agent."""

    def __init__(self, rng: random.Random, project: Project, start: datetime) -> None:
        self.rng = rng
        self.project = project
        self.session = str(uuid.UUID(int=rng.getrandbits(128)))
        self.clock = start
        self.files: dict[str, list[dict[str, Any]]] = {"main": []}
        self.lines = self.files["main"]
        self.last: str | None = None
        self.agent_id: str | None = None

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def _line(self, kind: str, parent: str | None, **fields: Any) -> str:
        self.clock += timedelta(milliseconds=self.rng.randint(300, 9000))
        line_id = self._uuid()
        line = {
            "parentUuid": parent,
            "isSidechain": self.agent_id is not None,
            "userType": "external",
            "cwd": self.project.root,
            "sessionId": self.session,
            "version": CLAUDE_VERSION,
            "gitBranch": "main",
            **({"agentId": self.agent_id} if self.agent_id else {}),
            "type": kind,
            **fields,
            "uuid": line_id,
            "timestamp": self.clock.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        self.lines.append(line)
        self.last = line_id
        return line_id

    def prompt(self, text: str, parent: str | None, **extra: Any) -> str:
        return self._line("user", parent, message={"role": "user", "content": text}, **extra)

    def reply(self, blocks: list[dict[str, Any]], stop: str) -> list[str]:
        """One API message: a line per block, chained; every line repeats the usage."""
        message_id = f"msg_01{self.rng.getrandbits(80):020x}"
        usage = {
            "input_tokens": self.rng.randint(2, 9),
            "cache_creation_input_tokens": self.rng.randint(200, 3000),
            "cache_read_input_tokens": self.rng.randint(10_000, 90_000),
            "output_tokens": self.rng.randint(40, 900),
            "service_tier": "standard",
        }
        ids = []
        for index, block in enumerate(blocks):
            last = index == len(blocks) - 1
            message = {
                "model": CLAUDE_MODEL,
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": stop if last else None,
                "stop_sequence": None,
                "usage": usage,
            }
            ids.append(
                self._line("assistant", self.last, message=message, requestId=f"req_011{self.rng.getrandbits(60):015x}")
            )
        return ids

    def step(self, step: Step) -> None:
        blocks: list[dict[str, Any]] = []
        if step.thinking:
            blocks.append(
                {"type": "thinking", "thinking": step.thinking, "signature": f"Eq{self.rng.getrandbits(200):050x}"}
            )
        blocks.append({"type": "text", "text": step.text})
        calls = [(f"toolu_01{self.rng.getrandbits(90):023x}", call) for call in step.calls]
        blocks += [
            {"type": "tool_use", "id": tid, "name": _claude_tool(c), "input": self._input(c)} for tid, c in calls
        ]
        ids = self.reply(blocks, "tool_use")
        for (tid, call), line_id in zip(calls, ids[-len(calls) :]):
            agent_id = self._subagent(call, tid) if call.kind == "task" else ""
            content, is_error, structured = self._result(call, agent_id)
            block: dict[str, Any] = {"tool_use_id": tid, "type": "tool_result", "content": content}
            if is_error:
                block["is_error"] = True
            self.last = line_id
            self._line(
                "user",
                line_id,
                message={"role": "user", "content": [block]},
                toolUseResult=structured,
                sourceToolAssistantUUID=line_id,
            )

    def _input(self, call: Call) -> dict[str, Any]:
        absolute = f"{self.project.root}/{call.path}"
        if call.kind in ("read", "missing"):
            extra = (
                {}
                if call.start == 1 and call.end is None
                else {"offset": call.start, "limit": (call.end or call.start) - call.start + 1}
            )
            return {"file_path": absolute, **extra}
        if call.kind == "edit":
            return {"file_path": absolute, "old_string": call.old, "new_string": call.new}
        if call.kind == "run":
            return {"command": call.command, "description": "Run " + call.command.split()[-1]}
        if call.kind == "grep":
            return {"pattern": call.pattern, "output_mode": "content", "-n": True}
        if call.kind == "glob":
            return {"pattern": call.pattern}
        return {"description": "Map the callers", "prompt": call.task, "subagent_type": "Explore"}

    def _result(self, call: Call, agent_id: str = "") -> tuple[Any, bool, Any]:
        absolute = f"{self.project.root}/{call.path}"
        if call.kind == "read":
            numbered = "\n".join(f"{n:>6}→{line}" for n, line in enumerate(call.lines, call.start))
            file = {
                "filePath": absolute,
                "content": "\n".join(call.lines),
                "numLines": len(call.lines),
                "startLine": call.start,
                "totalLines": call.total,
            }
            return numbered, False, {"type": "text", "file": file}
        if call.kind == "missing":
            return "<tool_use_error>File does not exist.</tool_use_error>", True, "Error: File does not exist."
        if call.kind == "edit" and call.failed:
            text = f"<tool_use_error>String to replace not found in file.\nString: {call.old}</tool_use_error>"
            return text, True, f"Error: String to replace not found in file.\nString: {call.old}"
        if call.kind == "edit":
            snippet = "\n".join(f"{n:>6}→{line}" for n, line in enumerate(call.new.split("\n") or [""], 40))
            text = f"The file {absolute} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n{snippet}"
            return (
                text,
                False,
                {
                    "filePath": absolute,
                    "oldString": call.old,
                    "newString": call.new,
                    "replaceAll": False,
                    "userModified": False,
                },
            )
        if call.kind == "run":
            structured = {"stdout": call.output, "stderr": "", "interrupted": False, "isImage": False}
            if call.exit_code:
                return (
                    f"Exit code {call.exit_code}\n{call.output}",
                    True,
                    f"Error: Exit code {call.exit_code}\n{call.output}",
                )
            return call.output or "(no output)", False, structured
        if call.kind == "grep":
            text = "\n".join(f"{self.project.root}/{m}" for m in call.matches)
            return (
                text,
                False,
                {"mode": "content", "numFiles": 0, "filenames": [], "content": text, "numLines": len(call.matches)},
            )
        if call.kind == "glob":
            names = [f"{self.project.root}/{p}" for p in call.matches]
            return (
                "\n".join(names),
                False,
                {"filenames": names, "durationMs": 41, "numFiles": len(names), "truncated": False},
            )
        content = [{"type": "text", "text": call.summary}]
        return (
            content,
            False,
            {
                "status": "completed",
                "prompt": call.task,
                "agentId": agent_id,
                "content": content,
                "totalDurationMs": 48213,
                "totalTokens": 23411,
                "totalToolUseCount": 3,
            },
        )

    def _subagent(self, call: Call, tool_use_id: str) -> str:
        """The sub-agent's own file, linked by its result's ``agentId`` and its meta file's ``toolUseId``."""
        outer = (self.lines, self.last, self.agent_id)
        self.agent_id = f"a{self.rng.getrandbits(28):07x}"
        self.lines = self.files[f"agent-{self.agent_id}"] = []
        self.files[f"agent-{self.agent_id}.meta"] = [
            {"agentType": "Explore", "description": "Map the callers", "toolUseId": tool_use_id}
        ]
        self.last = None
        self.prompt(call.task, None)
        for step in call.subagent:
            self.step(step)
        self.reply([{"type": "text", "text": call.summary}], "end_turn")
        agent_id = self.agent_id
        self.lines, self.last, self.agent_id = outer
        return agent_id

    def write(self, plan: Plan) -> None:
        self.lines.append(
            {"type": "summary", "summary": "Fix billing totals and get CI green", "leafUuid": self._uuid()}
        )
        for index, turn in enumerate(plan.turns):
            snapshot = {"messageId": self._uuid(), "trackedFileBackups": {}, "timestamp": self.clock.isoformat()}
            self.lines.append(
                {
                    "type": "file-history-snapshot",
                    "messageId": snapshot["messageId"],
                    "snapshot": snapshot,
                    "isSnapshotUpdate": False,
                }
            )
            if turn.command is not None:
                name, args, body = turn.command
                text = f"<command-message>{name} is running…</command-message>\n<command-name>/{name}</command-name>\n<command-args>{args}</command-args>"
                self.prompt(text, self.last)
                self._line(
                    "user",
                    self.last,
                    message={"role": "user", "content": [{"type": "text", "text": body}]},
                    isMeta=True,
                )
            else:
                self.prompt(turn.prompt, self.last)
            for number, step in enumerate(turn.steps):
                self.step(step)
                if number == 0 and turn.queued:
                    attachment = {"type": "queued_command", "prompt": turn.queued, "commandMode": "prompt"}
                    self._line("attachment", self.last, attachment=attachment)
            self.reply([{"type": "text", "text": turn.reply}], "end_turn")
            if index == plan.rewind_after and plan.abandoned is not None:
                fork = self.last
                self.prompt(plan.abandoned.prompt, fork)
                self.reply([{"type": "text", "text": plan.abandoned.reply}], "end_turn")
                self.last = fork  # the user rewound to before that prompt


def _claude_tool(call: Call) -> str:
    return {
        "read": "Read",
        "missing": "Read",
        "edit": "Edit",
        "run": "Bash",
        "grep": "Grep",
        "glob": "Glob",
        "task": "Task",
    }[call.kind]


# --- Codex CLI's rollout ----------------------------------------------------------------------

CODEX_VERSION = "0.58.0"
CODEX_MODEL = "gpt-5-codex"


class CodexWriter:
    def __init__(self, rng: random.Random, project: Project, start: datetime, modern: bool) -> None:
        self.rng = rng
        self.project = project
        self.modern = modern  # exec_command and plain-text outputs, or shell and JSON outputs
        self.clock = start
        self.rollout = str(uuid.UUID(int=rng.getrandbits(128)))
        self.lines: list[dict[str, Any]] = []
        self.total = 0

    def _add(self, kind: str, payload: dict[str, Any]) -> None:
        self.clock += timedelta(milliseconds=self.rng.randint(50, 4000))
        self.lines.append(
            {
                "timestamp": self.clock.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "type": kind,
                "payload": payload,
            }
        )

    def _tokens(self, size: int) -> None:
        last = {
            "input_tokens": size,
            "cached_input_tokens": int(size * 0.8),
            "output_tokens": self.rng.randint(50, 700),
            "reasoning_output_tokens": self.rng.randint(0, 400),
            "total_tokens": 0,
        }
        self.total += size
        total = {**last, "input_tokens": self.total}
        info = {"total_token_usage": total, "last_token_usage": last, "model_context_window": 272000}
        self._add(
            "event_msg",
            {
                "type": "token_count",
                "info": info,
                "rate_limits": {"primary": {"used_percent": 12.0, "window_minutes": 300}},
            },
        )

    def _command_call(self, command: str) -> tuple[str, str, dict[str, Any]]:
        call_id = f"call_{self.rng.getrandbits(120):030x}"
        if self.modern:
            return call_id, "exec_command", {"cmd": command, "workdir": self.project.root, "yield_time_ms": 10000}
        return (
            call_id,
            "shell",
            {"command": ["bash", "-lc", command], "workdir": self.project.root, "timeout_ms": 120000},
        )

    def _output(self, text: str, code: int) -> str:
        if self.modern:
            return f"Chunk ID: {self.rng.getrandbits(24):06x}\nWall time: {self.rng.uniform(0.01, 4):.4f} seconds\nProcess exited with code {code}\nOriginal token count: {len(text) // 4}\nOutput:\n{text}"
        return json.dumps(
            {"output": text, "metadata": {"exit_code": code, "duration_seconds": round(self.rng.uniform(0.01, 4), 1)}}
        )

    def _shell(self, call: Call) -> tuple[str, str, int]:
        """The command a Codex agent runs for the call, its output text and its exit code."""
        path = call.path
        if call.kind == "read":
            end = call.end or call.total
            if self.rng.random() < 0.5:
                return f"sed -n '{call.start},{end}p' {path}", "\n".join(call.lines), 0
            numbered = "\n".join(f"{n:>6}\t{line}" for n, line in enumerate(call.lines, call.start))
            return f"nl -ba {path} | sed -n '{call.start},{end}p'", numbered, 0
        if call.kind == "missing":
            return f"sed -n '1,200p' {path}", f"sed: can't read {path}: No such file or directory", 2
        if call.kind == "run":
            return call.command, call.output, call.exit_code
        if call.kind == "grep":
            return f'rg -n "{call.pattern}"', "\n".join(call.matches), 0
        return "rg --files", "\n".join(call.matches), 0

    def step(self, step: Step) -> None:
        self._add("event_msg", {"type": "agent_reasoning", "text": f"**{step.text.rstrip('.')}**"})
        summary = [{"type": "summary_text", "text": f"**{step.text.rstrip('.')}**"}]
        self._add(
            "response_item",
            {
                "type": "reasoning",
                "summary": summary,
                "content": None,
                "encrypted_content": f"gAAAAAB{self.rng.getrandbits(300):075x}",
            },
        )
        outputs: list[dict[str, Any]] = []
        size = 0
        for call in step.calls:
            if call.kind == "edit":
                call_id = f"call_{self.rng.getrandbits(120):030x}"
                old = "\n".join(f"-{line}" for line in call.old.rstrip("\n").split("\n"))
                new = "\n".join(f"+{line}" for line in call.new.rstrip("\n").split("\n")) if call.new else ""
                patch = f"*** Begin Patch\n*** Update File: {call.path}\n@@\n{old}\n{new}\n*** End Patch".replace(
                    "\n\n*** End", "\n*** End"
                )
                self._add(
                    "response_item",
                    {
                        "type": "custom_tool_call",
                        "status": "completed",
                        "call_id": call_id,
                        "name": "apply_patch",
                        "input": patch,
                    },
                )
                if call.failed:
                    text, code = (
                        f"apply_patch verification failed: Failed to find expected lines in {call.path}:\n{call.old}",
                        1,
                    )
                else:
                    text, code = f"Success. Updated the following files:\nM {call.path}\n", 0
                body = (
                    f"Exit code: {code}\nWall time: 0.1 seconds\nOutput:\n{text}"
                    if self.modern
                    else json.dumps({"output": text, "metadata": {"exit_code": code, "duration_seconds": 0.1}})
                )
                outputs.append({"type": "custom_tool_call_output", "call_id": call_id, "output": body})
                continue
            command, text, code = self._shell(call)
            call_id, name, arguments = self._command_call(command)
            self._add(
                "response_item",
                {"type": "function_call", "name": name, "arguments": json.dumps(arguments), "call_id": call_id},
            )
            outputs.append({"type": "function_call_output", "call_id": call_id, "output": self._output(text, code)})
            size += len(text) // 4
        for output in outputs:
            self._add("response_item", output)
        self._tokens(8000 + size)

    def message(self, text: str) -> None:
        self._add(
            "response_item",
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]},
        )
        self._add("event_msg", {"type": "agent_message", "message": text})

    def prompt(self, text: str) -> None:
        self._add(
            "response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        )
        self._add("event_msg", {"type": "user_message", "message": text, "images": [], "kind": "plain"})

    def write(self, plan: Plan) -> None:
        root = self.project.root
        meta = {
            "id": self.rollout,
            "timestamp": self.clock.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "cwd": root,
            "originator": "codex_cli_rs",
            "cli_version": CODEX_VERSION,
            "instructions": None,
            "source": "cli",
            "model_provider": "openai",
            "git": {"commit_hash": f"{self.rng.getrandbits(160):040x}", "branch": "main"},
        }
        self._add("session_meta", meta)
        agents = (
            "# AGENTS.md instructions for "
            + root
            + "\n\n<INSTRUCTIONS>\nUse the project's Makefile targets. Prefer small commits.\n</INSTRUCTIONS>"
        )
        self._add(
            "response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": agents}]}
        )
        environment = f"<environment_context>\n  <cwd>{root}</cwd>\n  <approval_policy>on-request</approval_policy>\n  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n  <shell>bash</shell>\n</environment_context>"
        self._add(
            "response_item",
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": environment}]},
        )
        for turn in plan.turns:
            context = {
                "cwd": root,
                "approval_policy": "on-request",
                "sandbox_policy": {"mode": "workspace-write", "network_access": False},
                "model": CODEX_MODEL,
                "effort": "medium",
                "summary": "auto",
            }
            self._add("turn_context", context)
            self.prompt(turn.prompt)
            for number, step in enumerate(turn.steps):
                self.step(step)
                if number == 0 and turn.queued:
                    self.prompt(turn.queued)
            if turn.interrupted:  # the user pressed Esc before the answer came
                self._add("event_msg", {"type": "turn_aborted", "reason": "interrupted"})
            else:
                self.message(turn.reply)


# --- the corpus -------------------------------------------------------------------------------


def session(index: int, target: int) -> dict[str, Any]:
    rng = random.Random(1000 + index)
    flavor = "claude-code" if index % 2 == 0 else "codex"
    project = build_project(rng, rng.choice(["python", "typescript"]))
    start = datetime(2025, 11, 3, 9, 0, tzinfo=UTC) + timedelta(days=index)
    plan = Planner(rng, project, flavor, target).build()
    if flavor == "claude-code":
        writer = ClaudeWriter(rng, project, start)
        writer.write(plan)
        project_dir = "-" + project.root.strip("/").replace("/", "-")
        files: dict[str, str] = {}
        for name, lines in writer.files.items():
            if name == "main":
                path = f".claude/projects/{project_dir}/{writer.session}.jsonl"
            elif name.endswith(".meta"):
                path = f".claude/projects/{project_dir}/{writer.session}/subagents/{name}.json"
                files[path] = json.dumps(lines[0])
                continue
            else:
                path = f".claude/projects/{project_dir}/{writer.session}/subagents/{name}.jsonl"
            files[path] = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        main = f".claude/projects/{project_dir}/{writer.session}.jsonl"
    else:
        codex = CodexWriter(rng, project, start, modern=index % 4 == 1)
        codex.write(plan)
        main = f".codex/sessions/{start:%Y/%m/%d}/rollout-{start:%Y-%m-%dT%H-%M-%S}-{codex.rollout}.jsonl"
        files = {main: "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in codex.lines)}
    return {"item": f"{flavor}-{index + 1:02d}", "format": flavor, "main": main, "files": files, "facts": plan.facts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=24)
    parser.add_argument("--out", type=Path, default=CORPUS)
    args = parser.parse_args()
    # planned tokens run a little under what the imported context holds: these give about 20k to 150k
    targets = [round(24_000 + i * (118_000 / max(1, args.sessions - 1))) for i in range(args.sessions)]
    # no time in the gzip header: the same sessions give the same bytes
    with io.TextIOWrapper(gzip.GzipFile(args.out, "wb", compresslevel=9, mtime=0), encoding="utf-8") as out:
        for index, target in enumerate(targets):
            item = session(index, target)
            out.write(json.dumps(item, separators=(",", ":"), ensure_ascii=False) + "\n")
            size = sum(len(text) for text in item["files"].values())
            print(
                f"{item['item']}: {len(item['files'])} file(s), {size:,} bytes, {len(item['facts'])} facts",
                file=sys.stderr,
            )


if __name__ == "__main__":
    main()
