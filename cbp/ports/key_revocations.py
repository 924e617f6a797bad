"""Announcing an API key's revocation to every process that keeps keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class KeyRevocations(Protocol):
    """Word that an API key was revoked (or will retire), from one process to every other.

    Each API process keeps the keys it has verified; this is how it learns
    to forget one the moment it is revoked anywhere.
    """

    def announce(self, key_id: str) -> None:
        """Tell every process, this one included, that this key changed."""
        ...

    def listen(self, on_revoked: Callable[[str | None], None]) -> None:
        """Call ``on_revoked`` with each key announced; with None when some may have been missed."""
        ...
