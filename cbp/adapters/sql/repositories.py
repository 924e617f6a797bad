"""SQLAlchemy repositories: every storage port over one open transaction.

Statements run at once on the unit of work's connection, so a unique-key
or stream-version clash surfaces at the call that caused it, as a domain
error, and a unit of work reads its own writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.crypto import FieldCipher
from cbp.domain.access import ApiKey
from cbp.domain.audit import AuditEntry
from cbp.domain.customer import Channel, Customer, Tenant
from cbp.domain.directory import GlobalPayee
from cbp.domain.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
)
from cbp.domain.events import DomainEvent
from cbp.domain.funding import FundingAccount
from cbp.domain.idempotency import IdempotencyRecord
from cbp.domain.notification import Notification, NotificationStatus
from cbp.domain.payee import Payee
from cbp.domain.payment import Payment, PaymentStatus
from cbp.domain.payment_exception import ExceptionStatus, PaymentException
from cbp.domain.processing import ProcessJob
from cbp.domain.webhook_endpoint import WebhookEndpoint
from cbp.ports.messages import (
    Backlog,
    Delivery,
    DeliveryStatus,
    Headers,
    Message,
    delivery_id,
)
from cbp.ports.pagination import decode_cursor, encode_cursor
from cbp.ports.storage import EventSourcedPayments, Page, PaymentFilter, StoredEvent


def _insert(conn: Connection, table: Table, values: dict[str, Any], what: str) -> None:
    """Insert a row; a duplicate key is AlreadyExists.

    NOTE: on PostgreSQL the failed insert aborts the transaction; no caller
    goes on after AlreadyExists, and the unit of work rolls back on exit.
    """
    try:
        conn.execute(insert(table).values(**values))
    except IntegrityError:
        raise AlreadyExists(f"{what} already exists") from None


def _one(conn: Connection, query: Select[Any], kind: str, record_id: str) -> Any:
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(kind, record_id)
    return row


def _keyset_page(
    conn: Connection,
    query: Select[Any],
    keys: Sequence[Any],
    cursor: str | None,
    limit: int,
    *,
    newest_first: bool,
) -> tuple[list[Any], str | None]:
    """Rows after ``cursor`` ordered by ``keys``, and the cursor of the next page."""
    if cursor is not None:
        after = decode_cursor(cursor)
        if len(after) != len(keys):
            raise InvalidInput("cursor is not valid")
        bound = tuple_(*keys)
        query = query.where(bound < tuple_(*after) if newest_first else bound > tuple_(*after))
    order = [k.desc() if newest_first else k.asc() for k in keys]
    rows = list(conn.execute(query.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        encode_cursor([getattr(rows[-1], "_sort_" + str(i)) for i in range(len(keys))])
        if more and rows
        else None
    )
    return rows, next_cursor


def _sortable(query: Select[Any], keys: Sequence[Any]) -> Select[Any]:
    return query.add_columns(*(k.label(f"_sort_{i}") for i, k in enumerate(keys)))


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
        _insert(self.conn, t.tenants, values, "tenant")

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
        row = _one(
            self.conn, select(t.tenants).where(t.tenants.c.id == tenant_id), "tenant", tenant_id
        )
        return codecs.tenant_from_row(row)

    def any_exist(self) -> bool:
        return self.conn.execute(select(t.tenants.c.id).limit(1)).first() is not None


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
            "channels": [c.value for c in customer.notification_channels],
            "created_at": customer.created_at,
        }
        _insert(self.conn, t.customers, values, "a customer with this external_id")

    def get(self, tenant_id: str, customer_id: str) -> Customer:
        c = t.customers.c
        query = select(t.customers).where(c.id == customer_id, c.tenant_id == tenant_id)
        return codecs.customer_from_row(_one(self.conn, query, "customer", customer_id))


class SqlDirectoryRepository:
    """The biller directory, searched through a trigram index."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"

    def add(self, payee: GlobalPayee) -> None:
        values = codecs.global_payee_values(payee)
        _insert(self.conn, t.global_payees, values, "global payee")
        if self.sqlite:
            self.conn.execute(
                text("INSERT INTO directory_fts(id, search_text) VALUES (:id, :search_text)"),
                {"id": payee.id, "search_text": values["search_text"]},
            )

    def get(self, payee_id: str) -> GlobalPayee:
        query = select(t.global_payees).where(t.global_payees.c.id == payee_id)
        return codecs.global_payee_from_row(_one(self.conn, query, "global payee", payee_id))

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

    def search(self, partial_name: str, *, cursor: str | None, limit: int) -> Page[GlobalPayee]:
        needle = _escape_like(partial_name.casefold().replace(codecs.SEPARATOR, ""))
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
        if self.sqlite and len(partial_name) >= _TRIGRAM:
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
        query = _sortable(select(ranked), keys).params(
            pattern=f"*{_escape_glob(partial_name.casefold())}*"
        )
        rows, next_cursor = _keyset_page(self.conn, query, keys, cursor, limit, newest_first=False)
        return Page([codecs.global_payee_from_row(row) for row in rows], next_cursor)


