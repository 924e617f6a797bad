"""A moving-window rate limit on Redis, shared by every API process: one round trip a call."""

from __future__ import annotations

import uuid
from typing import Any

import redis

from cbp.adapters.rate_limits.moving_window import window_decision
from cbp.ports.errors import DependencyUnavailable
from cbp.ports.rate_limits import RateLimitDecision

#: Drop the calls that left the window, count the rest, add this one if there is room.
#: Times are the Redis server's, in whole microseconds (exact in Lua's doubles), so
#: processes whose clocks differ agree.
_HIT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local counted = redis.call('ZCARD', KEYS[1])
local allowed = 0
if counted < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  counted = counted + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
return {allowed, counted, oldest and tonumber(oldest) or now, now}
"""

MICROSECONDS = 1_000_000


class RedisRateLimiter:
    """The ``RateLimiter`` port counting on Redis, a sorted set of call times per key."""

    def __init__(self, client: redis.Redis, *, prefix: str) -> None:
        self._prefix = f"{prefix}rate:"
        self._hit: Any = client.register_script(_HIT)

    def hit(self, key: str, *, limit: int, window_seconds: float) -> RateLimitDecision:
        """Count one call for ``key`` and say whether it may go ahead."""
        window = max(1, int(window_seconds * MICROSECONDS))
        try:
            allowed, counted, oldest, now = self._hit(
                keys=[self._prefix + key], args=[window, limit, uuid.uuid4().hex]
            )
        except redis.RedisError as error:
            raise DependencyUnavailable("rate limiter", type(error).__name__) from None
        return window_decision(
            allowed=bool(allowed),
            limit=limit,
            counted=int(counted),
            oldest=int(oldest) / MICROSECONDS,
            now=int(now) / MICROSECONDS,
            window=window_seconds,
        )


def redis_rate_limiter(client: redis.Redis, *, prefix: str) -> RedisRateLimiter:
    """Counts on Redis under ``{prefix}rate:``, shared by every API process."""
    return RedisRateLimiter(client, prefix=prefix)
