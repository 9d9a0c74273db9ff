"""The facts ledger of one agent: what its log establishes exactly, whatever a summary drops.

The engine derives it from the log (``engine/views/facts.py``); a remount carries it
into the new session (``remounted.facts``), and every reduction and compaction puts
its compact text into the context.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FileFact(BaseModel):
    """A file a tool read or changed, and the last thing known of it."""

    model_config = ConfigDict(frozen=True)

    path: str  # workspace-relative when inside the workspace
    state: str  # the last action: "read", "read lines 1–200", "changed (Edit)", "not found" …
    changed: bool = False  # changed at some point, even if read since


class CommandFact(BaseModel):
    """A command the agent ran (file reads and searches left out), with how its last run ended."""

    model_config = ConfigDict(frozen=True)

    command: str
    runs: int = 1
    outcome: str = ""  # "ok", "exit 1", "failed", "timed out"; "" while it runs


class ErrorFact(BaseModel):
    """The error lines one kind of call produced: those its latest result still shows are open."""

    model_config = ConfigDict(frozen=True)

    key: str  # the calls that count as trying the same thing again (a command, a change to a file)
    source: str  # the call, in a few words
    open: list[str] = Field(default_factory=list)
    resolved: list[str] = Field(default_factory=list)


class FactLedger(BaseModel):
    model_config = ConfigDict(frozen=True)

    files: list[FileFact] = Field(default_factory=list)
    commands: list[CommandFact] = Field(default_factory=list)
    errors: list[ErrorFact] = Field(default_factory=list)
    instructions: list[str] = Field(default_factory=list)  # the user's own words, in order
    decisions: list[str] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.files or self.commands or self.errors or self.instructions or self.decisions)
