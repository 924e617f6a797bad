"""Tenants' records in memory: tenants, customers, the directory, payees and accounts.

Also exceptions, notifications, processing jobs and webhook endpoints.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from cbp.adapters.memory.database import ABSENT, Transaction
from cbp.adapters.memory.rows import keyset_page, owned
from cbp.domain.customer import Channel, Customer, StatusAlert, Tenant
from cbp.domain.directory import GlobalPayee
from cbp.domain.errors import NotFound
from cbp.domain.funding import FundingAccount
from cbp.domain.micro_deposits import VerificationMethod
from cbp.domain.notification import Notification, NotificationStatus
from cbp.domain.payee import Payee
from cbp.domain.payment_exception import ExceptionStatus, PaymentException
from cbp.domain.processing import ProcessJob
from cbp.domain.verification import VerificationStatus
from cbp.domain.webhook_endpoint import EndpointStatus, WebhookEndpoint
from cbp.ports.pagination import search_rank
from cbp.ports.storage.pages import Page


class InMemoryTenantRepository:
    """Tenants in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, tenant: Tenant) -> None:
        self.tx.put("tenants", tenant.id, tenant, insert=True)

    def get(self, tenant_id: str) -> Tenant:
        tenant = self.tx.get("tenants", tenant_id)
        if tenant is None:
            raise NotFound("tenant", tenant_id)
        return tenant  # type: ignore[no-any-return]

    def save(self, tenant: Tenant) -> None:
        self.get(tenant.id)
        self.tx.put("tenants", tenant.id, tenant)

    def list(self) -> list[Tenant]:
        return sorted(self.tx.scan("tenants"), key=lambda t: (t.created_at, t.id))

    def any_exist(self) -> bool:
        return bool(self.tx.scan("tenants"))


class InMemoryCustomerRepository:
    """Customers in memory, external ids unique per tenant."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        tx.db.table("customers", external_id=lambda c: (c.tenant_id, c.external_id))

    def add(self, customer: Customer) -> None:
        if any(
            c.tenant_id == customer.tenant_id and c.external_id == customer.external_id
            for c in self.tx.scan("customers")
        ):
            from cbp.domain.errors import AlreadyExists

            raise AlreadyExists("a customer with this external_id already exists")
        self.tx.put("customers", customer.id, customer, insert=True)

    def get(self, tenant_id: str, customer_id: str) -> Customer:
        return owned(self.tx.get("customers", customer_id), tenant_id, "customer", customer_id)  # type: ignore[no-any-return]

    def save(self, customer: Customer) -> None:
        self.get(customer.tenant_id, customer.id)
        self.tx.put("customers", customer.id, customer)

    def notify_on_of(self, customer_ids: Collection[str]) -> dict[str, tuple[StatusAlert, ...]]:
        customers = (self.tx.get("customers", customer_id) for customer_id in set(customer_ids))
        return {c.id: c.notify_on for c in customers if c is not None and c.notify_on}

    def hold(self, tenant_id: str, customer_id: str) -> None:
        """Optimistic: a commit after another holder's commit conflicts, and is run again."""
        self.get(tenant_id, customer_id)
        row = self.tx.get("customer_holds", customer_id)
        seen = ABSENT if row is None else row["version"]
        self.tx.put("customer_holds", customer_id, {"version": seen + 1}, expect_version=seen)


