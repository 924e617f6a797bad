"""The payment, schedule and bill repositories of every storage adapter: a store and a view."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from cbp.domain import identifiers
from cbp.domain.bill import Bill
from cbp.domain.calendar import IsBusinessDay
from cbp.domain.errors import AlreadyExists, NotFound
from cbp.domain.events import DomainEvent
from cbp.domain.payment import Payment, PaymentStatus
from cbp.domain.recording import EventSourced
from cbp.domain.recurring import RecurringSchedule, ScheduleStatus
from cbp.ports.messages import Headers
from cbp.ports.storage.bills import BillFilter, BillViews
from cbp.ports.storage.events import Changes, EventStore
from cbp.ports.storage.pages import Page
from cbp.ports.storage.payments import (
    DueKey,
    PaymentFilter,
    PaymentViews,
    ScheduleFilter,
    ScheduleViews,
)


def append_pending(
    events: EventStore, aggregate: EventSourced, tenant_id: str
) -> list[DomainEvent]:
    """Append what ``aggregate`` recorded since it was loaded, at the version it was loaded at."""
    pending = aggregate.pull_events()
    if pending:
        events.append(
            aggregate.id,
            pending,
            expected_version=pending[0].version - 1,
            headers=Headers(tenant_id=tenant_id),
        )
    return pending


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
        events = append_pending(self.events, payment, payment.tenant_id)
        if events:
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
        self, on: date, *, limit: int, tenant_id: str | None = None, after: DueKey | None = None
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
        events = append_pending(self.events, schedule, schedule.tenant_id)
        if events:
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


class EventSourcedBills:
    """Bills of every adapter: their event streams, and a view of each."""

    def __init__(self, events: EventStore, views: BillViews, changes: Changes) -> None:
        self.events = events
        self.views = views
        self.changes = changes

    def get(self, tenant_id: str, bill_id: str) -> Bill:
        """The bill replayed from its events, or NotFound (also for another tenant's)."""
        stream = (
            self.events.load(bill_id) if identifiers.has_prefix(bill_id, identifiers.BILL) else []
        )
        if not stream:
            raise NotFound("bill", bill_id)
        bill = Bill.replay(bill_id, stream)
        if bill.tenant_id != tenant_id:
            raise NotFound("bill", bill_id)
        return bill

    def add(self, bill: Bill) -> list[DomainEvent]:
        """Store a new bill; AlreadyExists if its payee has one with its reference."""
        if self.views.find_by_reference(bill.tenant_id, bill.payee_id, bill.reference):
            raise AlreadyExists(
                f"payee {bill.payee_id} already has a bill with reference {bill.reference!r}"
            )
        return self.save(bill)

    def save(self, bill: Bill) -> list[DomainEvent]:
        """Append the bill's pending events and refresh its view; return them."""
        events = append_pending(self.events, bill, bill.tenant_id)
        if events:
            state = bill.snapshot()
            self.views.refresh(state)
            self.changes.saved_bill(state, events)
        return events

    def view(self, tenant_id: str, bill_id: str) -> Bill:
        """The bill as its read model holds it, or NotFound."""
        state = self.views.get(bill_id)
        if state is None or state["tenant_id"] != tenant_id:
            raise NotFound("bill", bill_id)
        return Bill.restore(state)

    def find(self, query: BillFilter, *, cursor: str | None, limit: int) -> Page[Bill]:
        """The tenant's bills matching ``query``, newest first."""
        page = self.views.find(query, cursor=cursor, limit=limit)
        return Page([Bill.restore(s) for s in page.items], page.next_cursor)

    def unpaid_due_before(self, day: date, *, limit: int = 500) -> list[tuple[str, str]]:
        """Tenant and id of each open or scheduled bill due before ``day``."""
        return self.views.unpaid_due_before(day, limit=limit)

    def rebuild_views(self, bills: Iterable[Bill]) -> None:
        """Replace every stored view with those of ``bills``."""
        self.views.replace_all(b.snapshot() for b in bills)
