"""A cache on Redis, shared by every process."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import redis

from cbp.ports.errors import DependencyTimeout, DependencyUnavailable


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
        return self.get_many([key])[0]

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Each key's cached value or None, in order, in one MGET."""
        with _reported("cache"):
            values = self.client.mget([self.prefix + key for key in keys])
        return [None if value is None else bytes(value) for value in values]  # type: ignore[arg-type]

    def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        """Cache ``value`` for ``ttl_seconds`` (millisecond precision)."""
        with _reported("cache"):
            self.client.set(self.prefix + key, value, px=max(1, int(ttl_seconds * 1000)))

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with _reported("cache"):
            self.client.delete(self.prefix + key)
