"""The event store and the event-sourced payments over it, with their views."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    func,
    insert,
    select,
    tuple_,
)
from sqlalchemy.exc import IntegrityError

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.prepared import Prepared
from cbp.adapters.sql.rows import utc
from cbp.adapters.sql.statements import (
    batched,
    keyset_page,
    sortable,
    state_page,
    upsert_row,
)
from cbp.adapters.sql.writes import Inserted, Staged, write_together
from cbp.domain.directory import PayeeStatus
from cbp.domain.errors import (
    ConcurrencyConflict,
)
from cbp.domain.events import DomainEvent
from cbp.domain.payment import MOVES_NO_MONEY, Payment, PaymentSnapshot, PaymentStatus
from cbp.domain.verification import VerificationStatus
from cbp.ports.messages import (
    Headers,
)
from cbp.ports.storage.events import StoredEvent
from cbp.ports.storage.pages import Page
from cbp.ports.storage.payments import DueKey, PaymentFilter, ScheduleFilter

# NOTE: run on every command, built once: building a statement cost more than running it
_APPEND = Inserted(t.events)
_VIEW = Inserted(t.payment_views, replace_on=("id",))
_STREAM = Prepared(
    select(t.events)
    .where(t.events.c.stream_id == bindparam("stream_id"))
    .order_by(t.events.c.version)
)


class SqlEventStore:
    """Streams in one table, optimistic on a unique (stream_id, version).

    Appended events are written together when the unit of work commits, or
    before this store next reads, so that the command bus can first give
    them the headers of the command that caused them.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.staged: list[dict[str, Any]] = []

    def append(
        self, stream_id: str, events: list[DomainEvent], *, expected_version: int, headers: Headers
    ) -> None:
        """Stage events after ``expected_version``; a stale version fails as they go in.

        The stream's version is not read: events numbered after a stale
        version collide with the stored ones on the unique (stream_id,
        version) key, which is a ConcurrencyConflict when the events are
        written. Only events staged in this unit of work are checked here.
        """
        staged = [row["version"] for row in self.staged if row["stream_id"] == stream_id]
        if staged and max(staged) != expected_version:
            raise ConcurrencyConflict(
                f"stream {stream_id} is at version {max(staged)}, expected {expected_version}"
            )
        for offset, event in enumerate(events, start=1):
            if event.version != expected_version + offset:
                raise ValueError(f"event version {event.version} is out of sequence")
        self.staged += [
            {
                "stream_id": stream_id,
                "version": event.version,
                "event_id": event.event_id,
                "type": event.type,
                "data": event.data(),
                "headers": headers,
                "occurred_at": event.occurred_at,
            }
            for event in events
        ]

    def stamp_cause(self, correlation_id: str | None, traceparent: str | None) -> None:
        for row in self.staged:
            if not row["headers"].has_cause:
                row["headers"] = row["headers"].caused_by(correlation_id, traceparent)

    def take_staged(self) -> list[Staged]:
        """The staged events, in the order they were appended, to write now."""
        rows = [row | {"headers": row["headers"].as_dict()} for row in self.staged]
        self.staged = []
        return [(_APPEND, rows)]

    def flush(self) -> None:
        """Write the staged events, in the order they were appended."""
        staged = self.take_staged()
        try:
            write_together(self.conn, staged)
        except IntegrityError:
            streams = ", ".join(sorted({row["stream_id"] for _, rows in staged for row in rows}))
            raise ConcurrencyConflict(f"stream {streams} was appended to concurrently") from None

    def load(self, stream_id: str) -> list[DomainEvent]:
        self.flush()
        rows = _STREAM.all(self.conn, {"stream_id": stream_id})
        return [codecs.event_from_row(row) for row in rows]

    def last_position(self) -> int:
        self.flush()
        position = self.conn.execute(select(func.max(t.events.c.position))).scalar_one()
        return int(position or 0)

    def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        self.flush()
        e = t.events.c
        columns = [c for c in t.events.c if c.name != "headers"]  # NOTE: a replay needs none
        rows = self.conn.execute(
            select(*columns).where(e.position > after_position).order_by(e.position).limit(limit)
        ).all()
        return [
            StoredEvent(position=row.position, event=codecs.event_from_row(row)) for row in rows
        ]