#: The shortest search text a trigram index can answer.
_TRIGRAM = 3


def _dialect_insert(conn: Connection) -> Callable[[Any], Any]:
    """The INSERT construct with ON CONFLICT support for this connection's dialect."""
    return sqlite_insert if conn.dialect.name == "sqlite" else pg_insert


def _escape_glob(value: str) -> str:
    return value.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlPayeeRepository:
    """Payees in SQL, account numbers encrypted."""

    def __init__(self, conn: Connection, cipher: FieldCipher) -> None:
        self.conn = conn
        self.cipher = cipher

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
        _insert(self.conn, t.payees, self._values(payee), "payee")

    def get(self, tenant_id: str, payee_id: str) -> Payee:
        c = t.payees.c
        query = select(t.payees).where(c.id == payee_id, c.tenant_id == tenant_id)
        return self._from_row(_one(self.conn, query, "payee", payee_id))

    def save(self, payee: Payee) -> None:
        c = t.payees.c
        result = self.conn.execute(
            update(t.payees)
            .where(c.id == payee.id, c.tenant_id == payee.tenant_id)
            .values(**self._values(payee))
        )
        if result.rowcount == 0:
            raise NotFound("payee", payee.id)

    def find(
        self, tenant_id: str, *, customer_id: str | None, cursor: str | None, limit: int
    ) -> Page[Payee]:
        c = t.payees.c
        query = select(t.payees).where(c.tenant_id == tenant_id)
        if customer_id is not None:
            query = query.where(c.customer_id == customer_id)
        keys = [c.id]
        rows, next_cursor = _keyset_page(
            self.conn, _sortable(query, keys), keys, cursor, limit, newest_first=False
        )
        return Page([self._from_row(row) for row in rows], next_cursor)


class SqlFundingAccountRepository:
    """Funding accounts in SQL, numbers encrypted."""

    def __init__(self, conn: Connection, cipher: FieldCipher) -> None:
        self.conn = conn
        self.cipher = cipher

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
            "version": account.version,
            "created_at": account.created_at,
        }

    def add(self, account: FundingAccount) -> None:
        _insert(self.conn, t.funding_accounts, self._values(account), "funding account")

    def get(self, tenant_id: str, account_id: str) -> FundingAccount:
        c = t.funding_accounts.c
        query = select(t.funding_accounts).where(c.id == account_id, c.tenant_id == tenant_id)
        row = _one(self.conn, query, "funding account", account_id)
        return codecs.funding_account_from_row(
            row,
            self.cipher.decrypt(row.routing_number_enc),
            self.cipher.decrypt(row.account_number_enc),
        )

    def save(self, account: FundingAccount) -> None:
        c = t.funding_accounts.c
        result = self.conn.execute(
            update(t.funding_accounts)
            .where(c.id == account.id, c.tenant_id == account.tenant_id)
            .values(**self._values(account))
        )
        if result.rowcount == 0:
            raise NotFound("funding account", account.id)


