"""A clock that moves only when told to, and ids that count up: for tests and replays."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class InMemoryClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 2, 14, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """The current (fake) instant."""
        return self.current

    def advance(self, **delta: float) -> None:
        """Move time forward, e.g. ``advance(days=1)``."""
        self.current += timedelta(**delta)


class SequentialIdGenerator:
    """Readable ids in creation order: ``pmt_000001``, ``pmt_000002``..."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        """The next id for ``prefix``."""
        with self._lock:
            self._count += 1
            return f"{prefix}_{self._count:012d}"