class InMemoryDirectoryRepository:
    """The biller directory in memory, searched by a full scan."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, payee: GlobalPayee) -> None:
        self.tx.put("directory", payee.id, payee, insert=True)
        self.tx.changes.saw(payee)

    def get(self, payee_id: str) -> GlobalPayee:
        payee = self.tx.get("directory", payee_id)
        if payee is None:
            raise NotFound("global payee", payee_id)
        return payee  # type: ignore[no-any-return]

    def save(self, payee: GlobalPayee) -> None:
        self.get(payee.id)
        self.tx.put("directory", payee.id, payee)
        self.tx.changes.saw(payee)

    def search(self, partial_name: str, *, cursor: str | None, limit: int) -> Page[GlobalPayee]:
        ranked = [
            (rank, p)
            for p in self.tx.scan("directory")
            if (rank := search_rank(p.name, p.aliases, partial_name)) is not None
        ]
        page = keyset_page(
            ranked,
            lambda rp: (rp[0], -rp[1].popularity, rp[1].name.casefold(), rp[1].id),
            cursor,
            limit,
            newest_first=False,
        )
        return Page([p for _, p in page.items], page.next_cursor)


class InMemoryPayeeRepository:
    """Customers' payees in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, payee: Payee) -> None:
        self.tx.put("payees", payee.id, payee, insert=True)
        self.tx.changes.saw(payee)

    def get(self, tenant_id: str, payee_id: str) -> Payee:
        return owned(self.tx.get("payees", payee_id), tenant_id, "payee", payee_id)  # type: ignore[no-any-return]

    def save(self, payee: Payee) -> None:
        self.get(payee.tenant_id, payee.id)
        self.tx.put("payees", payee.id, payee)
        self.tx.changes.saw(payee)

    def find(
        self, tenant_id: str, *, customer_id: str | None, cursor: str | None, limit: int
    ) -> Page[Payee]:
        rows = [
            p
            for p in self.tx.scan("payees")
            if p.tenant_id == tenant_id and customer_id in (None, p.customer_id)
        ]
        return keyset_page(rows, lambda p: (p.id,), cursor, limit, newest_first=False)


class InMemoryFundingAccountRepository:
    """Funding accounts in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, account: FundingAccount) -> None:
        self.tx.put("funding_accounts", account.id, account, insert=True)
        self.tx.changes.saw(account)

    def get(self, tenant_id: str, account_id: str) -> FundingAccount:
        row = self.tx.get("funding_accounts", account_id)
        return owned(row, tenant_id, "funding account", account_id)  # type: ignore[no-any-return]

    def save(self, account: FundingAccount) -> None:
        self.get(account.tenant_id, account.id)
        self.tx.put("funding_accounts", account.id, account)
        self.tx.changes.saw(account)

    def awaiting_micro_deposits(self, *, limit: int) -> list[FundingAccount]:
        awaiting = [
            account
            for account in self.tx.scan("funding_accounts")
            if account.verification_method is VerificationMethod.MICRO_DEPOSITS
            and account.verification_status is VerificationStatus.PENDING
        ]
        return sorted(awaiting, key=lambda account: account.id)[:limit]

    def hold(self, tenant_id: str, account_id: str) -> None:
        """Optimistic: a commit after another holder's commit conflicts, and is run again."""
        self.get(tenant_id, account_id)
        row = self.tx.get("funding_holds", account_id)
        seen = ABSENT if row is None else row["version"]
        self.tx.put("funding_holds", account_id, {"version": seen + 1}, expect_version=seen)