class SqlEventStore:
    """Streams in one table, optimistic on a unique (stream_id, version)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(
        self, stream_id: str, events: list[DomainEvent], *, expected_version: int, headers: Headers
    ) -> None:
        e = t.events.c
        current = self.conn.execute(
            select(func.coalesce(func.max(e.version), 0)).where(e.stream_id == stream_id)
        ).scalar_one()
        if current != expected_version:
            raise ConcurrencyConflict(
                f"stream {stream_id} is at version {current}, expected {expected_version}"
            )
        rows = [
            {
                "stream_id": stream_id,
                "version": event.version,
                "event_id": event.event_id,
                "type": event.type,
                "data": event.data(),
                "headers": headers.as_dict(),
                "occurred_at": event.occurred_at,
            }
            for event in events
        ]
        for offset, event in enumerate(events, start=1):
            if event.version != expected_version + offset:
                raise ValueError(f"event version {event.version} is out of sequence")
        try:
            self.conn.execute(insert(t.events), rows)
        except IntegrityError:
            raise ConcurrencyConflict(f"stream {stream_id} was appended to concurrently") from None

    def load(self, stream_id: str) -> list[DomainEvent]:
        e = t.events.c
        rows = self.conn.execute(
            select(t.events).where(e.stream_id == stream_id).order_by(e.version)
        )
        return [codecs.event_from_row(row) for row in rows]

    def last_position(self) -> int:
        position = self.conn.execute(select(func.max(t.events.c.position))).scalar_one()
        return int(position or 0)

    def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        e = t.events.c
        rows = self.conn.execute(
            select(t.events).where(e.position > after_position).order_by(e.position).limit(limit)
        )
        return [
            StoredEvent(
                position=row.position,
                event=codecs.event_from_row(row),
                headers=Headers(**row.headers),
            )
            for row in rows
        ]


class SqlPaymentRepository(EventSourcedPayments):
    """Payments replayed from the event store, listed through their view."""

    def __init__(self, conn: Connection, events: SqlEventStore) -> None:
        self.conn = conn
        self.events = events

    def rebuild_view(self, payment: Payment) -> None:
        values = {
            "tenant_id": payment.tenant_id,
            "customer_id": payment.customer_id,
            "status": payment.status.value,
            "send_on": payment.send_on,
            "version": payment.version,
        }
        upsert = _dialect_insert(self.conn)(t.payment_views).values(id=payment.id, **values)
        self.conn.execute(upsert.on_conflict_do_update(index_elements=["id"], set_=values))

    def reset_views(self) -> None:
        self.conn.execute(delete(t.payment_views))

    def _load_all(self, ids: list[str]) -> list[Payment]:
        if not ids:
            return []
        e = t.events.c
        rows = self.conn.execute(
            select(t.events).where(e.stream_id.in_(ids)).order_by(e.stream_id, e.version)
        )
        streams: dict[str, list[DomainEvent]] = {pid: [] for pid in ids}
        for row in rows:
            streams[row.stream_id].append(codecs.event_from_row(row))
        return [Payment.replay(pid, streams[pid]) for pid in ids]

    def find(self, query: PaymentFilter, *, cursor: str | None, limit: int) -> Page[Payment]:
        v = t.payment_views.c
        select_ids = select(v.id).where(v.tenant_id == query.tenant_id)
        if query.customer_id is not None:
            select_ids = select_ids.where(v.customer_id == query.customer_id)
        if query.status is not None:
            select_ids = select_ids.where(v.status == query.status.value)
        keys = [v.id]
        rows, next_cursor = _keyset_page(
            self.conn, _sortable(select_ids, keys), keys, cursor, limit, newest_first=True
        )
        return Page(self._load_all([row.id for row in rows]), next_cursor)

    def due(self, on: date, *, tenant_id: str | None = None, limit: int = 1000) -> list[Payment]:
        v = t.payment_views.c
        query = select(v.id).where(v.status == PaymentStatus.SCHEDULED.value, v.send_on <= on)
        if tenant_id is not None:
            query = query.where(v.tenant_id == tenant_id)
        ids = [row.id for row in self.conn.execute(query.order_by(v.id).limit(limit))]
        return self._load_all(ids)

    def in_status(self, status: PaymentStatus, *, limit: int = 1000) -> list[Payment]:
        v = t.payment_views.c
        query = select(v.id).where(v.status == status.value).order_by(v.id).limit(limit)
        return self._load_all([row.id for row in self.conn.execute(query)])


class SqlExceptionRepository:
    """Payment exceptions in SQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, exception: PaymentException) -> None:
        _insert(self.conn, t.payment_exceptions, codecs.exception_values(exception), "exception")

    def get(self, tenant_id: str, exception_id: str) -> PaymentException:
        c = t.payment_exceptions.c
        query = select(t.payment_exceptions).where(c.id == exception_id, c.tenant_id == tenant_id)
        return codecs.exception_from_row(_one(self.conn, query, "exception", exception_id))

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
        self, tenant_id: str, *, status: ExceptionStatus | None, cursor: str | None, limit: int
    ) -> Page[PaymentException]:
        c = t.payment_exceptions.c
        query = select(t.payment_exceptions).where(c.tenant_id == tenant_id)
        if status is not None:
            query = query.where(c.status == status.value)
        keys = [c.id]
        rows, next_cursor = _keyset_page(
            self.conn, _sortable(query, keys), keys, cursor, limit, newest_first=True
        )
        return Page([codecs.exception_from_row(row) for row in rows], next_cursor)


