"""The Redis connection the cache, rate limits, breakers and key revocations share."""

from __future__ import annotations

from collections.abc import Iterator

import redis


def open_redis(url: str) -> Iterator[redis.Redis]:
    """A Redis client with short time-outs, so an outage fails fast; closed when done."""
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    yield client
    client.close()
