"""The unit of work: every repository of one transaction, committed together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, Self

from cbp.ports.messages import DeliveryStore, Inbox, Outbox
from cbp.ports.storage.access import ApiKeyRepository, AuditLog, IdempotencyStore
from cbp.ports.storage.bills import AutopayRules, BillRepository
from cbp.ports.storage.checks import CheckRegister
from cbp.ports.storage.customers import (
    CustomerRepository,
    DirectoryRepository,
    FundingAccountRepository,
    PayeeRepository,
    TenantRepository,
)
from cbp.ports.storage.events import EventStore, Recorded
from cbp.ports.storage.notices import (
    ExceptionRepository,
    NotificationRepository,
    WebhookEndpointRepository,
)
from cbp.ports.storage.payments import PartyLookup, PaymentRepository, ScheduleRepository
from cbp.ports.storage.processing import ProcessJobRepository


class ReadOnly(RuntimeError):
    """A unit of work opened only to read was asked to commit: a programming error."""


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
    schedules: ScheduleRepository
    bills: BillRepository
    autopay: AutopayRules
    checks: CheckRegister
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

    def __exit__(self, *exc_info: object) -> None:
        """Roll back whatever was not committed."""
        ...

    def collect_new_events(self) -> list[Recorded]:
        """The events the aggregates saved in this unit of work recorded, each once."""
        ...

    def commit(self) -> None:
        """Make every change of this unit of work durable, all or nothing.

        Raises ``ReadOnly`` in a unit of work opened only to read.
        """
        ...

    def rollback(self) -> None:
        """Discard every change since the last commit."""
        ...


#: Runs just before a unit of work commits: where its aggregates' events are published.
BeforeCommit = Callable[[UnitOfWork], object]


class UnitsOfWork(Protocol):
    """Opens units of work; ``before_commit`` replaces what each runs before it commits."""

    def __call__(
        self, *, before_commit: BeforeCommit | None = ..., read_only: bool = ...
    ) -> UnitOfWork:
        """A new unit of work, not begun.

        A ``read_only`` one reads what is committed and refuses to commit, so a
        store may run it without a transaction's cost: PostgreSQL answers each
        read as it comes (each statement sees what is committed when it runs,
        as in a transaction at READ COMMITTED), SQLite without its write lock.
        """
        ...
