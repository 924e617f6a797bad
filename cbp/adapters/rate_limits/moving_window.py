"""Moving-window rate limits: at most ``limit`` calls in any ``window_seconds``.

A fixed window lets twice the limit through around its edge (a burst at the
end of one window and another at the start of the next); a moving window
keeps the time of each call of the last ``window_seconds`` and counts them
wherever "now" falls. One process keeps them in memory (here); processes
that share a limit keep them on Redis (``redis_window``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from cbp.ports.rate_limits import RateLimitDecision

#: Keys kept before the memory limiter forgets those whose calls have all left their window.
SWEEP_ABOVE_KEYS = 10_000


def window_decision(
    *, allowed: bool, limit: int, counted: int, oldest: float, now: float, window: float
) -> RateLimitDecision:
    """The verdict, and when the oldest call counted leaves the window."""
    return RateLimitDecision(
        allowed=allowed,
        limit=limit,
        remaining=max(0, limit - counted),
        reset_seconds=max(0, math.ceil(oldest + window - now)) if counted else 0,
    )


class MemoryRateLimiter:
    """The ``RateLimiter`` port counting in this process: right for one API process."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._calls: dict[str, deque[float]] = {}
        self._longest_window = 0.0
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window_seconds: float) -> RateLimitDecision:
        """Count one call for ``key`` and say whether it may go ahead."""
        with self._lock:
            now = self._now()
            self._longest_window = max(self._longest_window, window_seconds)
            if key not in self._calls and len(self._calls) >= SWEEP_ABOVE_KEYS:
                self._forget_idle_keys(now)
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - window_seconds:
                calls.popleft()
            allowed = len(calls) < limit
            if allowed:
                calls.append(now)
            oldest = calls[0] if calls else now
            return window_decision(
                allowed=allowed,
                limit=limit,
                counted=len(calls),
                oldest=oldest,
                now=now,
                window=window_seconds,
            )

    def _forget_idle_keys(self, now: float) -> None:
        horizon = now - self._longest_window
        for key in [key for key, calls in self._calls.items() if not calls or calls[-1] <= horizon]:
            del self._calls[key]


def memory_rate_limiter() -> MemoryRateLimiter:
    """Counts kept in this process: right for one API process."""
    return MemoryRateLimiter()
