"""Model names: the aliases Claude Code's files use (``model: haiku``), resolved to model ids.

One table for every place a model is named — agent types, primers, the Task
tool's ``model``. ``inherit`` (and no model) is not an alias: it means the
parent's model, and callers keep it as None.
"""

from __future__ import annotations

from collections.abc import Mapping

MODEL_ALIASES: dict[str, str] = {
    "opus": "claude-opus-4-6",
    "sonnet": "claude-sonnet-4-6",
    "haiku": "claude-haiku-4-5",
}


def resolve_model(name: str, config_overrides: Mapping[str, str] | None = None) -> str:
    """The model id ``name`` stands for: an alias (the config's own first), or ``name`` itself."""
    wanted = name.strip()
    aliases = {**MODEL_ALIASES, **{k.lower(): v for k, v in (config_overrides or {}).items()}}
    return aliases.get(wanted.lower(), wanted)
