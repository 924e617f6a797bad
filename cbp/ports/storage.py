"""Persistence ports: the event store, repositories and the unit of work."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from cbp.domain import identifiers
from cbp.domain.access import ApiKey
from cbp.domain.audit import AuditDraft, AuditEntry
from cbp.domain.calendar import IsBusinessDay
from cbp.domain.customer import Channel, Customer, StatusAlert, Tenant
from cbp.domain.directory import GlobalPayee
from cbp.domain.errors import NotFound
from cbp.domain.events import DomainEvent
from cbp.domain.funding import FundingAccount
from cbp.domain.idempotency import IdempotencyRecord
from cbp.domain.notification import Notification
from cbp.domain.payee import Payee
from cbp.domain.payment import Payment, PaymentSnapshot, PaymentStatus
from cbp.domain.payment_exception import ExceptionStatus, PaymentException
from cbp.domain.processing import ProcessJob
from cbp.domain.recording import RecordsEvents
from cbp.domain.recurring import RecurringSchedule, ScheduleStatus
from cbp.domain.webhook_endpoint import WebhookEndpoint
from cbp.ports.messages import DeliveryStore, Headers, Inbox, Outbox

T = TypeVar("T")


#: Where a page of due payments ends: the last one's send-on date and id.
DueKey = tuple[date, str]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; ``next_cursor`` is None on the last page."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class StoredEvent:
    """An event as the store keeps it: with its global position."""

    position: int
    event: DomainEvent


@dataclass(frozen=True, kw_only=True)
class Recorded:
    """Events one aggregate recorded in a unit of work, to publish before it commits.

    ``payment`` is the payment's state just after them, for a payment's events.
    """

    events: list[DomainEvent]
    payment: PaymentSnapshot | None = None


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


@dataclass(frozen=True, kw_only=True)
class PaymentFilter:
    """What to list payments by; ``None`` matches everything."""

    tenant_id: str
    customer_id: str | None = None
    payee_id: str | None = None
    status: PaymentStatus | None = None


class EventStore(Protocol):
    """Append-only streams of events with optimistic concurrency."""

    def append(
        self, stream_id: str, events: list[DomainEvent], *, expected_version: int, headers: Headers
    ) -> None:
        """Add events after ``expected_version``; raise ConcurrencyConflict if it moved."""
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


class PaymentRepository(Protocol):
    """Payments: replayed from their events to change them, read from their view."""

    def get(self, tenant_id: str, payment_id: str) -> Payment:
        """The payment replayed from its events, or NotFound (also for another tenant's)."""
        ...

    def save(self, payment: Payment, headers: Headers) -> list[DomainEvent]:
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
        self,
        on: date,
        *,
        tenant_id: str | None = None,
        limit: int = 1000,
        after: DueKey | None = None,
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


class PaymentViews(Protocol):
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

    def save(self, payment: Payment, headers: Headers) -> list[DomainEvent]:
        """Append the payment's pending events and refresh its view; return them."""
        events = payment.pull_events()
        if events:
            self.events.append(
                payment.id, events, expected_version=events[0].version - 1, headers=headers
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

    def total_sent_on(self, tenant_id: str, customer_id: str, send_on: date) -> Decimal:
        """What the customer's payments sent on ``send_on`` add up to."""
        return sum(self.views.amounts_sent_on(tenant_id, customer_id, send_on), Decimal(0))

    def rebuild_views(self, payments: Iterable[Payment]) -> None:
        """Replace every stored view with those of ``payments``."""
        self.views.replace_all(p.snapshot() for p in payments)


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
        self, schedule: RecurringSchedule, headers: Headers, is_business_day: IsBusinessDay
    ) -> list[DomainEvent]:
        """Append the schedule's pending events and refresh its view; return them."""
        events = schedule.pull_events()
        if events:
            self.events.append(
                schedule.id, events, expected_version=events[0].version - 1, headers=headers
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


class TenantRepository(Protocol):
    """The banks and fintechs using the engine."""

    def add(self, tenant: Tenant) -> None:
        """Store a new tenant."""
        ...

    def get(self, tenant_id: str) -> Tenant:
        """The tenant, or NotFound."""
        ...

    def save(self, tenant: Tenant) -> None:
        """Store a changed tenant."""
        ...

    def list(self) -> list[Tenant]:
        """Every tenant, oldest first."""
        ...

    def any_exist(self) -> bool:
        """Whether any tenant exists (a fresh install has none)."""
        ...


class CustomerRepository(Protocol):
    """A tenant's customers."""

    def add(self, customer: Customer) -> None:
        """Store a new customer; AlreadyExists if the external id is taken."""
        ...

    def get(self, tenant_id: str, customer_id: str) -> Customer:
        """The customer, or NotFound."""
        ...

    def save(self, customer: Customer) -> None:
        """Store the customer's changed notification preferences."""
        ...

    def notify_on_of(self, customer_ids: Collection[str]) -> dict[str, tuple[StatusAlert, ...]]:
        """The payment changes each of these customers opted into; those with none left out."""
        ...

    def hold(self, tenant_id: str, customer_id: str) -> None:
        """Hold the customer until this unit of work ends, or NotFound.

        Two units of work holding one customer do not overlap: the second
        waits for the first (or conflicts at commit and runs again), so a
        check of the customer's limits sees every payment made before it.
        """
        ...


class DirectoryRepository(Protocol):
    """The shared biller directory."""

    def add(self, payee: GlobalPayee) -> None:
        """Store a new biller."""
        ...

    def get(self, payee_id: str) -> GlobalPayee:
        """The biller, or NotFound."""
        ...

    def save(self, payee: GlobalPayee) -> None:
        """Store the biller's changes."""
        ...

    def search(self, partial_name: str, *, cursor: str | None, limit: int) -> Page[GlobalPayee]:
        """Billers whose name or alias contains the text, prefix matches first."""
        ...


class PayeeRepository(Protocol):
    """Customers' payees."""

    def add(self, payee: Payee) -> None:
        """Store a new payee."""
        ...

    def get(self, tenant_id: str, payee_id: str) -> Payee:
        """The payee, or NotFound."""
        ...

    def save(self, payee: Payee) -> None:
        """Store the payee's changes."""
        ...

    def find(
        self, tenant_id: str, *, customer_id: str | None, cursor: str | None, limit: int
    ) -> Page[Payee]:
        """A tenant's payees, oldest first."""
        ...


class FundingAccountRepository(Protocol):
    """Customers' funding accounts."""

    def add(self, account: FundingAccount) -> None:
        """Store a new funding account."""
        ...

    def get(self, tenant_id: str, account_id: str) -> FundingAccount:
        """The account, or NotFound."""
        ...

    def save(self, account: FundingAccount) -> None:
        """Store the account's changes."""
        ...

    def awaiting_micro_deposits(self, *, limit: int) -> list[FundingAccount]:
        """Accounts of every tenant whose micro-deposits await confirmation, oldest first."""
        ...

    def hold(self, tenant_id: str, account_id: str) -> None:
        """Hold the account until this unit of work ends, or NotFound.

        Two units of work holding one account do not overlap (the second
        waits, or conflicts at commit and runs again), so answers to its
        micro-deposits are counted one at a time.
        """
        ...


class ExceptionRepository(Protocol):
    """Payment exceptions."""

    def add(self, exception: PaymentException) -> None:
        """Store a new exception."""
        ...

    def get(self, tenant_id: str, exception_id: str) -> PaymentException:
        """The exception, or NotFound."""
        ...

    def save(self, exception: PaymentException) -> None:
        """Store the exception's changes."""
        ...

    def find(
        self,
        tenant_id: str,
        *,
        status: ExceptionStatus | None,
        cursor: str | None,
        limit: int,
    ) -> Page[PaymentException]:
        """A tenant's exceptions, newest first."""
        ...


class NotificationRepository(Protocol):
    """Notifications and their delivery state."""

    def add(self, notification: Notification) -> None:
        """Store a new notification."""
        ...

    def get(self, tenant_id: str, notification_id: str) -> Notification:
        """The notification, or NotFound."""
        ...

    def get_any(self, notification_id: str) -> Notification:
        """The notification whatever its tenant (for delivery workers)."""
        ...

    def for_replay(
        self, tenant_id: str, channel: Channel, since: datetime, *, unsent_only: bool, limit: int
    ) -> list[Notification]:
        """The tenant's notifications on ``channel`` made since ``since``, oldest first.

        With ``unsent_only``, only those not delivered (failed or dead):
        what a replay after an outage must send again.
        """
        ...

    def save(self, notification: Notification) -> None:
        """Store the notification's changes."""
        ...


class ProcessJobRepository(Protocol):
    """Processing jobs, for polling."""

    def add(self, job: ProcessJob) -> None:
        """Store a new job."""
        ...

    def get(self, tenant_id: str, job_id: str) -> ProcessJob:
        """The job, or NotFound."""
        ...


class ApiKeyRepository(Protocol):
    """API keys, stored by id with only a hash of their secret."""

    def add(self, key: ApiKey) -> None:
        """Store a new key."""
        ...

    def get(self, key_id: str) -> ApiKey:
        """The key, or NotFound."""
        ...

    def list(self, tenant_id: str | None = None) -> list[ApiKey]:
        """Every key (of one tenant, if named), oldest first; hashes only, never secrets."""
        ...

    def save(self, key: ApiKey) -> None:
        """Store the key's changes (revocation)."""
        ...


class WebhookEndpointRepository(Protocol):
    """Each tenant's webhook endpoint (at most one), secrets encrypted at rest."""

    def add(self, endpoint: WebhookEndpoint) -> None:
        """Store a new endpoint; AlreadyExists if the tenant has one."""
        ...

    def for_tenant(self, tenant_id: str) -> WebhookEndpoint | None:
        """The tenant's endpoint, if it registered one."""
        ...

    def save(self, endpoint: WebhookEndpoint) -> None:
        """Store a changed endpoint."""
        ...

    def save_health(self, endpoint: WebhookEndpoint) -> None:
        """Store only its status and failures, so a delivery never undoes a rotation."""
        ...

    def remove(self, tenant_id: str) -> None:
        """Forget the tenant's endpoint; NotFound if there is none."""
        ...


class IdempotencyStore(Protocol):
    """Idempotency records, one per tenant and key."""

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Store ``record`` if its key is free; else return the record holding it."""
        ...

    def save(self, record: IdempotencyRecord) -> None:
        """Store the completed response."""
        ...

    def release(self, tenant_id: str, key: str) -> None:
        """Forget a key whose request failed on our side, so a retry may run."""
        ...

    def purge_expired(self, now: datetime, *, limit: int) -> int:
        """Forget up to ``limit`` keys past their retention; return how many."""
        ...


class AuditLog(Protocol):
    """The append-only, hash-chained log of every change.

    A command records a draft in its own transaction and waits on no one;
    ``chain_pending`` later links the committed drafts to the chain, oldest
    first, in batches, with one chainer at a time.
    """

    def record(self, draft: AuditDraft) -> None:
        """Keep a draft, committed with the caller's transaction, to be chained."""
        ...

    def chain_pending(self, key: bytes, *, limit: int = 1000) -> int:
        """Link up to ``limit`` committed drafts to the chain; return how many."""
        ...

    def pending(self) -> int:
        """How many committed drafts wait to be chained."""
        ...

    def last(self) -> AuditEntry | None:
        """The newest chained entry."""
        ...

    def entries(self, *, after_sequence: int = 0, limit: int = 1000) -> list[AuditEntry]:
        """Chained entries in chain order."""
        ...


class UnitOfWork(Protocol):
    """One atomic transaction over every repository, the outbox and the inbox.

    Leaving the ``with`` block without ``commit()`` rolls everything back.
    """

    tenants: TenantRepository
    parties: PartyLookup
    customers: CustomerRepository
    directory: DirectoryRepository
    payees: PayeeRepository
    funding_accounts: FundingAccountRepository
    payments: PaymentRepository
    schedules: EventSourcedSchedules
    events: EventStore
    exceptions: ExceptionRepository
    notifications: NotificationRepository
    jobs: ProcessJobRepository
    api_keys: ApiKeyRepository
    webhook_endpoints: WebhookEndpointRepository
    idempotency: IdempotencyStore
    audit: AuditLog
    outbox: Outbox
    inbox: Inbox
    deliveries: DeliveryStore

    def __enter__(self) -> Self:
        """Begin the transaction."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    def collect_new_events(self) -> list[Recorded]:
        """The events the aggregates saved in this unit of work recorded, each once."""
        ...

    def commit(self) -> None:
        """Make every change of this unit of work durable, all or nothing."""
        ...

    def rollback(self) -> None:
        """Discard every change since the last commit."""
        ...


#: Opens a new unit of work: what handlers are given to begin a transaction.
UnitOfWorkFactory = Callable[[], UnitOfWork]
