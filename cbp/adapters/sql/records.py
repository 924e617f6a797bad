"""Tenants' records in SQL: tenants, customers, the directory, payees and accounts.

Also exceptions, notifications, processing jobs and webhook endpoints.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    update,
)

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.statements import (
    TRIGRAM,
    batched,
    escape_glob,
    escape_like,
    insert_row,
    keyset_page,
    one_row,
    sortable,
)
from cbp.domain.customer import Channel, Customer, StatusAlert, Tenant
from cbp.domain.directory import GlobalPayee
from cbp.domain.errors import (
    NotFound,
)
from cbp.domain.funding import FundingAccount
from cbp.domain.micro_deposits import VerificationMethod
from cbp.domain.notification import Notification, NotificationStatus
from cbp.domain.payee import Payee
from cbp.domain.payment_exception import ExceptionStatus, PaymentException
from cbp.domain.processing import ProcessJob
from cbp.domain.verification import VerificationStatus
from cbp.domain.webhook_endpoint import EndpointStatus, WebhookEndpoint
from cbp.ports.storage.events import Changes
from cbp.ports.storage.pages import Page


class SqlTenantRepository:
    """Tenants in SQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, tenant: Tenant) -> None:
        values = {
            "id": tenant.id,
            "name": tenant.name,
            "policy": codecs.policy_to_json(tenant.policy),
            "contact_email": tenant.contact_email,
            "created_at": tenant.created_at,
        }
        insert_row(self.conn, t.tenants, values, "tenant")

    def save(self, tenant: Tenant) -> None:
        result = self.conn.execute(
            update(t.tenants)
            .where(t.tenants.c.id == tenant.id)
            .values(
                name=tenant.name,
                policy=codecs.policy_to_json(tenant.policy),
                contact_email=tenant.contact_email,
            )
        )
        if result.rowcount == 0:
            raise NotFound("tenant", tenant.id)

    def list(self) -> list[Tenant]:
        rows = self.conn.execute(select(t.tenants).order_by(t.tenants.c.created_at, t.tenants.c.id))
        return [codecs.tenant_from_row(row) for row in rows]

    def get(self, tenant_id: str) -> Tenant:
        row = one_row(
            self.conn, select(t.tenants).where(t.tenants.c.id == tenant_id), "tenant", tenant_id
        )
        return codecs.tenant_from_row(row)

    def any_exist(self) -> bool:
        return self.conn.execute(select(t.tenants.c.id).limit(1)).first() is not None


def _preferences(customer: Customer) -> dict[str, list[str]]:
    return {
        "channels": [c.value for c in customer.notification_channels],
        "notify_on": [a.value for a in customer.notify_on],
    }