class SqlNotificationRepository:
    """Notifications in SQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, notification: Notification) -> None:
        _insert(
            self.conn, t.notifications, codecs.notification_values(notification), "notification"
        )

    def get(self, tenant_id: str, notification_id: str) -> Notification:
        c = t.notifications.c
        query = select(t.notifications).where(c.id == notification_id, c.tenant_id == tenant_id)
        return codecs.notification_from_row(_one(self.conn, query, "notification", notification_id))

    def get_any(self, notification_id: str) -> Notification:
        query = select(t.notifications).where(t.notifications.c.id == notification_id)
        return codecs.notification_from_row(_one(self.conn, query, "notification", notification_id))

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
        _insert(self.conn, t.webhook_endpoints, values, "webhook endpoint")

    def for_tenant(self, tenant_id: str) -> WebhookEndpoint | None:
        query = select(t.webhook_endpoints).where(t.webhook_endpoints.c.tenant_id == tenant_id)
        row = self.conn.execute(query).first()
        return None if row is None else codecs.webhook_endpoint_from_row(row, self.cipher)

    def save(self, endpoint: WebhookEndpoint) -> None:
        self._update(endpoint, codecs.webhook_endpoint_values(endpoint, self.cipher))

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
        _insert(self.conn, t.process_jobs, values, "job")

    def get(self, tenant_id: str, job_id: str) -> ProcessJob:
        c = t.process_jobs.c
        query = select(t.process_jobs).where(c.id == job_id, c.tenant_id == tenant_id)
        return codecs.job_from_row(_one(self.conn, query, "job", job_id))


class SqlApiKeyRepository:
    """API keys in SQL (hashes only)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _values(self, key: ApiKey) -> dict[str, Any]:
        return {
            "id": key.id,
            "tenant_id": key.tenant_id,
            "secret_hash": key.secret_hash,
            "scopes": sorted(s.value for s in key.scopes),
            "name": key.name,
            "created_at": key.created_at,
            "revoked_at": key.revoked_at,
        }

    def add(self, key: ApiKey) -> None:
        _insert(self.conn, t.api_keys, self._values(key), "api key")

    def get(self, key_id: str) -> ApiKey:
        query = select(t.api_keys).where(t.api_keys.c.id == key_id)
        return codecs.api_key_from_row(_one(self.conn, query, "api key", key_id))

    def list(self, tenant_id: str | None = None) -> list[ApiKey]:
        c = t.api_keys.c
        query = select(t.api_keys).order_by(c.created_at, c.id)
        if tenant_id is not None:
            query = query.where(c.tenant_id == tenant_id)
        return [codecs.api_key_from_row(row) for row in self.conn.execute(query)]

    def save(self, key: ApiKey) -> None:
        result = self.conn.execute(
            update(t.api_keys).where(t.api_keys.c.id == key.id).values(**self._values(key))
        )
        if result.rowcount == 0:
            raise NotFound("api key", key.id)


