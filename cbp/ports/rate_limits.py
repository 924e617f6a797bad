"""Rate limits: whether a caller may make one more request now."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, kw_only=True)
class RateLimitDecision:
    """The limiter's verdict and what to tell the client about it."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: float


class RateLimiter(Protocol):
    """Counts calls per key in a window."""

    def hit(self, key: str, *, limit: int, window_seconds: float) -> RateLimitDecision:
        """Count one call for ``key`` and say whether it may go ahead."""
        ...
