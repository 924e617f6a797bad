"""What happens to a recurring schedule: the events its stream records."""

from __future__ import annotations

from dataclasses import dataclass

from cbp.domain.events import DomainEvent, PaymentOrdered


@dataclass(frozen=True, kw_only=True)
class ScheduleCreated(PaymentOrdered):
    """A customer set up a recurring payment."""

    memo: str | None
    frequency: str
    starts_on: str
    ends_on: str | None
    count: int | None


@dataclass(frozen=True, kw_only=True)
class ScheduleChanged(DomainEvent):
    """The amount or memo of every occurrence not yet made changed."""

    amount: str
    memo: str | None


@dataclass(frozen=True, kw_only=True)
class NextOccurrenceChanged(DomainEvent):
    """The next occurrence alone is to be sent on another date, or for another amount."""

    index: int
    send_on: str
    amount: str


@dataclass(frozen=True, kw_only=True)
class OccurrenceSkipped(DomainEvent):
    """The customer asked for the next occurrence not to be paid."""

    index: int
    send_on: str


@dataclass(frozen=True, kw_only=True)
class OccurrenceCreated(DomainEvent):
    """An occurrence became a payment."""

    index: int
    send_on: str
    payment_id: str


@dataclass(frozen=True, kw_only=True)
class OccurrenceMissed(DomainEvent):
    """An occurrence could not become a payment (a payee no longer payable, a limit)."""

    index: int
    send_on: str
    code: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class SchedulePaused(DomainEvent):
    """No occurrence is made until the schedule is resumed."""


@dataclass(frozen=True, kw_only=True)
class ScheduleResumed(DomainEvent):
    """Occurrences are made again, from ``next_index`` (those passed meanwhile are not paid)."""

    next_index: int


@dataclass(frozen=True, kw_only=True)
class ScheduleCancelled(DomainEvent):
    """No occurrence will be made again; payments already made stay as they are."""

    reason: str


@dataclass(frozen=True, kw_only=True)
class ScheduleCompleted(DomainEvent):
    """The schedule's last occurrence was made (or skipped): it has ended."""
