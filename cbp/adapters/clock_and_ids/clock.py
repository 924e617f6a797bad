"""The wall clock and time-ordered ids."""

from __future__ import annotations

from datetime import UTC, datetime

from cbp.domain.identifiers import new_id


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current instant."""
        return datetime.now(UTC)


class UuidV7IdGenerator:
    """Prefixed UUIDv7 identifiers: unique and ordered by creation time."""

    def new(self, prefix: str) -> str:
        """A fresh id such as ``pmt_0192...``."""
        return new_id(prefix)
