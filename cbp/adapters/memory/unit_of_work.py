"""The in-memory unit of work: every repository over one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self, cast

from cbp.adapters.memory.access import InMemoryApiKeyRepository, InMemoryIdempotencyStore
from cbp.adapters.memory.audit import InMemoryAuditLog
from cbp.adapters.memory.bills import InMemoryAutopayRules, InMemoryBillViews
from cbp.adapters.memory.checks import InMemoryCheckRegister
from cbp.adapters.memory.customers import InMemoryCustomerRepository, InMemoryTenantRepository
from cbp.adapters.memory.database import InMemoryDatabase, Transaction
from cbp.adapters.memory.event_store import (
    InMemoryEventStore,
    InMemoryPaymentViews,
    InMemoryScheduleViews,
)
from cbp.adapters.memory.jobs import InMemoryProcessJobRepository
from cbp.adapters.memory.messaging import InMemoryDeliveryStore, InMemoryInbox, InMemoryOutbox
from cbp.adapters.memory.notices import (
    InMemoryExceptionRepository,
    InMemoryNotificationRepository,
    InMemoryWebhookEndpointRepository,
)
from cbp.adapters.memory.parties import InMemoryPartyLookup
from cbp.adapters.memory.payees import (
    InMemoryDirectoryRepository,
    InMemoryFundingAccountRepository,
    InMemoryPayeeRepository,
)
from cbp.ports.storage.events import Recorded
from cbp.ports.storage.unit_of_work import BeforeCommit, ReadOnly, UnitOfWork
from cbp.services.event_sourced import (
    EventSourcedBills,
    EventSourcedPayments,
    EventSourcedSchedules,
)


class InMemoryUnitOfWork:
    """A transaction over an InMemoryDatabase; uncommitted work is discarded."""

    def __init__(
        self,
        db: InMemoryDatabase,
        before_commit: BeforeCommit | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self.db = db
        #: Run just before each commit: the events recorded are published then.
        self.before_commit = before_commit
        self.read_only = read_only
        self.committed = 0
        self._tx = Transaction(db)
        self.tenants = InMemoryTenantRepository(self._tx)
        self.customers = InMemoryCustomerRepository(self._tx)
        self.directory = InMemoryDirectoryRepository(self._tx)
        self.payees = InMemoryPayeeRepository(self._tx)
        self.funding_accounts = InMemoryFundingAccountRepository(self._tx)
        self.events = InMemoryEventStore(self._tx)
        self.payments = EventSourcedPayments(
            self.events, InMemoryPaymentViews(self._tx), self._tx.changes
        )
        self.schedules = EventSourcedSchedules(self.events, InMemoryScheduleViews(self._tx))
        self.bills = EventSourcedBills(self.events, InMemoryBillViews(self._tx), self._tx.changes)
        self.autopay = InMemoryAutopayRules(self._tx)
        self.checks = InMemoryCheckRegister(self._tx)
        self.parties = InMemoryPartyLookup(
            self.tenants, self.customers, self.payees, self.funding_accounts, self.directory
        )
        self.exceptions = InMemoryExceptionRepository(self._tx)
        self.notifications = InMemoryNotificationRepository(self._tx)
        self.jobs = InMemoryProcessJobRepository(self._tx)
        self.api_keys = InMemoryApiKeyRepository(self._tx)
        self.webhook_endpoints = InMemoryWebhookEndpointRepository(self._tx)
        self.idempotency = InMemoryIdempotencyStore(self._tx)
        self.audit = InMemoryAuditLog(self._tx)
        self.outbox = InMemoryOutbox(self._tx)
        self.inbox = InMemoryInbox(self._tx)
        self.deliveries = InMemoryDeliveryStore(self._tx)

    def __enter__(self) -> Self:
        self._tx.reset()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.rollback()

    def commit(self) -> None:
        """Apply the staged writes atomically."""
        if self.read_only:
            raise ReadOnly("this unit of work was opened only to read")
        if self.before_commit is not None:
            self.before_commit(cast(UnitOfWork, self))
        self._tx.commit()
        self.committed += 1

    def with_commit(self, write: Callable[[], None]) -> None:
        """Make ``write`` (to a store beside this database) when this unit of work commits."""
        self._tx.with_commit.append(write)

    def rollback(self) -> None:
        """Discard the staged writes."""
        self._tx.reset()

    def collect_new_events(self) -> list[Recorded]:
        """The events the aggregates saved in this unit of work recorded, each once."""
        return self._tx.changes.collect()
