"""The short brief a delegated child gets instead of its parent's whole history.

It comes from the parent's facts ledger: the request the parent is working on
(the user's latest, not the first of the session), the files of the ledger the
task is about with what the parent knows of them, the open errors that concern
those files, and the constraints the user gave.
"""

from __future__ import annotations

import posixpath
import re

from workbench.brains.extractive import clip
from workbench.protocol.facts import FactLedger, FileFact

MAX_FILES = 10
MAX_ERRORS = 5
MAX_CONSTRAINTS = 5
_CONSTRAINT = re.compile(r"\b(must|mustn't|don't|do not|never|always|only|should|avoid|keep|without)\b", re.I)
_WORD = re.compile(r"[\w./-]+")
_ABOUT_ERRORS = re.compile(r"\b(error|errors|fail\w*|broken|bug|fix\w*|test\w*|crash\w*)\b", re.I)
MIN_REQUEST_WORDS = 4


def _words(text: str) -> set[str]:
    return {w.strip(".,:;`'\"").lower() for w in _WORD.findall(text)} - {""}


def files_about(ledger: FactLedger, task: str) -> list[FileFact]:
    """The ledger's files a task names: by path, file name, a folder, or a file name's stem."""
    words = _words(task)
    folders = {w.rstrip("/") + "/" for w in words if "/" in w}
    found = []
    for fact in ledger.files:
        path = fact.path.lower()
        name = posixpath.basename(path)
        stem = name.rsplit(".", 1)[0]
        if (
            path in words
            or name in words
            or any(path.endswith("/" + w) for w in words if "/" in w)
            or any(path.startswith(folder) for folder in folders)
            or (len(stem) >= 4 and stem in words)
        ):
            found.append(fact)
    return found[-MAX_FILES:]


def brief(ledger: FactLedger, task: str) -> str:
    """The task, then what the delegating agent's ledger holds that concerns it."""
    task = task.strip()
    parts = [f"Your task: {task}"]
    requests = [i for i in ledger.instructions if len(i.split()) >= MIN_REQUEST_WORDS and i != task]
    if requests:
        parts.append(f"What the user last asked the agent that delegated this: {clip(requests[-1], 300)}")
    files = files_about(ledger, task)
    if files:
        parts.append("Files of this task it has worked with: " + ", ".join(f"{f.path} ({f.state})" for f in files))
    paths = [f.path for f in files]
    errors = [
        f"{e.source}: " + " | ".join(e.open)
        for e in ledger.errors
        if e.open
        and (any(p in e.source or any(p in line for line in e.open) for p in paths) or _ABOUT_ERRORS.search(task))
    ]
    if errors:
        parts.append(
            "Errors it has seen that are still open:\n" + "\n".join(f"- {clip(e, 400)}" for e in errors[-MAX_ERRORS:])
        )
    constraints = [i for i in ledger.instructions if _CONSTRAINT.search(i)][-MAX_CONSTRAINTS:]
    if constraints:
        parts.append("Constraints the user gave:\n" + "\n".join(f"- {clip(c, 200)}" for c in constraints))
    parts.append("When done, reply with a short summary: it is all the delegating agent will see.")
    return "\n\n".join(parts)
