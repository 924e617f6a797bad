"""The payment and schedule repositories of every storage adapter: a store and a view."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from cbp.domain import identifiers
from cbp.domain.calendar import IsBusinessDay
from cbp.domain.errors import NotFound
from cbp.domain.events import DomainEvent
from cbp.domain.payment import Payment, PaymentStatus
from cbp.domain.recurring import RecurringSchedule, ScheduleStatus
from cbp.ports.messages import Headers
from cbp.ports.storage.events import Changes, EventStore
from cbp.ports.storage.pages import Page
from cbp.ports.storage.payments import (
    DueKey,
    PaymentFilter,
    PaymentViews,
    ScheduleFilter,
    ScheduleViews,
)


class EventSourcedPayments:
    """The PaymentRepository of every adapter: an event store and a view, composed.

    Changing a payment replays its stream; saving appends the new events at
    the version they were recorded on and refreshes the view, in the same
    transaction. Reads and sweeps select and answer from the view alone.
    """

    def __init__(self, events: EventStore, views: PaymentViews, changes: Changes) -> None:
        self.events = events
        self.views = views
        self.changes = changes

    def get(self, tenant_id: str, payment_id: str) -> Payment:
        """The payment replayed from its events, or NotFound (also for another tenant's)."""
        is_payment = identifiers.has_prefix(payment_id, identifiers.PAYMENT)
        stream = self.events.load(payment_id) if is_payment else []
        if not stream:
            raise NotFound("payment", payment_id)
        payment = Payment.replay(payment_id, stream)
        if payment.tenant_id != tenant_id:
            raise NotFound("payment", payment_id)
        return payment

    def save(self, payment: Payment) -> list[DomainEvent]:
        """Append the payment's pending events and refresh its view; return them."""
        events = payment.pull_events()
        if events:
            self.events.append(
                payment.id,
                events,
                expected_version=events[0].version - 1,
                headers=Headers(tenant_id=payment.tenant_id),
            )
            self.views.refresh(payment)
            self.changes.saved(payment, events)
        return events

    def view(self, tenant_id: str, payment_id: str) -> Payment:
        """The payment as its read model holds it, or NotFound."""
        snapshot = self.views.get(payment_id)
        if snapshot is None or snapshot.tenant_id != tenant_id:
            raise NotFound("payment", payment_id)
        return Payment.restore(snapshot)

    def find(self, query: PaymentFilter, *, cursor: str | None, limit: int) -> Page[Payment]:
        """The tenant's payments matching ``query``, newest first."""
        page = self.views.find(query, cursor=cursor, limit=limit)
        return Page([Payment.restore(s) for s in page.items], page.next_cursor)

    def statuses(self, tenant_id: str, payment_ids: Sequence[str]) -> list[PaymentStatus]:
        """The status of each of the tenant's payments named."""
        return self.views.statuses(tenant_id, payment_ids)

    def due(
        self,
        on: date,
        *,
        tenant_id: str | None = None,
        limit: int = 1000,
        after: DueKey | None = None,
    ) -> list[Payment]:
        """Scheduled payments due by ``on`` (one tenant's, if named), earliest date first."""
        views = self.views.due(on, tenant_id=tenant_id, limit=limit, after=after)
        return [Payment.restore(s) for s in views]

    def in_status(
        self, status: PaymentStatus, *, limit: int = 1000, after: str | None = None
    ) -> list[Payment]:
        """Payments in ``status`` across tenants, by id, starting past ``after``."""
        views = self.views.in_status(status, limit=limit, after=after)
        return [Payment.restore(s) for s in views]

    def held_on_answered_payees(self, *, limit: int = 1000) -> list[Payment]:
        """Held payments that can be settled now: their payee is verified or failed."""
        return [Payment.restore(s) for s in self.views.held_on_answered_payees(limit=limit)]

    def overdue(self, before: date) -> int:
        """How many payments are still scheduled for a day before ``before``."""
        return self.views.overdue(before)

    def oldest_change(self, status: PaymentStatus) -> datetime | None:
        """When the payment in ``status`` left longest unchanged last changed."""
        return self.views.oldest_change(status)

    def total_sent_on(self, tenant_id: str, customer_id: str, send_on: date) -> Decimal:
        """What the customer's payments sent on ``send_on`` add up to."""
        return sum(self.views.amounts_sent_on(tenant_id, customer_id, send_on), Decimal(0))

    def rebuild_views(self, payments: Iterable[Payment]) -> None:
        """Replace every stored view with those of ``payments``."""
        self.views.replace_all(p.snapshot() for p in payments)


class EventSourcedSchedules:
    """Recurring schedules of every adapter: their event streams, and a view of each."""

    def __init__(self, events: EventStore, views: ScheduleViews) -> None:
        self.events = events
        self.views = views

    def get(self, tenant_id: str, schedule_id: str) -> RecurringSchedule:
        """The schedule replayed from its events, or NotFound (also for another tenant's)."""
        is_schedule = identifiers.has_prefix(schedule_id, identifiers.RECURRING_PAYMENT)
        stream = self.events.load(schedule_id) if is_schedule else []
        if not stream:
            raise NotFound("recurring payment", schedule_id)
        schedule = RecurringSchedule.replay(schedule_id, stream)
        if schedule.tenant_id != tenant_id:
            raise NotFound("recurring payment", schedule_id)
        return schedule

    def save(
        self, schedule: RecurringSchedule, is_business_day: IsBusinessDay
    ) -> list[DomainEvent]:
        """Append the schedule's pending events and refresh its view; return them."""
        events = schedule.pull_events()
        if events:
            self.events.append(
                schedule.id,
                events,
                expected_version=events[0].version - 1,
                headers=Headers(tenant_id=schedule.tenant_id),
            )
            self.rebuild_view(schedule, is_business_day)
        return events

    def rebuild_view(self, schedule: RecurringSchedule, is_business_day: IsBusinessDay) -> None:
        """Write the schedule's view from its state (after a save, or a replay)."""
        upcoming = schedule.next_occurrence(is_business_day)
        active = schedule.status is ScheduleStatus.ACTIVE
        self.views.refresh(schedule.snapshot(), upcoming.send_on if upcoming and active else None)

    def view(self, tenant_id: str, schedule_id: str) -> RecurringSchedule:
        """The schedule as its read model holds it, or NotFound."""
        state = self.views.get(schedule_id)
        if state is None or state["tenant_id"] != tenant_id:
            raise NotFound("recurring payment", schedule_id)
        return RecurringSchedule.restore(state)

    def find(
        self, query: ScheduleFilter, *, cursor: str | None, limit: int
    ) -> Page[RecurringSchedule]:
        """The tenant's schedules matching ``query``, newest first."""
        page = self.views.find(query, cursor=cursor, limit=limit)
        return Page([RecurringSchedule.restore(s) for s in page.items], page.next_cursor)

    def due(self, by: date, *, limit: int = 500) -> list[tuple[str, str]]:
        """Tenant and id of each schedule with an occurrence to send on ``by`` or earlier."""
        return self.views.due(by, limit=limit)
