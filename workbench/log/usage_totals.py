"""Token totals of a set of requests, from their ``usage`` events: what they read, wrote and produced.

Kept per model in ``meta.json`` (so a list of sessions can show what each cost without
reading its log) and per agent by the engine's spend projection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:  # the config's prices import this module; the events load with the engine
    from workbench.protocol.events import Usage


class TokenTotals(BaseModel):
    requests: int = 0
    input: int = 0  # input read at the full price: neither from nor into the prompt cache
    cache_read: int = 0
    cache_write_5m: int = 0
    cache_write_1h: int = 0
    output: int = 0
    web_searches: int = 0  # run by the API, charged per search

    def add(self, usage: Usage) -> None:
        """Count one request in. A log without the split of its cache writes by lifetime counts them as 5-minute."""
        self.requests += 1
        self.input += usage.input_tokens
        self.cache_read += usage.cache_read_input_tokens
        one_hour = usage.cache_creation.ephemeral_1h_input_tokens if usage.cache_creation is not None else 0
        one_hour = min(one_hour, usage.cache_creation_input_tokens)
        self.cache_write_1h += one_hour
        self.cache_write_5m += usage.cache_creation_input_tokens - one_hour
        self.output += usage.output_tokens
        self.web_searches += usage.web_search_requests

    def merge(self, other: TokenTotals) -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def cache_write(self) -> int:
        return self.cache_write_5m + self.cache_write_1h

    @property
    def input_all(self) -> int:
        """Every input token the requests sent, however it was priced."""
        return self.input + self.cache_read + self.cache_write

    @property
    def cache_read_share(self) -> float:
        """The share of input tokens read from the prompt cache."""
        return self.cache_read / self.input_all if self.input_all else 0.0
