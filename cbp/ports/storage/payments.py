"""Payments and recurring schedules as read: filters, parties and views."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from cbp.domain.calendar import IsBusinessDay
from cbp.domain.customer import Customer, Tenant
from cbp.domain.directory import GlobalPayee
from cbp.domain.events import DomainEvent
from cbp.domain.funding import FundingAccount
from cbp.domain.payee import Payee
from cbp.domain.payment import Payment, PaymentSnapshot, PaymentStatus
from cbp.domain.recurring import RecurringSchedule, ScheduleStatus
from cbp.ports.storage.pages import Page

#: Where a page of due payments ends: the last one's send-on date and id.
DueKey = tuple[date, str]


@dataclass(frozen=True, kw_only=True)
class PaymentFilter:
    """What to list payments by; ``None`` matches everything."""

    tenant_id: str
    customer_id: str | None = None
    payee_id: str | None = None
    status: PaymentStatus | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentParties:
    """Everyone a payment involves, as one read finds them."""

    tenant: Tenant
    customer: Customer
    payee: Payee
    funding_account: FundingAccount
    #: The directory biller the payee pays, if it is one.
    biller: GlobalPayee | None


class PartyLookup(Protocol):
    """The records a payment command needs, found together in one read."""

    def for_payment(
        self, tenant_id: str, customer_id: str, payee_id: str, funding_account_id: str
    ) -> PaymentParties:
        """The tenant's customer, payee and funding account, and the payee's biller.

        NotFound names the first one missing, in that order; each must be the
        tenant's (the payee and account may be another customer's: the
        command decides what that means).
        """
        ...


class PaymentBacklog(Protocol):
    """How far behind payments are: what health checks and metrics read."""

    def overdue(self, before: date) -> int:
        """How many payments, every tenant's, are still scheduled for a day before ``before``."""
        ...

    def oldest_change(self, status: PaymentStatus) -> datetime | None:
        """When the payment in ``status`` left longest unchanged last changed, if any is."""
        ...


class PaymentRepository(PaymentBacklog, Protocol):
    """Payments: replayed from their events to change them, read from their view."""

    def get(self, tenant_id: str, payment_id: str) -> Payment:
        """The payment replayed from its events, or NotFound (also for another tenant's)."""
        ...

    def save(self, payment: Payment) -> list[DomainEvent]:
        """Append the payment's pending events and refresh its view; return them."""
        ...

    def view(self, tenant_id: str, payment_id: str) -> Payment:
        """The payment as its read model holds it, or NotFound; for reads only."""
        ...

    def find(self, query: PaymentFilter, *, cursor: str | None, limit: int) -> Page[Payment]:
        """Payments of a tenant, newest first, from the read model."""
        ...

    def statuses(self, tenant_id: str, payment_ids: Sequence[str]) -> list[PaymentStatus]:
        """The status of each of the tenant's payments named, from the read model."""
        ...

    def due(
        self, on: date, *, limit: int, tenant_id: str | None = None, after: DueKey | None = None
    ) -> list[Payment]:
        """Scheduled payments whose send-on date is ``on`` or earlier, from the read model.

        Earliest send-on date first, then by id; ``after`` is the key of the
        last payment of the page before.
        """
        ...

    def in_status(
        self, status: PaymentStatus, *, limit: int = 1000, after: str | None = None
    ) -> list[Payment]:
        """Payments of every tenant in ``status``, oldest first (for reconcilers).

        ``after`` is the last id a previous page ended on: the page starts past it.
        """
        ...

    def held_on_answered_payees(self, *, limit: int = 1000) -> list[Payment]:
        """Held payments of every tenant whose payee is verified or failed, oldest first."""
        ...

    def total_sent_on(self, tenant_id: str, customer_id: str, send_on: date) -> Decimal:
        """The sum of the customer's payments sent on ``send_on``, failed and cancelled aside."""
        ...

    def rebuild_views(self, payments: Iterable[Payment]) -> None:
        """Replace every stored view with those of ``payments`` (used by replay)."""
        ...