class SqlIdempotencyStore:
    """Idempotency records; the claim is one atomic insert-if-absent."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        values = {
            "tenant_id": record.tenant_id,
            "key": record.key,
            "fingerprint": record.fingerprint,
            "state": record.state.value,
            "created_at": record.created_at,
            "expires_at": record.expires_at,
        }
        claimed = self.conn.execute(
            _dialect_insert(self.conn)(t.idempotency_records)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(t.idempotency_records.c.key)
        ).first()
        if claimed is not None:
            return None
        c = t.idempotency_records.c
        row = self.conn.execute(
            select(t.idempotency_records).where(
                c.tenant_id == record.tenant_id, c.key == record.key
            )
        ).one()
        return codecs.idempotency_from_row(row)

    def save(self, record: IdempotencyRecord) -> None:
        c = t.idempotency_records.c
        self.conn.execute(
            update(t.idempotency_records)
            .where(c.tenant_id == record.tenant_id, c.key == record.key)
            .values(
                state=record.state.value,
                response_status=record.response_status,
                response_body=record.response_body,
            )
        )

    def release(self, tenant_id: str, key: str) -> None:
        c = t.idempotency_records.c
        self.conn.execute(
            delete(t.idempotency_records).where(c.tenant_id == tenant_id, c.key == key)
        )

    def purge_expired(self, now: datetime) -> int:
        result = self.conn.execute(
            delete(t.idempotency_records).where(t.idempotency_records.c.expires_at <= now)
        )
        return int(result.rowcount)


class SqlAuditLog:
    """The audit chain; entries are chained when their transaction commits.

    ``append`` only stages an entry. ``chain_staged`` runs just before the
    commit, under a lock every writer of the chain takes, and links the
    staged entries to the committed head, so concurrent writers leave one
    chain in commit order.
    """

    def __init__(self, conn: Connection, key: bytes) -> None:
        self.conn = conn
        self.key = key
        self.staged: list[AuditEntry] = []

    def last(self) -> AuditEntry | None:
        if self.staged:
            return self.staged[-1]
        return self._head()

    def _head(self) -> AuditEntry | None:
        row = self.conn.execute(
            select(t.audit_log).order_by(t.audit_log.c.sequence.desc()).limit(1)
        ).first()
        return None if row is None else codecs.audit_from_row(row)

    def append(self, entry: AuditEntry) -> None:
        self.staged.append(entry)

    def entries(self, *, after_sequence: int = 0, limit: int = 1000) -> list[AuditEntry]:
        a = t.audit_log.c
        rows = self.conn.execute(
            select(t.audit_log).where(a.sequence > after_sequence).order_by(a.sequence).limit(limit)
        )
        return [codecs.audit_from_row(row) for row in rows]

    def chain_staged(self) -> None:
        """Link the staged entries to the committed head and write them."""
        if not self.staged:
            return
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK})
        head = self._head()
        rows = []
        for draft in self.staged:
            head = AuditEntry.chain(
                head,
                key=self.key,
                tenant_id=draft.tenant_id,
                actor=draft.actor,
                action=draft.action,
                subject_id=draft.subject_id,
                data=draft.data,
                recorded_at=draft.recorded_at,
            )
            rows.append(codecs.audit_values(head))
        self.conn.execute(insert(t.audit_log), rows)
        self.staged.clear()


#: The advisory lock id that serializes appends to the audit chain on PostgreSQL.
_AUDIT_LOCK = 0x0CB9_A0D1


class SqlOutbox:
    """Outbox rows in the same database as the state they describe."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, message: Message) -> None:
        self.conn.execute(insert(t.outbox).values(**codecs.message_values(message)))

    def pending(self, limit: int) -> list[Message]:
        o = t.outbox.c
        query = select(t.outbox).where(o.dispatched_at.is_(None)).order_by(o.position).limit(limit)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # NOTE: concurrent relays split rows
        return [codecs.message_from_row(row) for row in self.conn.execute(query)]

    def mark_dispatched(self, message_ids: list[str], at: datetime) -> None:
        self.conn.execute(
            update(t.outbox).where(t.outbox.c.message_id.in_(message_ids)).values(dispatched_at=at)
        )

    def backlog(self) -> Backlog:
        o = t.outbox.c
        pending, oldest = self.conn.execute(
            select(func.count(), func.min(o.created_at)).where(o.dispatched_at.is_(None))
        ).one()
        return Backlog(pending=pending, oldest_created_at=codecs.utc(oldest))

    def purge(self, before: datetime, *, limit: int) -> int:
        o, d = t.outbox.c, t.deliveries.c
        still_owed = select(literal(1)).where(d.message_id == o.message_id).exists()
        old = (
            select(o.position)
            .where(o.dispatched_at.is_not(None), o.created_at < before, ~still_owed)
            .order_by(o.position)
            .limit(limit)
        )
        result = self.conn.execute(delete(t.outbox).where(o.position.in_(old.scalar_subquery())))
        return int(result.rowcount)


