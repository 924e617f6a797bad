"""A cache and a rate limiter on Redis, shared by every process."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from cbp.ports.errors import DependencyTimeout, DependencyUnavailable
from cbp.ports.outside import RateLimitDecision


@contextmanager
def _reported(dependency: str) -> Iterator[None]:
    """Redis failures as the port's errors, so the core can degrade gracefully."""
    try:
        yield
    except redis.TimeoutError as error:
        raise DependencyTimeout(dependency, type(error).__name__) from None
    except redis.RedisError as error:
        raise DependencyUnavailable(dependency, type(error).__name__) from None


class RedisCache:
    """Bytes with expiry under one key prefix."""

    def __init__(self, client: redis.Redis, *, prefix: str = "cbp:") -> None:
        self.client = client
        self.prefix = prefix

    def get(self, key: str) -> bytes | None:
        """The cached value, or None."""
        with _reported("cache"):
            value = self.client.get(self.prefix + key)
        return None if value is None else bytes(value)  # type: ignore[arg-type]

    def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        """Cache ``value`` for ``ttl_seconds`` (millisecond precision)."""
        with _reported("cache"):
            self.client.set(self.prefix + key, value, px=max(1, int(ttl_seconds * 1000)))

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with _reported("cache"):
            self.client.delete(self.prefix + key)


class RedisRateLimiter:
    """Fixed windows counted with INCR, so every process shares one count."""

    def __init__(self, client: redis.Redis, *, prefix: str = "cbp:") -> None:
        self.client = client
        self.prefix = prefix

    def hit(self, key: str, *, limit: int, window_seconds: float) -> RateLimitDecision:
        """Count one call in the current window, atomically."""
        now = time.time()
        window = int(now // window_seconds)
        counter = f"{self.prefix}rate:{key}:{window}"
        pipeline = self.client.pipeline(transaction=True)
        pipeline.incr(counter)
        pipeline.pexpire(counter, int(window_seconds * 1000) + 1000)
        with _reported("rate limiter"):
            count = int(pipeline.execute()[0])
        reset = (window + 1) * window_seconds - now
        return RateLimitDecision(
            allowed=count <= limit,
            limit=limit,
            remaining=max(0, limit - count),
            reset_seconds=math.ceil(reset),
        )
