"""The event store: payments, schedules and bills kept as their streams of events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from cbp.domain.events import DomainEvent
from cbp.domain.payment import Payment, PaymentSnapshot
from cbp.domain.recording import RecordsEvents
from cbp.ports.messages import Headers


@dataclass(frozen=True, kw_only=True)
class StoredEvent:
    """An event as the store keeps it: with its global position."""

    position: int
    event: DomainEvent


@dataclass(frozen=True, kw_only=True)
class Recorded:
    """Events one aggregate recorded in a unit of work, to publish before it commits.

    ``payment`` is the payment's state just after them, for a payment's
    events; ``bill`` the bill's, for a bill's.
    """

    events: list[DomainEvent]
    payment: PaymentSnapshot | None = None
    bill: dict[str, Any] | None = None


class Changes:
    """The aggregates a unit of work saved, whose events go out when it commits.

    Repositories call ``saw`` on every add and save of an entity that records
    events, and the payments repository ``saved`` with the events it appended;
    ``collect`` hands each one's events over once, in the order saved.
    """

    def __init__(self) -> None:
        # NOTE: keyed by identity, in the order first noted; each entity once
        self._recorded: dict[int, Recorded | RecordsEvents] = {}

    def saw(self, entity: RecordsEvents) -> None:
        """Note an entity added or saved; its events are taken when collected."""
        self._recorded.setdefault(id(entity), entity)

    def saved(self, payment: Payment, events: list[DomainEvent]) -> None:
        """Note a payment's appended events, with its state after them."""
        recorded = Recorded(events=events, payment=payment.snapshot())
        self._recorded[id(recorded)] = recorded

    def saved_bill(self, state: dict[str, Any], events: list[DomainEvent]) -> None:
        """Note a bill's appended events, with its state (``snapshot()``) after them."""
        recorded = Recorded(events=events, bill=state)
        self._recorded[id(recorded)] = recorded

    def collect(self) -> list[Recorded]:
        """Every aggregate's new events since the last call, in the order saved."""
        noted, self._recorded = self._recorded, {}
        collected = []
        for item in noted.values():
            recorded = item if isinstance(item, Recorded) else Recorded(events=item.pull_events())
            if recorded.events:
                collected.append(recorded)
        return collected

    def clear(self) -> None:
        """Forget what was noted (the unit of work rolled back)."""
        self._recorded = {}


class EventStore(Protocol):
    """Append-only streams of events with optimistic concurrency."""

    def append(
        self, stream_id: str, events: list[DomainEvent], *, expected_version: int, headers: Headers
    ) -> None:
        """Add events after ``expected_version``; raise ConcurrencyConflict if it moved."""
        ...

    def stamp_cause(self, correlation_id: str | None, traceparent: str | None) -> None:
        """Give the events appended in this unit of work with no cause yet the cause's headers.

        The command bus calls it once a command's handler has returned, so
        that no handler builds message headers.
        """
        ...

    def load(self, stream_id: str) -> list[DomainEvent]:
        """Every event of one stream, in version order."""
        ...

    def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events of every stream in position order, for replay."""
        ...

    def last_position(self) -> int:
        """The position of the newest event (0 for an empty store)."""
        ...
