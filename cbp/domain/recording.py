"""Bases for entities that record events: state-stored ones, and event-sourced ones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Self

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


class EventSourced(RecordsEvents):
    """An aggregate whose state changes only by applying its own events.

    Replaying its stream therefore rebuilds exactly the state that
    recorded it. A subclass says how each of its events changes it
    (``_when``) and how to make an aggregate with no events yet
    (``_empty``).
    """

    updated_at: datetime

    @classmethod
    def _empty(cls, stream_id: str) -> Self:
        """The aggregate before its first event."""
        raise NotImplementedError

    @classmethod
    def replay(cls, stream_id: str, events: Iterable[DomainEvent]) -> Self:
        """Rebuild the aggregate from its stored stream."""
        aggregate = cls._empty(stream_id)
        for event in events:
            aggregate._apply(event)
        if aggregate.version == 0:
            raise ValueError(f"stream {stream_id} has no events")
        return aggregate

    def _record(self, event_type: type[DomainEvent], at: datetime, **data: Any) -> None:
        event = event_type(stream_id=self.id, version=self.version + 1, occurred_at=at, **data)
        self._apply(event)
        self._pending.append(event)

    def _apply(self, event: DomainEvent) -> None:
        if event.version != self.version + 1:
            raise ValueError(
                f"event version {event.version} does not follow {self.version} on {self.id}"
            )
        self._when(event)
        self.version = event.version
        self.updated_at = event.occurred_at

    def _when(self, event: DomainEvent) -> None:
        """Change state as ``event`` says; refuse an event of another kind of stream."""
        raise NotImplementedError
