"""Word from one process to every other: an API key revoked, the directory changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Broadcast(Protocol):
    """One topic's announcements, heard by every process that listens.

    A process keeps things it has read (verified API keys, directory search
    pages) and learns here to forget them the moment they change anywhere.
    """

    def announce(self, subject: str) -> None:
        """Tell every process, this one included, that ``subject`` changed."""
        ...

    def listen(self, on_heard: Callable[[str | None], None]) -> None:
        """Call ``on_heard`` with each subject announced; with None when some were missed."""
        ...
