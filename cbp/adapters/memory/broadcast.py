"""Announcements within one process."""

from __future__ import annotations

import threading
from collections.abc import Callable


class InProcessBroadcast:
    """One topic's announcements within one process: every listener is called at once."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[str | None], None]] = []
        self._lock = threading.Lock()

    def announce(self, subject: str) -> None:
        """Tell this process's listeners."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(subject)

    def listen(self, on_heard: Callable[[str | None], None]) -> None:
        """Be told of every subject announced from now on."""
        with self._lock:
            self._listeners.append(on_heard)