class SqlInbox:
    """Handled message ids; the primary key makes a second consumption fail."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def seen(self, consumer: str, message_id: str) -> bool:
        i = t.inbox.c
        query = select(literal(1)).where(and_(i.consumer == consumer, i.message_id == message_id))
        return self.conn.execute(query).first() is not None

    def record(self, consumer: str, message_id: str, at: datetime) -> None:
        try:
            self.conn.execute(
                insert(t.inbox).values(consumer=consumer, message_id=message_id, handled_at=at)
            )
        except IntegrityError:
            raise ConcurrencyConflict("message was consumed by another transaction") from None


class SqlDeliveryStore:
    """Deliveries in SQL; concurrent claimers skip each other's rows."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def schedule(self, message: Message, subscribers: list[str], *, at: datetime) -> None:
        if not subscribers:
            return
        self.conn.execute(
            insert(t.deliveries),
            [
                {
                    "id": delivery_id(message.message_id, subscriber),
                    "message_id": message.message_id,
                    "subscriber": subscriber,
                    "ordering_key": message.ordering_key,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "available_at": at,
                    "created_at": at,
                }
                for subscriber in subscribers
            ],
        )

    def get(self, delivery_id: str) -> Delivery:
        found = self._load(select(t.deliveries).where(t.deliveries.c.id == delivery_id))
        if not found:
            raise NotFound("delivery", delivery_id)
        return found[0]

    def claim_due(self, now: datetime, *, lease_seconds: float, limit: int) -> list[Delivery]:
        d = t.deliveries.c
        earlier = t.deliveries.alias("earlier")
        waits_for_earlier = (
            select(literal(1))
            .where(
                earlier.c.subscriber == d.subscriber,
                earlier.c.ordering_key == d.ordering_key,
                earlier.c.seq < d.seq,
                earlier.c.status == DeliveryStatus.PENDING.value,
            )
            .exists()
        )
        due = (
            select(d.seq)
            .where(
                d.status == DeliveryStatus.PENDING.value,
                d.available_at <= now,
                or_(d.leased_until.is_(None), d.leased_until <= now),
                ~waits_for_earlier,
            )
            .order_by(d.seq)
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True, of=t.deliveries)
        seqs = [row.seq for row in self.conn.execute(due)]
        if not seqs:
            return []
        self.conn.execute(
            update(t.deliveries)
            .where(d.seq.in_(seqs))
            .values(attempts=d.attempts + 1, leased_until=now + timedelta(seconds=lease_seconds))
        )
        return self._load(select(t.deliveries).where(d.seq.in_(seqs)))

    def complete(self, delivery_id: str, *, at: datetime) -> None:
        self._change(delivery_id, status=DeliveryStatus.DONE.value)

    def fail(self, delivery_id: str, *, error: str, retry_at: datetime | None) -> None:
        values: dict[str, Any] = {"leased_until": None, "last_error": error}
        if retry_at is None:
            values["status"] = DeliveryStatus.DEAD.value
        else:
            values["available_at"] = retry_at
        self._change(delivery_id, **values)

    def defer(self, delivery_id: str, *, until: datetime, reason: str) -> None:
        d = t.deliveries.c
        self._change(
            delivery_id,
            available_at=until,
            leased_until=None,
            last_error=reason,
            attempts=case((d.attempts > 0, d.attempts - 1), else_=0),
        )

    def owed(self, destination: str, subscriber: str, ordering_key: str) -> bool:
        d, o = t.deliveries.c, t.outbox.c
        pending = select(literal(1)).where(
            d.subscriber == subscriber,
            d.ordering_key == ordering_key,
            d.status == DeliveryStatus.PENDING.value,
        )
        unrelayed = select(literal(1)).where(
            o.dispatched_at.is_(None), o.destination == destination, o.ordering_key == ordering_key
        )
        return bool(self.conn.execute(select(or_(pending.exists(), unrelayed.exists()))).scalar())

    def dead_letters(self, *, limit: int, tenant_id: str | None = None) -> list[Delivery]:
        d = t.deliveries.c
        query = select(t.deliveries).where(d.status == DeliveryStatus.DEAD.value)
        if tenant_id is not None:
            o = t.outbox.c
            owned = select(o.message_id).where(o.headers["tenant_id"].as_string() == tenant_id)
            query = query.where(d.message_id.in_(owned))
        return self._load(query.limit(limit))

    def revive(self, delivery_id: str, *, at: datetime) -> None:
        d = t.deliveries.c
        status = self.conn.execute(select(d.status).where(d.id == delivery_id)).scalar()
        if status is None:
            raise NotFound("delivery", delivery_id)
        if status != DeliveryStatus.DEAD.value:
            raise IllegalTransition("delivery", status, "revive")
        self._change(
            delivery_id,
            status=DeliveryStatus.PENDING.value,
            attempts=0,
            available_at=at,
            leased_until=None,
        )

    def purge_done(self, before: datetime, *, limit: int) -> int:
        d = t.deliveries.c
        old = (
            select(d.seq)
            .where(d.status == DeliveryStatus.DONE.value, d.created_at < before)
            .order_by(d.seq)
            .limit(limit)
        )
        result = self.conn.execute(delete(t.deliveries).where(d.seq.in_(old.scalar_subquery())))
        return int(result.rowcount)

    def counts(self) -> dict[DeliveryStatus, int]:
        d = t.deliveries.c
        rows = self.conn.execute(select(d.status, func.count()).group_by(d.status))
        counted = {DeliveryStatus(status): count for status, count in rows}
        return {status: counted.get(status, 0) for status in DeliveryStatus}

    def _change(self, delivery_id: str, **values: Any) -> None:
        result = self.conn.execute(
            update(t.deliveries).where(t.deliveries.c.id == delivery_id).values(**values)
        )
        if result.rowcount == 0:
            raise NotFound("delivery", delivery_id)

    def _load(self, query: Select[Any]) -> list[Delivery]:
        d = t.deliveries.c
        joined = query.add_columns(
            *(c.label(f"m_{c.name}") for c in t.outbox.c if c.name != "position")
        ).join(t.outbox, t.outbox.c.message_id == d.message_id)
        rows = self.conn.execute(joined.order_by(d.seq))
        return [
            Delivery(
                id=row.id,
                message=codecs.message_from_row(_Prefixed(row, "m_")),
                subscriber=row.subscriber,
                status=DeliveryStatus(row.status),
                attempts=row.attempts,
                available_at=codecs.must_utc(row.available_at),
                leased_until=codecs.utc(row.leased_until),
                last_error=row.last_error,
            )
            for row in rows
        ]


class _Prefixed:
    """A view of a row's columns that share a prefix, without it."""

    def __init__(self, row: Any, prefix: str) -> None:
        self._row = row
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)