class PaymentViews(PaymentBacklog, Protocol):
    """The read model of payments: one snapshot per payment, wide enough for every read.

    It is written in the transaction that appends the payment's events, so it
    is never behind them; a replay rebuilds it from the events alone.
    """

    def refresh(self, payment: Payment) -> None:
        """Overwrite the snapshot of one payment."""
        ...

    def replace_all(self, snapshots: Iterable[PaymentSnapshot]) -> None:
        """Forget every snapshot and store these instead (a replay's result)."""
        ...

    def get(self, payment_id: str) -> PaymentSnapshot | None:
        """The snapshot of one payment, if it exists."""
        ...

    def find(
        self, query: PaymentFilter, *, cursor: str | None, limit: int
    ) -> Page[PaymentSnapshot]:
        """The tenant's payments matching ``query``, newest first."""
        ...

    def statuses(self, tenant_id: str, payment_ids: Sequence[str]) -> list[PaymentStatus]:
        """The status of each of the tenant's payments named (unknown ids are left out)."""
        ...

    def due(
        self, on: date, *, tenant_id: str | None, limit: int, after: DueKey | None = None
    ) -> list[PaymentSnapshot]:
        """Scheduled payments whose send-on date is ``on`` or earlier, by (send-on date, id).

        ``after`` is the (send-on date, id) of the last payment of the page before.
        """
        ...

    def in_status(
        self, status: PaymentStatus, *, limit: int, after: str | None = None
    ) -> list[PaymentSnapshot]:
        """Payments in ``status``, every tenant, by id, starting past ``after``."""
        ...

    def held_on_answered_payees(self, *, limit: int) -> list[PaymentSnapshot]:
        """Held payments whose payee's verification has an answer, every tenant, by id.

        Payments held on payees still pending are left out, so however many
        there are, they never use up ``limit``.
        """
        ...

    def amounts_sent_on(self, tenant_id: str, customer_id: str, send_on: date) -> list[Decimal]:
        """The amounts of the customer's payments sent on ``send_on`` that still count.

        Failed and cancelled payments move no money, so they are left out.
        """
        ...


@dataclass(frozen=True, kw_only=True)
class ScheduleFilter:
    """What to list recurring schedules by; ``None`` matches everything."""

    tenant_id: str
    customer_id: str | None = None
    status: ScheduleStatus | None = None


class ScheduleViews(Protocol):
    """The read model of recurring schedules: each one's state, and its next send date.

    ``next_send_on`` is the date the schedule's next occurrence is sent on,
    None once none is to be made (paused, cancelled, ended): what the job
    that makes occurrences selects by.
    """

    def refresh(self, state: dict[str, Any], next_send_on: date | None) -> None:
        """Write one schedule's state (its ``snapshot()``)."""
        ...

    def get(self, schedule_id: str) -> dict[str, Any] | None:
        """One schedule's state, or None."""
        ...

    def find(
        self, query: ScheduleFilter, *, cursor: str | None, limit: int
    ) -> Page[dict[str, Any]]:
        """A tenant's schedules matching ``query``, newest first."""
        ...

    def due(self, by: date, *, limit: int) -> list[tuple[str, str]]:
        """Tenant and id of each schedule whose next occurrence is sent by ``by``, soonest first."""
        ...


class ScheduleRepository(Protocol):
    """Recurring schedules: their event streams, and a view of each for reads and sweeps."""

    def get(self, tenant_id: str, schedule_id: str) -> RecurringSchedule:
        """The schedule replayed from its events, or NotFound (also for another tenant's)."""
        ...

    def save(
        self, schedule: RecurringSchedule, is_business_day: IsBusinessDay
    ) -> list[DomainEvent]:
        """Append the schedule's pending events and refresh its view; return them."""
        ...

    def rebuild_view(self, schedule: RecurringSchedule, is_business_day: IsBusinessDay) -> None:
        """Write the schedule's view from its state (after a save, or a replay)."""
        ...

    def view(self, tenant_id: str, schedule_id: str) -> RecurringSchedule:
        """The schedule as its read model holds it, or NotFound."""
        ...

    def find(
        self, query: ScheduleFilter, *, cursor: str | None, limit: int
    ) -> Page[RecurringSchedule]:
        """The tenant's schedules matching ``query``, newest first."""
        ...

    def due(self, by: date, *, limit: int = 500) -> list[tuple[str, str]]:
        """Tenant and id of each schedule with an occurrence to send on ``by`` or earlier."""
        ...
