"""An in-process cache, for one process and for tests."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from cbp.ports.system import Clock


class InMemoryCache:
    """A TTL cache in one process's memory."""

    def __init__(self, clock: Clock, *, max_entries: int = 10_000) -> None:
        self.clock = clock
        self.max_entries = max_entries
        self._entries: dict[str, tuple[datetime, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The cached value, if it has not expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires <= self.clock.now():
                del self._entries[key]
                return None
            return value

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """Each key's cached value or None, in order."""
        return [self.get(key) for key in keys]

    def set(self, key: str, value: bytes, *, ttl_seconds: float) -> None:
        """Cache ``value``; the oldest entry makes room when full."""
        with self._lock:
            if key not in self._entries and len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (self.clock.now() + timedelta(seconds=ttl_seconds), value)

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._entries.pop(key, None)
