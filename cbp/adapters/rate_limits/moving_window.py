"""A moving-window rate limiter: at most ``limit`` calls in any ``window_seconds``.

A fixed window lets twice the limit through around its edge (a burst at the
end of one window and another at the start of the next); a moving window
counts the calls of the last ``window_seconds`` wherever "now" falls. The
counting is the ``limits`` package's, in memory for one process or on
Redis for every process that shares it.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from typing import TYPE_CHECKING

import limits
import limits.errors
import limits.storage
import limits.strategies

from cbp.ports.errors import DependencyUnavailable
from cbp.ports.rate_limits import RateLimitDecision

if TYPE_CHECKING:  # NOTE: Redis is an optional extra; memory needs nothing more
    import redis


class MovingWindowRateLimiter:
    """The ``RateLimiter`` port over a ``limits`` storage, counting a moving window.

    Windows are whole seconds (at least one), the unit ``limits`` counts in.
    """

    def __init__(self, storage: limits.storage.Storage, *, one_at_a_time: bool = False) -> None:
        self._strategy = limits.strategies.MovingWindowRateLimiter(storage)
        self._turn: contextlib.AbstractContextManager[object] = (
            threading.Lock() if one_at_a_time else contextlib.nullcontext()
        )

    def hit(self, key: str, *, limit: int, window_seconds: float) -> RateLimitDecision:
        """Count one call for ``key`` and say whether it may go ahead."""
        item = limits.RateLimitItemPerSecond(limit, max(1, math.ceil(window_seconds)))
        try:
            with self._turn:
                allowed = self._strategy.hit(item, key)
                stats = self._strategy.get_window_stats(item, key)
        except limits.errors.StorageError as error:
            cause = type(error.storage_error).__name__
            raise DependencyUnavailable("rate limiter", cause) from None
        return RateLimitDecision(
            allowed=allowed,
            limit=limit,
            remaining=max(0, stats.remaining),
            reset_seconds=max(0, math.ceil(stats.reset_time - time.time())),
        )


def memory_rate_limiter() -> MovingWindowRateLimiter:
    """Counts kept in this process: right for one API process.

    One thread counts at a time: ``limits``' memory storage restarts its
    expiry timer without a lock, and two request threads racing to restart
    it raised ("threads can only be started once") as a 500.
    """
    return MovingWindowRateLimiter(limits.storage.MemoryStorage(), one_at_a_time=True)


def redis_rate_limiter(client: redis.Redis, *, prefix: str) -> MovingWindowRateLimiter:
    """Counts on Redis under ``{prefix}rate``, shared by every API process."""
    storage = limits.storage.RedisStorage(
        "redis://",
        connection_pool=client.connection_pool,
        key_prefix=f"{prefix}rate",
        wrap_exceptions=True,
    )
    return MovingWindowRateLimiter(storage)
