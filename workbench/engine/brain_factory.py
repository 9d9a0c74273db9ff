"""Choosing the brain: Claude when a key (or a compatible server) is configured, else offline."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from workbench.brains.base import Brain
from workbench.engine.config import Config
from workbench.engine.models import resolve_model

# Brain is the type front ends name when they hand the engine a brain of their own
__all__ = ["Brain", "BrainChoice", "OFFLINE_CHOSEN", "OFFLINE_NO_KEY", "choose_brain", "make_brain"]

# Brain is the type front ends name when they hand the engine a brain of their own
__all__ = ["Brain", "BrainChoice", "OFFLINE_CHOSEN", "OFFLINE_NO_KEY", "choose_brain", "make_brain"]

OFFLINE_NO_KEY = "offline · scripted brain — set ANTHROPIC_API_KEY to use Claude"
OFFLINE_CHOSEN = "offline · scripted brain"


class BrainChoice(BaseModel):
    name: str  # "scripted" | "anthropic"
    offline_reason: str | None = None


def choose_brain(config: Config, environ: dict[str, str] | None = None, override: str | None = None) -> BrainChoice:
    env = os.environ if environ is None else environ
    wanted = override or config.brain
    if wanted == "anthropic":
        return BrainChoice(name="anthropic")
    if wanted == "scripted":
        return BrainChoice(name="scripted", offline_reason=OFFLINE_CHOSEN)
    if env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN"):
        return BrainChoice(name="anthropic")
    return BrainChoice(name="scripted", offline_reason=OFFLINE_NO_KEY)


def credentials_problem(choice: BrainChoice, config: Config, environ: dict[str, str] | None = None) -> str | None:
    """Why Claude cannot be asked (no key, a broken profile), before anything is started for it;
    None when it can, or when the brain is not Claude."""
    env = os.environ if environ is None else environ
    if choice.name != "anthropic" or env.get("ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN"):
        return None
    from workbench.brains.anthropic import credentials_problem as sdk_problem  # the SDK's own credential chain

    return sdk_problem(config.base_url)


def make_brain(choice: BrainChoice, config: Config, script: Path | None = None) -> Brain:
    """Build the chosen brain. Claude's runs in a host process of its own (``hosted``), started here:
    this blocks for a moment (an app calls it in a thread)."""
    if choice.name == "anthropic":
        from workbench.brains.hosted import HostedBrain

        model = resolve_model(config.model, config.aliases)
        brain = HostedBrain(
            model=model,
            max_tokens=config.max_tokens,
            base_url=config.base_url,
            request_timeout_s=config.api.request_timeout_s,
            stall_timeout_s=config.api.stall_timeout_s,
            max_attempts=config.api.max_attempts,
        )
        brain.prepare()
        return brain
    from workbench.brains.scripted import ScriptedBrain

    return ScriptedBrain(script=script, delay_s=config.scripted_delay_s)
