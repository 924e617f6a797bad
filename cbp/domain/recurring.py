"""Recurring payments: a schedule that becomes one payment per occurrence.

A schedule names its payee, funding account, amount and rule (weekly,
every two weeks, monthly on a day of the month or on the last business
day, yearly) and ends on a date, after a count of occurrences, or never.
Occurrences are numbered from 0; each is sent on a business day. A weekly
rule's date that is not one rolls forward; a monthly or yearly one rolls
forward unless that leaves its month, and then back ("modified
following"), so that every month has its one payment.

The schedule is event sourced like a payment: its stream records each
occurrence made into a payment, skipped, changed or missed, so making
occurrences twice (two schedulers at once) conflicts on the stream's
version instead of paying twice.

```
active <-> paused
active, paused -> cancelled
active -> completed   (no occurrence left)
```
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from cbp.domain.calendar import IsBusinessDay
from cbp.domain.errors import IllegalTransition, InvalidInput, InvalidMoney
from cbp.domain.events import DomainEvent, PaymentOrdered
from cbp.domain.money import Money
from cbp.domain.recording import EventSourced
from cbp.domain.schedule_events import (
    NextOccurrenceChanged,
    OccurrenceCreated,
    OccurrenceMissed,
    OccurrenceSkipped,
    ScheduleCancelled,
    ScheduleChanged,
    ScheduleCompleted,
    ScheduleCreated,
    SchedulePaused,
    ScheduleResumed,
)
from cbp.domain.schedule_rules import Frequency, Occurrence, occurrence_date, rule_date
from cbp.domain.state_codec import decode_fields, encode_fields


class ScheduleStatus(enum.StrEnum):
    """Whether a schedule still makes payments."""

    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


#: Which statuses each action may start from.
_ALLOWED_FROM: dict[str, frozenset[ScheduleStatus]] = {
    "change": frozenset({ScheduleStatus.ACTIVE, ScheduleStatus.PAUSED}),
    "change the next occurrence of": frozenset({ScheduleStatus.ACTIVE, ScheduleStatus.PAUSED}),
    "skip the next occurrence of": frozenset({ScheduleStatus.ACTIVE, ScheduleStatus.PAUSED}),
    "make an occurrence of": frozenset({ScheduleStatus.ACTIVE}),
    "pause": frozenset({ScheduleStatus.ACTIVE}),
    "resume": frozenset({ScheduleStatus.PAUSED}),
    "cancel": frozenset({ScheduleStatus.ACTIVE, ScheduleStatus.PAUSED}),
}


@dataclass(kw_only=True, eq=False)
class RecurringSchedule(EventSourced):
    """A recurring payment: the rule, the terms, and how far it has got."""

    id: str
    version: int = 0
    status: ScheduleStatus = ScheduleStatus.ACTIVE
    tenant_id: str = ""
    customer_id: str = ""
    payee_id: str = ""
    funding_account_id: str = ""
    amount: Money = field(default_factory=lambda: Money.zero("USD"))
    memo: str | None = None
    frequency: Frequency = Frequency.MONTHLY
    starts_on: date = date.min
    ends_on: date | None = None
    count: int | None = None
    #: The number of the next occurrence to make (or skip).
    next_index: int = 0
    #: The next occurrence's own date and amount, when the customer changed them.
    next_send_on: date | None = None
    next_amount: Money | None = None
    last_payment_id: str | None = None
    created_at: datetime = datetime.min
    updated_at: datetime = datetime.min
    _pending: list[DomainEvent] = field(default_factory=list, repr=False)

    # -- creation and replay -------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        schedule_id: str,
        tenant_id: str,
        customer_id: str,
        payee_id: str,
        funding_account_id: str,
        amount: Money,
        memo: str | None,
        frequency: Frequency,
        starts_on: date,
        ends_on: date | None,
        count: int | None,
        at: datetime,
        is_business_day: IsBusinessDay,
    ) -> RecurringSchedule:
        """Record a new schedule; it ends on ``ends_on``, after ``count``, or never.

        A schedule must have at least one occurrence.
        """
        if not amount.is_positive:
            raise InvalidMoney("a recurring payment's amount must be greater than zero")
        if count is not None and count < 1:
            raise InvalidInput("count must be at least 1")
        if ends_on is not None and ends_on < starts_on:
            raise InvalidInput("ends_on cannot be before starts_on")
        schedule = cls(id=schedule_id)
        schedule._record(
            ScheduleCreated,
            at,
            **PaymentOrdered.terms(tenant_id, customer_id, payee_id, funding_account_id, amount),
            memo=memo,
            frequency=frequency.value,
            starts_on=starts_on.isoformat(),
            ends_on=ends_on.isoformat() if ends_on else None,
            count=count,
        )
        first = schedule.next_occurrence(is_business_day)
        if first is None:
            raise InvalidInput(
                "the schedule has no occurrence: its first would be sent after ends_on"
            )
        return schedule

    @classmethod
    def _empty(cls, stream_id: str) -> RecurringSchedule:
        return cls(id=stream_id)

    # -- queries -------------------------------------------------------------

    def occurrence(self, index: int, is_business_day: IsBusinessDay) -> Occurrence | None:
        """Occurrence ``index`` as the rule and the customer's changes make it, if it exists."""
        if self.count is not None and index >= self.count:
            return None
        send_on = occurrence_date(self.frequency, self.starts_on, index, is_business_day)
        if self.ends_on is not None and send_on > self.ends_on:
            return None
        named = rule_date(self.frequency, self.starts_on, index, is_business_day)
        requested = named if named != send_on else None
        if index == self.next_index and (self.next_send_on or self.next_amount):
            return Occurrence(
                index=index,
                send_on=self.next_send_on or send_on,
                amount=self.next_amount or self.amount,
                requested_send_on=None if self.next_send_on else requested,
            )
        return Occurrence(
            index=index, send_on=send_on, amount=self.amount, requested_send_on=requested
        )

    def next_occurrence(self, is_business_day: IsBusinessDay) -> Occurrence | None:
        """The next occurrence to make, or None once the schedule has ended."""
        if self.status in (ScheduleStatus.CANCELLED, ScheduleStatus.COMPLETED):
            return None
        return self.occurrence(self.next_index, is_business_day)

    def upcoming(self, is_business_day: IsBusinessDay, limit: int) -> list[Occurrence]:
        """Up to ``limit`` occurrences still to come, the next first."""
        if self.status in (ScheduleStatus.CANCELLED, ScheduleStatus.COMPLETED):
            return []
        found = []
        for index in range(self.next_index, self.next_index + limit):
            occurrence = self.occurrence(index, is_business_day)
            if occurrence is None:
                break
            found.append(occurrence)
        return found

    # -- commands ------------------------------------------------------------

    def change(self, *, amount: Money, memo: str | None, at: datetime) -> bool:
        """Change the amount and memo of the occurrences not yet made; whether anything changed."""
        self._check_allowed("change")
        if amount.currency != self.amount.currency:
            raise InvalidMoney(f"a {self.amount.currency} schedule cannot pay in {amount.currency}")
        if not amount.is_positive:
            raise InvalidMoney("a recurring payment's amount must be greater than zero")
        if (amount, memo) == (self.amount, self.memo):
            return False
        self._record(ScheduleChanged, at, amount=str(amount.amount), memo=memo)
        return True

    def change_next(
        self,
        *,
        send_on: date | None,
        amount: Money | None,
        at: datetime,
        is_business_day: IsBusinessDay,
    ) -> Occurrence:
        """Send the next occurrence alone on another date or for another amount.

        The new date must come before the occurrence after it, so the
        occurrences stay in order.
        """
        self._check_allowed("change the next occurrence of")
        upcoming = self.upcoming(is_business_day, 2)
        if not upcoming:
            raise IllegalTransition("schedule", "ended", "change the next occurrence of")
        current = upcoming[0]
        new_send_on = send_on or current.send_on
        new_amount = amount or current.amount
        if new_amount.currency != self.amount.currency or not new_amount.is_positive:
            raise InvalidMoney(
                "the occurrence's amount must be a positive amount in the same currency"
            )
        if len(upcoming) > 1 and new_send_on >= upcoming[1].send_on:
            raise InvalidInput(
                f"the next occurrence must be sent before the one after it "
                f"({upcoming[1].send_on.isoformat()})"
            )
        self._record(
            NextOccurrenceChanged,
            at,
            index=current.index,
            send_on=new_send_on.isoformat(),
            amount=str(new_amount.amount),
        )
        return Occurrence(index=current.index, send_on=new_send_on, amount=new_amount)

    def skip_next(self, *, at: datetime, is_business_day: IsBusinessDay) -> Occurrence:
        """Leave the next occurrence unpaid; the schedule ends if it was the last."""
        self._check_allowed("skip the next occurrence of")
        occurrence = self.next_occurrence(is_business_day)
        if occurrence is None:
            raise IllegalTransition("schedule", "ended", "skip the next occurrence of")
        self._record(
            OccurrenceSkipped, at, index=occurrence.index, send_on=occurrence.send_on.isoformat()
        )
        self._complete_if_ended(at, is_business_day)
        return occurrence

    def record_created(
        self,
        occurrence: Occurrence,
        *,
        payment_id: str,
        at: datetime,
        is_business_day: IsBusinessDay,
    ) -> None:
        """Note that ``occurrence`` became a payment; the schedule ends if it was the last."""
        self._check_next(occurrence)
        self._record(
            OccurrenceCreated,
            at,
            index=occurrence.index,
            send_on=occurrence.send_on.isoformat(),
            payment_id=payment_id,
        )
        self._complete_if_ended(at, is_business_day)

    def record_missed(
        self,
        occurrence: Occurrence,
        *,
        code: str,
        reason: str,
        at: datetime,
        is_business_day: IsBusinessDay,
    ) -> None:
        """Note that ``occurrence`` could not become a payment, and go on to the next."""
        self._check_next(occurrence)
        self._record(
            OccurrenceMissed,
            at,
            index=occurrence.index,
            send_on=occurrence.send_on.isoformat(),
            code=code,
            reason=reason,
        )
        self._complete_if_ended(at, is_business_day)

    def pause(self, *, at: datetime) -> None:
        """Make no occurrence until resumed."""
        self._check_allowed("pause")
        self._record(SchedulePaused, at)

    def resume(self, *, today: date, at: datetime, is_business_day: IsBusinessDay) -> None:
        """Make occurrences again, from the first sent on ``today`` or later."""
        self._check_allowed("resume")
        index = self.next_index
        while (occurrence := self.occurrence(index, is_business_day)) is not None:
            if occurrence.send_on >= today:
                break
            index += 1
        self._record(ScheduleResumed, at, next_index=index)
        self._complete_if_ended(at, is_business_day)

    def cancel(self, *, reason: str, at: datetime) -> None:
        """Make no occurrence again."""
        self._check_allowed("cancel")
        self._record(ScheduleCancelled, at, reason=reason)

    # -- snapshots -------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The schedule's whole state in primitives, for its read model."""
        return {**encode_fields(self), "currency": self.amount.currency}

    @classmethod
    def restore(cls, state: dict[str, Any]) -> RecurringSchedule:
        """The schedule a snapshot recorded, with nothing pending."""
        return cls(**decode_fields(cls, state, state["currency"]))

    # -- internals -----------------------------------------------------------

    def _check_allowed(self, action: str) -> None:
        if self.status not in _ALLOWED_FROM[action]:
            raise IllegalTransition("schedule", self.status.value, action)

    def _check_next(self, occurrence: Occurrence) -> None:
        self._check_allowed("make an occurrence of")
        if occurrence.index != self.next_index:
            raise IllegalTransition(
                "schedule",
                f"at occurrence {self.next_index}",
                f"make occurrence {occurrence.index}",
            )

    def _complete_if_ended(self, at: datetime, is_business_day: IsBusinessDay) -> None:
        if self.status is ScheduleStatus.ACTIVE and self.next_occurrence(is_business_day) is None:
            self._record(ScheduleCompleted, at)

    def _advance(self) -> None:
        self.next_index += 1
        self.next_send_on = self.next_amount = None

    def _when(self, event: DomainEvent) -> None:
        match event:
            case ScheduleCreated():
                self.tenant_id = event.tenant_id
                self.customer_id = event.customer_id
                self.payee_id = event.payee_id
                self.funding_account_id = event.funding_account_id
                self.amount = Money(Decimal(event.amount), event.currency)
                self.memo = event.memo
                self.frequency = Frequency(event.frequency)
                self.starts_on = date.fromisoformat(event.starts_on)
                self.ends_on = _date(event.ends_on)
                self.count = event.count
                self.created_at = event.occurred_at
            case ScheduleChanged():
                self.amount = Money(Decimal(event.amount), self.amount.currency)
                self.memo = event.memo
            case NextOccurrenceChanged():
                self.next_send_on = date.fromisoformat(event.send_on)
                self.next_amount = Money(Decimal(event.amount), self.amount.currency)
            case OccurrenceSkipped() | OccurrenceMissed():
                self._advance()
            case OccurrenceCreated():
                self.last_payment_id = event.payment_id
                self._advance()
            case SchedulePaused():
                self.status = ScheduleStatus.PAUSED
            case ScheduleResumed():
                self.status = ScheduleStatus.ACTIVE
                if event.next_index != self.next_index:
                    self.next_index = event.next_index
                    self.next_send_on = self.next_amount = None
            case ScheduleCancelled():
                self.status = ScheduleStatus.CANCELLED
            case ScheduleCompleted():
                self.status = ScheduleStatus.COMPLETED
            case _:
                raise ValueError(f"{event.type} does not belong to a schedule stream")


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