class InMemoryExceptionRepository:
    """Payment exceptions in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, exception: PaymentException) -> None:
        self.tx.put("exceptions", exception.id, exception, insert=True)

    def get(self, tenant_id: str, exception_id: str) -> PaymentException:
        row = self.tx.get("exceptions", exception_id)
        return owned(row, tenant_id, "exception", exception_id)  # type: ignore[no-any-return]

    def save(self, exception: PaymentException) -> None:
        self.get(exception.tenant_id, exception.id)
        self.tx.put("exceptions", exception.id, exception)

    def find(
        self,
        tenant_id: str,
        *,
        status: ExceptionStatus | None,
        cursor: str | None,
        limit: int,
        payment_id: str | None = None,
        customer_id: str | None = None,
    ) -> Page[PaymentException]:
        rows = [
            e
            for e in self.tx.scan("exceptions")
            if e.tenant_id == tenant_id
            and status in (None, e.status)
            and payment_id in (None, e.payment_id)
            and customer_id in (None, e.customer_id)
        ]
        return keyset_page(rows, lambda e: (e.id,), cursor, limit, newest_first=True)


class InMemoryNotificationRepository:
    """Notifications in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, notification: Notification) -> None:
        self.tx.put("notifications", notification.id, notification, insert=True)

    def get(self, tenant_id: str, notification_id: str) -> Notification:
        row = self.tx.get("notifications", notification_id)
        return owned(row, tenant_id, "notification", notification_id)  # type: ignore[no-any-return]

    def get_any(self, notification_id: str) -> Notification:
        row = self.tx.get("notifications", notification_id)
        if row is None:
            raise NotFound("notification", notification_id)
        return row  # type: ignore[no-any-return]

    def for_replay(
        self, tenant_id: str, channel: Channel, since: datetime, *, unsent_only: bool, limit: int
    ) -> list[Notification]:
        found = [
            n
            for n in self.tx.scan("notifications")
            if n.tenant_id == tenant_id
            and n.channel is channel
            and n.created_at >= since
            and not (unsent_only and n.status is NotificationStatus.SENT)
        ]
        return sorted(found, key=lambda n: (n.created_at, n.id))[:limit]

    def of_exceptions(self, tenant_id: str, exception_ids: Sequence[str]) -> dict[str, list[str]]:
        wanted = set(exception_ids)
        sent = sorted(
            (
                n
                for n in self.tx.scan("notifications")
                if n.tenant_id == tenant_id and n.exception_id in wanted
            ),
            key=lambda n: (n.created_at, n.id),
        )
        found: dict[str, list[str]] = {}
        for n in sent:
            found.setdefault(str(n.exception_id), []).append(n.id)
        return found

    def save(self, notification: Notification) -> None:
        self.get_any(notification.id)
        self.tx.put("notifications", notification.id, notification)


class InMemoryWebhookEndpointRepository:
    """Webhook endpoints in memory, one per tenant."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, endpoint: WebhookEndpoint) -> None:
        self.tx.put("webhook_endpoints", endpoint.tenant_id, endpoint, insert=True)

    def for_tenant(self, tenant_id: str) -> WebhookEndpoint | None:
        endpoint: WebhookEndpoint | None = self.tx.get("webhook_endpoints", tenant_id)
        return endpoint

    def save(self, endpoint: WebhookEndpoint) -> None:
        if self.for_tenant(endpoint.tenant_id) is None:
            raise NotFound("webhook endpoint", endpoint.tenant_id)
        self.tx.put("webhook_endpoints", endpoint.tenant_id, endpoint)

    def paused(self) -> int:
        return sum(
            1 for e in self.tx.scan("webhook_endpoints") if e.status is EndpointStatus.PAUSED
        )

    def save_health(self, endpoint: WebhookEndpoint) -> None:
        stored = self.for_tenant(endpoint.tenant_id)
        if stored is None or stored.id != endpoint.id:
            return  # NOTE: removed or replaced meanwhile; its health is moot
        stored.status = endpoint.status
        stored.failing_since = endpoint.failing_since
        stored.paused_at = endpoint.paused_at
        self.tx.put("webhook_endpoints", endpoint.tenant_id, stored)

    def remove(self, tenant_id: str) -> None:
        if self.for_tenant(tenant_id) is None:
            raise NotFound("webhook endpoint", tenant_id)
        self.tx.delete("webhook_endpoints", tenant_id)


class InMemoryProcessJobRepository:
    """Processing jobs in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, job: ProcessJob) -> None:
        self.tx.put("jobs", job.id, job, insert=True)

    def get(self, tenant_id: str, job_id: str) -> ProcessJob:
        return owned(self.tx.get("jobs", job_id), tenant_id, "job", job_id)  # type: ignore[no-any-return]