class SqlCustomerRepository:
    """Customers in SQL; external ids unique per tenant."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, customer: Customer) -> None:
        values = {
            "id": customer.id,
            "tenant_id": customer.tenant_id,
            "external_id": customer.external_id,
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            **_preferences(customer),
            "created_at": customer.created_at,
        }
        insert_row(self.conn, t.customers, values, "a customer with this external_id")

    def save(self, customer: Customer) -> None:
        c = t.customers.c
        self.conn.execute(
            update(t.customers)
            .where(c.id == customer.id, c.tenant_id == customer.tenant_id)
            .values(**_preferences(customer))
        )

    def get(self, tenant_id: str, customer_id: str) -> Customer:
        c = t.customers.c
        query = select(t.customers).where(c.id == customer_id, c.tenant_id == tenant_id)
        return codecs.customer_from_row(one_row(self.conn, query, "customer", customer_id))

    def notify_on_of(self, customer_ids: Collection[str]) -> dict[str, tuple[StatusAlert, ...]]:
        c = t.customers.c
        found: dict[str, tuple[StatusAlert, ...]] = {}
        for batch in batched(sorted(set(customer_ids)), 1000):
            for row in self.conn.execute(select(c.id, c.notify_on).where(c.id.in_(batch))):
                if row.notify_on:
                    found[row.id] = tuple(StatusAlert(a) for a in row.notify_on)
        return found

    def hold(self, tenant_id: str, customer_id: str) -> None:
        """A row lock on PostgreSQL; SQLite has one writer at a time already."""
        c = t.customers.c
        query = select(c.id).where(c.id == customer_id, c.tenant_id == tenant_id)
        one_row(self.conn, query.with_for_update(), "customer", customer_id)


class SqlDirectoryRepository:
    """The biller directory, searched through a trigram index."""

    def __init__(self, conn: Connection, changes: Changes) -> None:
        self.conn = conn
        self.changes = changes
        self.sqlite = conn.dialect.name == "sqlite"

    def add(self, payee: GlobalPayee) -> None:
        values = codecs.global_payee_values(payee)
        insert_row(self.conn, t.global_payees, values, "global payee")
        if self.sqlite:
            self.conn.execute(
                text("INSERT INTO directory_fts(id, search_text) VALUES (:id, :search_text)"),
                {"id": payee.id, "search_text": values["search_text"]},
            )
        self.changes.saw(payee)

    def get(self, payee_id: str) -> GlobalPayee:
        query = select(t.global_payees).where(t.global_payees.c.id == payee_id)
        return codecs.global_payee_from_row(one_row(self.conn, query, "global payee", payee_id))

    def save(self, payee: GlobalPayee) -> None:
        values = codecs.global_payee_values(payee)
        result = self.conn.execute(
            update(t.global_payees).where(t.global_payees.c.id == payee.id).values(**values)
        )
        if result.rowcount == 0:
            raise NotFound("global payee", payee.id)
        if self.sqlite:
            self.conn.execute(
                text("UPDATE directory_fts SET search_text = :search_text WHERE id = :id"),
                {"id": payee.id, "search_text": values["search_text"]},
            )
        self.changes.saw(payee)

    def search(self, partial_name: str, *, cursor: str | None, limit: int) -> Page[GlobalPayee]:
        needle = escape_like(partial_name.casefold().replace(codecs.SEPARATOR, ""))
        g = t.global_payees.c
        contains = f"%{needle}%"
        word_start = or_(
            g.search_text.like(f"%{codecs.SEPARATOR}{needle}%", escape="\\"),
            g.search_text.like(f"% {needle}%", escape="\\"),
        )
        rank = case(
            (g.name_folded.like(f"{needle}%", escape="\\"), literal(0)),
            (word_start, literal(1)),
            else_=literal(2),
        ).label("rank")
        if self.sqlite and len(partial_name) >= TRIGRAM:
            # NOTE: SQLite hands GLOB (never LIKE ... ESCAPE) to the FTS5 trigram index;
            # the text is case-folded, so GLOB's case sensitivity does no harm. Shorter
            # text has no trigram to look up, and a plain scan is faster than the probe.
            matching = g.id.in_(
                select(text("id"))
                .select_from(text("directory_fts"))
                .where(text("search_text GLOB :pattern"))
            )
        else:
            matching = g.search_text.like(contains, escape="\\")
        weight = (-g.popularity).label("weight")  # NOTE: the better known first
        ranked = select(t.global_payees, rank, weight).where(matching).subquery("ranked")
        r = ranked.c
        keys = [r.rank, r.weight, r.name_folded, r.id]
        query = sortable(select(ranked), keys).params(
            pattern=f"*{escape_glob(partial_name.casefold())}*"
        )
        rows, next_cursor = keyset_page(self.conn, query, keys, cursor, limit, newest_first=False)
        return Page([codecs.global_payee_from_row(row) for row in rows], next_cursor)


#: The shortest search text a trigram index can answer.
class SqlPayeeRepository:
    """Payees in SQL, account numbers encrypted."""

    def __init__(self, conn: Connection, cipher: FieldCipher, changes: Changes) -> None:
        self.conn = conn
        self.cipher = cipher
        self.changes = changes

    def _values(self, payee: Payee) -> dict[str, Any]:
        return {
            "id": payee.id,
            "tenant_id": payee.tenant_id,
            "customer_id": payee.customer_id,
            "global_payee_id": payee.global_payee_id,
            "name": payee.name,
            "address": codecs.address_to_json(payee.address),
            "account_number_enc": self.cipher.encrypt(payee.account_number),
            "nickname": payee.nickname,
            "lead_days": payee.lead_days,
            "status": payee.status.value,
            "verification_status": payee.verification_status.value,
            "version": payee.version,
            "created_at": payee.created_at,
        }

    def _from_row(self, row: Any) -> Payee:
        return codecs.payee_from_row(row, self.cipher.decrypt(row.account_number_enc))

    def add(self, payee: Payee) -> None:
        insert_row(self.conn, t.payees, self._values(payee), "payee")
        self.changes.saw(payee)

    def get(self, tenant_id: str, payee_id: str) -> Payee:
        c = t.payees.c
        query = select(t.payees).where(c.id == payee_id, c.tenant_id == tenant_id)
        return self._from_row(one_row(self.conn, query, "payee", payee_id))

    def save(self, payee: Payee) -> None:
        c = t.payees.c
        result = self.conn.execute(
            update(t.payees)
            .where(c.id == payee.id, c.tenant_id == payee.tenant_id)
            .values(**self._values(payee))
        )
        if result.rowcount == 0:
            raise NotFound("payee", payee.id)
        self.changes.saw(payee)

    def find(
        self, tenant_id: str, *, customer_id: str | None, cursor: str | None, limit: int
    ) -> Page[Payee]:
        c = t.payees.c
        query = select(t.payees).where(c.tenant_id == tenant_id)
        if customer_id is not None:
            query = query.where(c.customer_id == customer_id)
        keys = [c.id]
        rows, next_cursor = keyset_page(
            self.conn, sortable(query, keys), keys, cursor, limit, newest_first=False
        )
        return Page([self._from_row(row) for row in rows], next_cursor)


class SqlFundingAccountRepository:
    """Funding accounts in SQL, numbers encrypted."""

    def __init__(self, conn: Connection, cipher: FieldCipher, changes: Changes) -> None:
        self.conn = conn
        self.cipher = cipher
        self.changes = changes

    def _values(self, account: FundingAccount) -> dict[str, Any]:
        return {
            "id": account.id,
            "tenant_id": account.tenant_id,
            "customer_id": account.customer_id,
            "routing_number_enc": self.cipher.encrypt(account.routing_number),
            "account_number_enc": self.cipher.encrypt(account.account_number),
            "account_type": account.account_type.value,
            "holder_name": account.holder_name,
            "verification_status": account.verification_status.value,
            "verification_method": account.verification_method.value,
            "micro_deposits_enc": (
                None
                if account.micro_deposits is None
                else self.cipher.encrypt(codecs.micro_deposits_to_json(account.micro_deposits))
            ),
            "version": account.version,
            "created_at": account.created_at,
        }

    def add(self, account: FundingAccount) -> None:
        insert_row(self.conn, t.funding_accounts, self._values(account), "funding account")
        self.changes.saw(account)

    def get(self, tenant_id: str, account_id: str) -> FundingAccount:
        c = t.funding_accounts.c
        query = select(t.funding_accounts).where(c.id == account_id, c.tenant_id == tenant_id)
        row = one_row(self.conn, query, "funding account", account_id)
        return codecs.funding_account_from_row(row, self.cipher.decrypt)

    def awaiting_micro_deposits(self, *, limit: int) -> list[FundingAccount]:
        c = t.funding_accounts.c
        query = (
            select(t.funding_accounts)
            .where(
                c.verification_method == VerificationMethod.MICRO_DEPOSITS.value,
                c.verification_status == VerificationStatus.PENDING.value,
            )
            .order_by(c.id)
            .limit(limit)
        )
        rows = self.conn.execute(query)
        return [codecs.funding_account_from_row(row, self.cipher.decrypt) for row in rows]

    def hold(self, tenant_id: str, account_id: str) -> None:
        """A row lock on PostgreSQL; SQLite has one writer at a time already."""
        c = t.funding_accounts.c
        query = select(c.id).where(c.id == account_id, c.tenant_id == tenant_id)
        one_row(self.conn, query.with_for_update(), "funding account", account_id)

    def save(self, account: FundingAccount) -> None:
        c = t.funding_accounts.c
        result = self.conn.execute(
            update(t.funding_accounts)
            .where(c.id == account.id, c.tenant_id == account.tenant_id)
            .values(**self._values(account))
        )
        if result.rowcount == 0:
            raise NotFound("funding account", account.id)
        self.changes.saw(account)


class SqlExceptionRepository:
    """Payment exceptions in SQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, exception: PaymentException) -> None:
        insert_row(self.conn, t.payment_exceptions, codecs.exception_values(exception), "exception")

    def get(self, tenant_id: str, exception_id: str) -> PaymentException:
        c = t.payment_exceptions.c
        query = select(t.payment_exceptions).where(c.id == exception_id, c.tenant_id == tenant_id)
        return codecs.exception_from_row(one_row(self.conn, query, "exception", exception_id))

    def save(self, exception: PaymentException) -> None:
        c = t.payment_exceptions.c
        result = self.conn.execute(
            update(t.payment_exceptions)
            .where(c.id == exception.id, c.tenant_id == exception.tenant_id)
            .values(**codecs.exception_values(exception))
        )
        if result.rowcount == 0:
            raise NotFound("exception", exception.id)

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
        c = t.payment_exceptions.c
        query = select(t.payment_exceptions).where(c.tenant_id == tenant_id)
        if status is not None:
            query = query.where(c.status == status.value)
        if payment_id is not None:
            query = query.where(c.payment_id == payment_id)
        if customer_id is not None:
            query = query.where(c.customer_id == customer_id)
        keys = [c.id]
        rows, next_cursor = keyset_page(
            self.conn, sortable(query, keys), keys, cursor, limit, newest_first=True
        )
        return Page([codecs.exception_from_row(row) for row in rows], next_cursor)


