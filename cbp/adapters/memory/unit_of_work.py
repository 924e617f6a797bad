"""The in-memory unit of work: every repository over one transaction."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from cbp.adapters.memory import repositories as r
from cbp.adapters.memory.database import InMemoryDatabase, Transaction


class InMemoryUnitOfWork:
    """A transaction over an InMemoryDatabase; uncommitted work is discarded."""

    def __init__(self, db: InMemoryDatabase) -> None:
        self.db = db
        self.committed = 0
        self._tx = Transaction(db)
        self.tenants = r.InMemoryTenantRepository(self._tx)
        self.customers = r.InMemoryCustomerRepository(self._tx)
        self.directory = r.InMemoryDirectoryRepository(self._tx)
        self.payees = r.InMemoryPayeeRepository(self._tx)
        self.funding_accounts = r.InMemoryFundingAccountRepository(self._tx)
        self.events = r.InMemoryEventStore(self._tx)
        self.payments = r.InMemoryPaymentRepository(self._tx, self.events)
        self.exceptions = r.InMemoryExceptionRepository(self._tx)
        self.notifications = r.InMemoryNotificationRepository(self._tx)
        self.jobs = r.InMemoryProcessJobRepository(self._tx)
        self.api_keys = r.InMemoryApiKeyRepository(self._tx)
        self.webhook_endpoints = r.InMemoryWebhookEndpointRepository(self._tx)
        self.idempotency = r.InMemoryIdempotencyStore(self._tx)
        self.audit = r.InMemoryAuditLog(self._tx)
        self.outbox = r.InMemoryOutbox(self._tx)
        self.inbox = r.InMemoryInbox(self._tx)
        self.deliveries = r.InMemoryDeliveryStore(self._tx)

    def __enter__(self) -> Self:
        self._tx.reset()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        """Apply the staged writes atomically."""
        self._tx.commit()
        self.committed += 1

    def rollback(self) -> None:
        """Discard the staged writes."""
        self._tx.reset()
