"""What requests cost: a price per model for input, output, cache writes (5 minutes, 1 hour) and cache reads.

Prices are USD per million tokens, from Anthropic's pricing page
(platform.claude.com/docs/en/about-claude/pricing). A price the config gives
(``[prices."claude-x"] input = 3.0``) replaces the default; the cache rates left
out follow the API's multipliers of the input rate: writes 1.25× (5 minutes) and
2× (1 hour), reads 0.1×. A model id with a date, a version or a context suffix, or a
cloud's prefix (``claude-haiku-4-5-20251001``, ``claude-sonnet-4-5[1m]``,
``us.anthropic.claude-opus-4-1-20250805-v1:0``, ``claude-opus-4@20250514``) takes the
price of the id it decorates. A model with no price (the offline brain, an unknown
server's model) costs nothing known: callers say so rather than show $0.

One price per model: the higher tiers some models charge for very long prompts are not modelled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workbench.log.usage_totals import TokenTotals

PER_TOKEN = 1e-6  # prices are per million tokens
WEB_SEARCH_USD = 10.0 / 1000  # the API's web search: $10 per 1,000 searches, whatever the model
# a cloud's prefix (Bedrock's ``us.anthropic.``), and the date, version and context-window suffixes of an id
_PREFIX = re.compile(r"^(?:[a-z]{2,}\.)?anthropic\.")
_SUFFIXES = re.compile(r"(?:[-@]\d{8}|-v\d+(?::\d+)?|\[[^\]]*\])+$")
WRITE_5M, WRITE_1H, READ = 1.25, 2.0, 0.1  # the API's cache multipliers of the input price


class ModelPrice(BaseModel):
    """USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    # left out: the input price × 1.25, × 2 and × 0.1
    cache_write_5m: float = Field(default=0.0, ge=0)
    cache_write_1h: float = Field(default=0.0, ge=0)
    cache_read: float = Field(default=0.0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _cache_rates(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("input"), (int, float)):
            rate = data["input"]
            defaults = {"cache_write_5m": rate * WRITE_5M, "cache_write_1h": rate * WRITE_1H, "cache_read": rate * READ}
            return {**defaults, **{k: v for k, v in data.items() if v is not None}}
        return data

    def cost(self, tokens: TokenTotals) -> float:
        """USD for these tokens at these prices."""
        return (
            PER_TOKEN
            * (
                tokens.input * self.input
                + tokens.cache_write_5m * self.cache_write_5m
                + tokens.cache_write_1h * self.cache_write_1h
                + tokens.cache_read * self.cache_read
                + tokens.output * self.output
            )
            + tokens.web_searches * WEB_SEARCH_USD
        )

    def uncached_cost(self, tokens: TokenTotals) -> float:
        """USD for the same requests had nothing been cached: every input token at the input price."""
        return (
            PER_TOKEN * (tokens.input_all * self.input + tokens.output * self.output)
            + tokens.web_searches * WEB_SEARCH_USD
        )


def _price(input: float, output: float, write_5m: float, write_1h: float, read: float) -> ModelPrice:
    return ModelPrice(input=input, output=output, cache_write_5m=write_5m, cache_write_1h=write_1h, cache_read=read)


_FABLE_5_1 = _price(10, 50, 12.5, 20, 0.25)
_FABLE_5 = _price(10, 50, 12.5, 20, 1.0)
_OPUS_5 = _price(5, 25, 6.25, 10, 0.5)
_OPUS_4 = _price(15, 75, 18.75, 30, 1.5)
_SONNET_5 = _price(2, 10, 2.5, 4, 0.2)
_SONNET_4 = _price(3, 15, 3.75, 6, 0.3)

DEFAULT_PRICES: dict[str, ModelPrice] = {
    "claude-fable-5-2": _price(8, 40, 10, 16, 0.2),
    "claude-fable-5-1": _FABLE_5_1,
    "claude-mythos-5-1": _FABLE_5_1,
    "claude-fable-5": _FABLE_5,
    "claude-mythos-5": _FABLE_5,
    "claude-opus-5-5": _price(4, 20, 5, 8, 0.2),
    "claude-opus-5": _OPUS_5,
    "claude-opus-4-8": _OPUS_5,
    "claude-opus-4-7": _OPUS_5,
    "claude-opus-4-6": _OPUS_5,
    "claude-opus-4-5": _OPUS_5,
    "claude-opus-4-1": _OPUS_4,
    "claude-opus-4": _OPUS_4,
    "claude-opus-4-0": _OPUS_4,
    "claude-sonnet-5-5": _price(2, 10, 2.5, 4, 0.1),
    "claude-sonnet-5": _SONNET_5,
    "claude-sonnet-4-6": _SONNET_4,
    "claude-sonnet-4-5": _SONNET_4,
    "claude-sonnet-4": _SONNET_4,
    "claude-sonnet-4-0": _SONNET_4,
    "claude-3-7-sonnet": _SONNET_4,
    "claude-haiku-5-5": _price(0.1, 0.5, 0.125, 0.2, 0.01),
    "claude-haiku-4-5": _price(1, 5, 1.25, 2, 0.1),
    "claude-3-5-haiku": _price(0.8, 4, 1, 1.6, 0.08),
    "claude-3-haiku": _price(0.25, 1.25, 0.3, 0.5, 0.03),
}


class PriceTable:
    """The price of each model: the defaults, with the config's on top."""

    def __init__(self, overrides: Mapping[str, ModelPrice] | None = None) -> None:
        self.prices = {**DEFAULT_PRICES, **(overrides or {})}
        self._found: dict[str, ModelPrice | None] = {}

    def price(self, model: str) -> ModelPrice | None:
        """The price of ``model``: its own, or that of the id it decorates (``-20251001``, ``[1m]``, ``-v1:0``)."""
        if model not in self._found:
            base = _SUFFIXES.sub("", _PREFIX.sub("", model))
            self._found[model] = self.prices.get(model) or self.prices.get(base)
        return self._found[model]
