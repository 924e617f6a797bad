"""A shared cache of short-lived values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Cache(Protocol):
    """A byte cache with expiry, shared by processes in production."""

    def get(self, key: str) -> bytes | None:
        """The cached value, or None."""
        ...

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Each key's cached value or None, in order, read together (one round trip)."""
        ...

    def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        """Cache ``value`` for ``ttl_seconds``."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        ...
