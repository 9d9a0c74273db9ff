"""Skills: context packs the model loads itself when their description matches the task.

A skill is a folder with a ``SKILL.md`` — Claude Code's format, unchanged:
front matter ``name`` (lowercase letters, digits and hyphens; the folder's
name when absent), ``description`` (what it is for and when to use it; the
first paragraph when absent), optional ``allowed-tools`` (they pre-approve the
skill's own ``!`command``` lines, as a primer's do), ``disable-model-invocation``
(only the person may apply it), ``user-invocable: false`` (only the model may),
``argument-hint``; the body may use ``$ARGUMENTS``, ``$0`` …, ``@path``,
``!`command``` and ``${CLAUDE_SKILL_DIR}`` / ``${CLAUDE_SESSION_ID}``. The folder
may hold more files the body refers to.

Looked up in ``.workbench/skills/``, ``.claude/skills/``, then the user's
``~/.config/workbench/skills/`` and ``~/.claude/skills/``; the first skill of a
name wins. Only names and descriptions go into the context (the Skill tool's
listing); a body is resolved like a primer when the model calls ``Skill`` or
the person applies it from the primer picker, and injected as a ``primed`` event.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from workbench.engine.config import user_config_path
from workbench.engine.priming.front_matter import FrontMatterError, list_field, split_front_matter, string_field
from workbench.engine.priming.primers import (
    Origin,
    Primer,
    PrimerDir,
    PrimerEntry,
    PrimerFile,
    PrimerFormatError,
    find_primer,
    primer_catalog,
    primer_dirs,
)

SKILL_FILE = "SKILL.md"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class SkillError(PrimerFormatError):
    """A skill that cannot be used; the message names the file and the problem."""


class Skill(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    path: Path  # its SKILL.md
    origin: Origin
    allowed_tools: list[str] | None = None
    model_invocable: bool = True
    user_invocable: bool = True
    argument_hint: str = ""
    body: str

    def primer(self, session_id: str = "") -> Primer:
        """The skill as a primer, which is how its body is resolved."""
        body = self.body.replace("${CLAUDE_SKILL_DIR}", str(self.path.parent))
        body = body.replace("${CLAUDE_SESSION_ID}", session_id)
        return Primer(
            name=self.name,
            path=self.path,
            origin=self.origin,
            description=self.description,
            argument_hint=self.argument_hint,
            tools=self.allowed_tools,
            body=body,
        )


class SkillEntry(BaseModel):
    """One skill folder: the skill, or why it cannot be used."""

    name: str
    path: Path
    origin: Origin
    skill: Skill | None = None
    error: str | None = None


def skill_dirs(workspace: Path, environ: dict[str, str] | None = None) -> list[PrimerDir]:
    home = Path.home() if environ is None or "HOME" not in environ else Path(environ["HOME"])
    return [
        PrimerDir(path=workspace / ".workbench" / "skills", origin="project"),
        PrimerDir(path=workspace / ".claude" / "skills", origin="claude"),
        PrimerDir(path=user_config_path(environ).parent / "skills", origin="user"),
        PrimerDir(path=home / ".claude" / "skills", origin="user"),
    ]


def parse_skill(text: str, path: Path, origin: Origin) -> Skill:
    folder = path.parent.name
    try:
        data, body = split_front_matter(text)
        name = string_field(data, "name") or folder
        if not _NAME.fullmatch(name):
            raise FrontMatterError(f"'name' must be lowercase letters, digits and hyphens (at most 64), not {name!r}")
        description = string_field(data, "description") or _first_paragraph(body)
        if not description:
            raise FrontMatterError("a skill needs a 'description' (or a first paragraph) saying when to use it")
        return Skill(
            name=name,
            description=description,
            path=path,
            origin=origin,
            allowed_tools=list_field(data, "allowed-tools"),
            model_invocable=not _flag(data, "disable-model-invocation", False),
            user_invocable=_flag(data, "user-invocable", True),
            argument_hint=string_field(data, "argument-hint") or "",
            body=body.strip("\n"),
        )
    except FrontMatterError as exc:
        raise SkillError(f"Skill {folder!r} ({path}): {exc}") from None


def _flag(data: dict[str, object], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise FrontMatterError(f"'{key}' must be true or false, not {value!r}")
    return value


def _first_paragraph(body: str) -> str:
    paragraph = body.strip().split("\n\n", 1)[0] if body.strip() else ""
    return " ".join(line.strip().lstrip("#").strip() for line in paragraph.splitlines())[:500]


def skill_catalog(dirs: list[PrimerDir]) -> list[SkillEntry]:
    """Every skill, the first of a name winning; broken ones say why."""
    entries: dict[str, SkillEntry] = {}
    for folder in dirs:
        if not folder.path.is_dir():
            continue
        for path in sorted(folder.path.glob(f"*/{SKILL_FILE}")):
            try:
                skill = parse_skill(path.read_text(encoding="utf-8"), path, folder.origin)
            except (OSError, UnicodeDecodeError) as exc:
                entry = SkillEntry(name=path.parent.name, path=path, origin=folder.origin, error=f"{path}: {exc}")
            except SkillError as exc:
                entry = SkillEntry(name=path.parent.name, path=path, origin=folder.origin, error=str(exc))
            else:
                entry = SkillEntry(name=skill.name, path=path, origin=folder.origin, skill=skill)
            entries.setdefault(entry.name, entry)
    return sorted(entries.values(), key=lambda entry: entry.name)


def find_skill(name: str, dirs: list[PrimerDir], *, by_model: bool) -> Skill:
    """The skill called ``name`` that the model (``by_model``) or the person may apply; SkillError otherwise."""
    entries = skill_catalog(dirs)
    entry = next((e for e in entries if e.name == name.removeprefix("/")), None)
    usable = [e.name for e in entries if e.skill and (e.skill.model_invocable if by_model else e.skill.user_invocable)]
    if entry is None:
        known = f" Skills: {', '.join(usable)}." if usable else " There are no skills."
        raise SkillError(f"No skill named {name!r}.{known}")
    if entry.skill is None:
        raise SkillError(entry.error or f"The skill {name!r} cannot be read")
    if by_model and not entry.skill.model_invocable:
        raise SkillError(f"The skill {name!r} is applied by the user only (disable-model-invocation)")
    if not by_model and not entry.skill.user_invocable:
        raise SkillError(f"No skill named {name!r} for the user to apply (it is the model's: user-invocable false)")
    return entry.skill


def as_primer_entries(entries: list[SkillEntry]) -> list[PrimerEntry]:
    """The skills the person may apply, as the primer picker lists primers."""
    listed = []
    for entry in entries:
        if entry.skill is not None and not entry.skill.user_invocable:
            continue
        file = PrimerFile(name=entry.name, path=entry.path, origin=entry.origin)
        listed.append(PrimerEntry(file=file, primer=entry.skill.primer() if entry.skill else None, error=entry.error))
    return listed


def primers_and_skills(workspace: Path) -> list[PrimerEntry]:
    """What the primer picker offers: the primers, and the skills the person may apply (a skill wins over a
    primer of the same name, as it does over a command in Claude Code)."""
    skills = as_primer_entries(skill_catalog(skill_dirs(workspace)))
    taken = {entry.file.name for entry in skills}
    primers = [entry for entry in primer_catalog(primer_dirs(workspace)) if entry.file.name not in taken]
    return sorted([*skills, *primers], key=lambda entry: entry.file.name)


def find_primer_or_skill(name: str, workspace: Path, session_id: str = "") -> Primer:
    """The skill the person may apply by that name, else the primer."""
    try:
        return find_skill(name, skill_dirs(workspace), by_model=False).primer(session_id)
    except SkillError as exc:
        if not str(exc).startswith("No skill named"):
            raise
    return find_primer(name, primer_dirs(workspace))
