"""Model names: the aliases people type (``opus``, ``sonnet``, ``haiku``) and the model ids they stand for.

An alias is resolved before any request (the brain's default model, a primer's or an
agent type's ``model:``), so the log records the id the API was asked for.
Override or add aliases in the config: ``[aliases] opus = "claude-opus-4-8"``.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_ALIASES: dict[str, str] = {
    "opus": "claude-opus-4-8",
    "sonnet": "claude-sonnet-4-6",
    "haiku": "claude-haiku-4-5",
}


def model_aliases(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The built-in aliases with the config's on top (names compared without case)."""
    return {**DEFAULT_ALIASES, **{name.lower(): model for name, model in (overrides or {}).items()}}


def resolve_model(name: str, aliases: Mapping[str, str]) -> str:
    """The model id ``name`` stands for: an alias resolved, anything else as given."""
    return aliases.get(name.strip().lower(), name.strip()) if name else name