class SqlPaymentViews:
    """The payment_views table: one row per payment, its whole state.

    A snapshot written in this unit of work is answered from memory when read
    back in it (the answer to the request that made the payment, say), and
    goes to the table with the unit of work's commit, or before this store
    next reads the table: nothing waits on the write, so it costs no round
    trip of its own.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.written: dict[str, PaymentSnapshot] = {}
        self.staged: dict[str, dict[str, Any]] = {}

    def refresh(self, payment: Payment) -> None:
        snapshot = payment.snapshot()
        self.written[payment.id] = snapshot
        self.staged[payment.id] = codecs.payment_view_values(snapshot)

    def take_staged(self) -> list[Staged]:
        """The snapshots staged, each payment's last, to write now."""
        rows, self.staged = list(self.staged.values()), {}
        return [(_VIEW, rows)]

    def flush(self) -> None:
        """Write the snapshots staged, each payment's last."""
        write_together(self.conn, self.take_staged())

    def clear(self) -> None:
        """Forget what this unit of work wrote or staged (it rolled back)."""
        self.written.clear()
        self.staged.clear()

    def replace_all(self, snapshots: Iterable[PaymentSnapshot]) -> None:
        self.clear()
        self.conn.execute(delete(t.payment_views))
        for batch in batched(snapshots, 1000):
            self.conn.execute(
                insert(t.payment_views), [codecs.payment_view_values(s) for s in batch]
            )

    def get(self, payment_id: str) -> PaymentSnapshot | None:
        if payment_id in self.written:
            return self.written[payment_id]  # NOTE: every staged snapshot is here
        row = self.conn.execute(
            select(t.payment_views).where(t.payment_views.c.id == payment_id)
        ).first()
        return None if row is None else codecs.payment_view_from_row(row)

    def find(
        self, query: PaymentFilter, *, cursor: str | None, limit: int
    ) -> Page[PaymentSnapshot]:
        self.flush()
        v = t.payment_views.c
        selected = select(t.payment_views).where(v.tenant_id == query.tenant_id)
        if query.customer_id is not None:
            selected = selected.where(v.customer_id == query.customer_id)
        if query.payee_id is not None:
            selected = selected.where(v.payee_id == query.payee_id)
        if query.status is not None:
            selected = selected.where(v.status == query.status.value)
        keys = [v.id]
        rows, next_cursor = keyset_page(
            self.conn, sortable(selected, keys), keys, cursor, limit, newest_first=True
        )
        return Page([codecs.payment_view_from_row(row) for row in rows], next_cursor)

    def statuses(self, tenant_id: str, payment_ids: Sequence[str]) -> list[PaymentStatus]:
        self.flush()
        v = t.payment_views.c
        found: list[PaymentStatus] = []
        for batch in batched(payment_ids, 1000):
            query = select(v.status).where(v.tenant_id == tenant_id, v.id.in_(batch))
            found.extend(PaymentStatus(status) for status in self.conn.scalars(query))
        return found

    def due(
        self, on: date, *, tenant_id: str | None, limit: int, after: DueKey | None = None
    ) -> list[PaymentSnapshot]:
        self.flush()
        v = t.payment_views.c
        query = select(t.payment_views).where(
            v.status == PaymentStatus.SCHEDULED.value, v.send_on <= on
        )
        if tenant_id is not None:
            query = query.where(v.tenant_id == tenant_id)
        if after is not None:
            query = query.where(tuple_(v.send_on, v.id) > tuple_(*after))
        rows = self.conn.execute(query.order_by(v.send_on, v.id).limit(limit))
        return [codecs.payment_view_from_row(row) for row in rows]

    def in_status(
        self, status: PaymentStatus, *, limit: int, after: str | None = None
    ) -> list[PaymentSnapshot]:
        self.flush()
        v = t.payment_views.c
        query = select(t.payment_views).where(v.status == status.value)
        if after is not None:
            query = query.where(v.id > after)
        query = query.order_by(v.id).limit(limit)
        return [codecs.payment_view_from_row(row) for row in self.conn.execute(query)]

    def overdue(self, before: date) -> int:
        self.flush()
        v = t.payment_views.c
        query = select(func.count()).where(
            v.status == PaymentStatus.SCHEDULED.value, v.send_on < before
        )
        return int(self.conn.execute(query).scalar_one())

    def oldest_change(self, status: PaymentStatus) -> datetime | None:
        self.flush()
        v = t.payment_views.c
        oldest = self.conn.execute(
            select(func.min(v.updated_at)).where(v.status == status.value)
        ).scalar_one()
        return utc(oldest)

    def held_on_answered_payees(self, *, limit: int) -> list[PaymentSnapshot]:
        self.flush()
        v, payee = t.payment_views.c, t.payees.c
        query = (
            select(t.payment_views)
            .join(t.payees, (payee.id == v.payee_id) & (payee.tenant_id == v.tenant_id))
            .where(
                v.status == PaymentStatus.HELD.value,
                payee.verification_status != VerificationStatus.PENDING.value,
                payee.status != PayeeStatus.SUSPENDED.value,
            )
            .order_by(v.id)
            .limit(limit)
        )
        return [codecs.payment_view_from_row(row) for row in self.conn.execute(query)]

    def amounts_sent_on(self, tenant_id: str, customer_id: str, send_on: date) -> list[Decimal]:
        self.flush()
        v = t.payment_views.c
        query = select(v.amount).where(
            v.tenant_id == tenant_id,
            v.customer_id == customer_id,
            v.send_on == send_on,
            v.status.not_in([s.value for s in MOVES_NO_MONEY]),
        )
        return [Decimal(amount) for amount in self.conn.scalars(query)]


class SqlScheduleViews:
    """The schedule_views table: one row per recurring schedule, its whole state as JSON."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def refresh(self, state: dict[str, Any], next_send_on: date | None) -> None:
        values = {
            "id": state["id"],
            "tenant_id": state["tenant_id"],
            "customer_id": state["customer_id"],
            "status": state["status"],
            "next_send_on": next_send_on,
            "state": state,
        }
        upsert_row(self.conn, t.schedule_views, values)

    def get(self, schedule_id: str) -> dict[str, Any] | None:
        v = t.schedule_views.c
        return self.conn.execute(select(v.state).where(v.id == schedule_id)).scalar()

    def find(
        self, query: ScheduleFilter, *, cursor: str | None, limit: int
    ) -> Page[dict[str, Any]]:
        filters = {
            "customer_id": query.customer_id,
            "status": None if query.status is None else query.status.value,
        }
        return state_page(
            self.conn, t.schedule_views, query.tenant_id, filters, cursor=cursor, limit=limit
        )

    def due(self, by: date, *, limit: int) -> list[tuple[str, str]]:
        v = t.schedule_views.c
        query = select(v.tenant_id, v.id).where(v.next_send_on <= by)
        rows = self.conn.execute(query.order_by(v.next_send_on, v.id).limit(limit))
        return [(row.tenant_id, row.id) for row in rows]