class SqlNotificationRepository:
    """Notifications in SQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, notification: Notification) -> None:
        insert_row(
            self.conn, t.notifications, codecs.notification_values(notification), "notification"
        )

    def get(self, tenant_id: str, notification_id: str) -> Notification:
        c = t.notifications.c
        query = select(t.notifications).where(c.id == notification_id, c.tenant_id == tenant_id)
        return codecs.notification_from_row(
            one_row(self.conn, query, "notification", notification_id)
        )

    def get_any(self, notification_id: str) -> Notification:
        query = select(t.notifications).where(t.notifications.c.id == notification_id)
        return codecs.notification_from_row(
            one_row(self.conn, query, "notification", notification_id)
        )

    def for_replay(
        self, tenant_id: str, channel: Channel, since: datetime, *, unsent_only: bool, limit: int
    ) -> list[Notification]:
        c = t.notifications.c
        query = (
            select(t.notifications)
            .where(c.tenant_id == tenant_id, c.channel == channel.value, c.created_at >= since)
            .order_by(c.created_at, c.id)
            .limit(limit)
        )
        if unsent_only:
            query = query.where(c.status != NotificationStatus.SENT.value)
        return [codecs.notification_from_row(row) for row in self.conn.execute(query)]

    def of_exceptions(self, tenant_id: str, exception_ids: Sequence[str]) -> dict[str, list[str]]:
        if not exception_ids:
            return {}
        c = t.notifications.c
        rows = self.conn.execute(
            select(c.id, c.exception_id)
            .where(c.tenant_id == tenant_id, c.exception_id.in_(list(exception_ids)))
            .order_by(c.created_at, c.id)
        )
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row.exception_id, []).append(row.id)
        return found

    def save(self, notification: Notification) -> None:
        result = self.conn.execute(
            update(t.notifications)
            .where(t.notifications.c.id == notification.id)
            .values(**codecs.notification_values(notification))
        )
        if result.rowcount == 0:
            raise NotFound("notification", notification.id)


class SqlWebhookEndpointRepository:
    """Webhook endpoints in SQL, one per tenant, their secrets encrypted."""

    def __init__(self, conn: Connection, cipher: FieldCipher) -> None:
        self.conn = conn
        self.cipher = cipher

    def add(self, endpoint: WebhookEndpoint) -> None:
        values = codecs.webhook_endpoint_values(endpoint, self.cipher)
        insert_row(self.conn, t.webhook_endpoints, values, "webhook endpoint")

    def for_tenant(self, tenant_id: str) -> WebhookEndpoint | None:
        query = select(t.webhook_endpoints).where(t.webhook_endpoints.c.tenant_id == tenant_id)
        row = self.conn.execute(query).first()
        return None if row is None else codecs.webhook_endpoint_from_row(row, self.cipher)

    def save(self, endpoint: WebhookEndpoint) -> None:
        self._update(endpoint, codecs.webhook_endpoint_values(endpoint, self.cipher))

    def paused(self) -> int:
        c = t.webhook_endpoints.c
        query = select(func.count()).where(c.status == EndpointStatus.PAUSED.value)
        return int(self.conn.execute(query).scalar_one())

    def save_health(self, endpoint: WebhookEndpoint) -> None:
        self._update(endpoint, codecs.webhook_health_values(endpoint), missing_ok=True)

    def remove(self, tenant_id: str) -> None:
        c = t.webhook_endpoints.c
        if (
            self.conn.execute(delete(t.webhook_endpoints).where(c.tenant_id == tenant_id)).rowcount
            == 0
        ):
            raise NotFound("webhook endpoint", tenant_id)

    def _update(
        self, endpoint: WebhookEndpoint, values: dict[str, Any], *, missing_ok: bool = False
    ) -> None:
        c = t.webhook_endpoints.c
        result = self.conn.execute(
            update(t.webhook_endpoints).where(c.id == endpoint.id).values(**values)
        )
        if result.rowcount == 0 and not missing_ok:
            raise NotFound("webhook endpoint", endpoint.tenant_id)


class SqlProcessJobRepository:
    """Processing jobs in SQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, job: ProcessJob) -> None:
        values = {
            "id": job.id,
            "tenant_id": job.tenant_id,
            "payment_ids": list(job.payment_ids),
            "due_on": job.due_on,
            "send_now": job.send_now,
            "created_at": job.created_at,
        }
        insert_row(self.conn, t.process_jobs, values, "job")

    def get(self, tenant_id: str, job_id: str) -> ProcessJob:
        c = t.process_jobs.c
        query = select(t.process_jobs).where(c.id == job_id, c.tenant_id == tenant_id)
        return codecs.job_from_row(one_row(self.conn, query, "job", job_id))
