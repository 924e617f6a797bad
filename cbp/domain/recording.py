"""A base for state-stored entities that still announce their changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cbp.domain.events import DomainEvent


class RecordsEvents:
    """Keeps a version and the events recorded since the entity was loaded."""

    id: str
    version: int
    _pending: list[DomainEvent]

    def _record(self, event_type: type[DomainEvent], at: datetime, **data: Any) -> None:
        self.version += 1
        self._pending.append(
            event_type(stream_id=self.id, version=self.version, occurred_at=at, **data)
        )

    def pull_events(self) -> list[DomainEvent]:
        """Hand over the events recorded since the last save, and forget them."""
        events, self._pending = self._pending, []
        return events
