"""Real git repositories in temporary folders, and a look at what git says about them."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import yaml

IDENTITY = {"user.name": "Test User", "user.email": "test@example.com"}


def sh_git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def make_repo(folder: Path, files: dict[str, str | bytes]) -> Path:
    """A repository on ``main`` with ``files`` committed."""
    folder.mkdir(parents=True, exist_ok=True)
    sh_git(folder, "init", "--quiet", "--initial-branch=main")
    for key, value in IDENTITY.items():
        sh_git(folder, "config", key, value)
    write_files(folder, files)
    sh_git(folder, "add", "--all")
    sh_git(folder, "commit", "--quiet", "-m", "first")
    return folder


def write_files(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def checkout_state(repo: Path) -> tuple[str, str, str, str]:
    """What must not change when an agent works beside the user: HEAD, the branch, the index, the status."""
    index = hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest()
    return (
        sh_git(repo, "rev-parse", "HEAD"),
        sh_git(repo, "symbolic-ref", "--short", "HEAD"),
        index,
        sh_git(repo, "status", "--porcelain", "--untracked-files=all"),
    )


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file of a folder (not git's), by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


def script(path: Path, turns: list[object]) -> Path:
    """A script for the scripted brain: turn i answers request i."""
    path.write_text(yaml.safe_dump(turns, sort_keys=False))
    return path


def call(name: str, **tool_input: object) -> dict[str, object]:
    return {"tool_use": {"name": name, "input": tool_input}}
