"""A bulkhead: bounded concurrency and a bounded, timed wait for one dependency.

A slow dependency fills its own bulkhead and no more: callers beyond the
concurrency wait a little in a short queue, and the rest are turned away at
once with ``DependencyDeferred``, so the threads a worker has left serve
other dependencies (notifications go out while the processor crawls).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from cbp.ports.errors import DependencyDeferred


class Bulkhead:
    """At most ``max_concurrent`` calls at once, ``max_waiting`` waiting for a slot."""

    def __init__(
        self, name: str, *, max_concurrent: int, max_waiting: int, wait_timeout_seconds: float
    ) -> None:
        self.name = name
        self.max_concurrent = max_concurrent
        self.max_waiting = max_waiting
        self.wait_timeout = wait_timeout_seconds
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._lock = threading.Lock()
        self._waiting = 0
        self._active = 0

    @property
    def active(self) -> int:
        """Calls running now."""
        return self._active

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot now."""
        return self._waiting

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the duration of a call, or raise ``DependencyDeferred``."""
        if not self._slots.acquire(blocking=False):
            with self._lock:
                if self._waiting >= self.max_waiting:
                    raise DependencyDeferred(self.name, "bulkhead full", retry_after=1.0)
                self._waiting += 1
            try:
                acquired = self._slots.acquire(timeout=self.wait_timeout)
            finally:
                with self._lock:
                    self._waiting -= 1
            if not acquired:
                raise DependencyDeferred(self.name, "bulkhead wait timed out", retry_after=1.0)
        with self._lock:
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
            self._slots.release()
