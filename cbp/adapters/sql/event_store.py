"""The event store and the event-sourced payments over it, with their views."""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    Connection,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.statements import (
    dialect_insert,
    keyset_page,
    sortable,
)
from cbp.domain.errors import (
    ConcurrencyConflict,
)
from cbp.domain.events import DomainEvent
from cbp.domain.payment import Payment, PaymentStatus
from cbp.ports.messages import (
    Headers,
)
from cbp.ports.storage import Page, PaymentFilter, StoredEvent


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

    def load_many(self, stream_ids: list[str]) -> dict[str, list[DomainEvent]]:
        if not stream_ids:
            return {}
        e = t.events.c
        rows = self.conn.execute(
            select(t.events).where(e.stream_id.in_(stream_ids)).order_by(e.stream_id, e.version)
        )
        streams: dict[str, list[DomainEvent]] = {sid: [] for sid in stream_ids}
        for row in rows:
            streams[row.stream_id].append(codecs.event_from_row(row))
        return streams

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


class SqlPaymentViews:
    """The payment_views table: what lists and sweeps select payments by."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def refresh(self, payment: Payment) -> None:
        values = {
            "tenant_id": payment.tenant_id,
            "customer_id": payment.customer_id,
            "status": payment.status.value,
            "send_on": payment.send_on,
            "version": payment.version,
        }
        upsert = dialect_insert(self.conn)(t.payment_views).values(id=payment.id, **values)
        self.conn.execute(upsert.on_conflict_do_update(index_elements=["id"], set_=values))

    def reset(self) -> None:
        self.conn.execute(delete(t.payment_views))

    def find(self, query: PaymentFilter, *, cursor: str | None, limit: int) -> Page[str]:
        v = t.payment_views.c
        select_ids = select(v.id).where(v.tenant_id == query.tenant_id)
        if query.customer_id is not None:
            select_ids = select_ids.where(v.customer_id == query.customer_id)
        if query.status is not None:
            select_ids = select_ids.where(v.status == query.status.value)
        keys = [v.id]
        rows, next_cursor = keyset_page(
            self.conn, sortable(select_ids, keys), keys, cursor, limit, newest_first=True
        )
        return Page([row.id for row in rows], next_cursor)

    def due(self, on: date, *, tenant_id: str | None, limit: int) -> list[str]:
        v = t.payment_views.c
        query = select(v.id).where(v.status == PaymentStatus.SCHEDULED.value, v.send_on <= on)
        if tenant_id is not None:
            query = query.where(v.tenant_id == tenant_id)
        return [row.id for row in self.conn.execute(query.order_by(v.id).limit(limit))]

    def in_status(self, status: PaymentStatus, *, limit: int) -> list[str]:
        v = t.payment_views.c
        query = select(v.id).where(v.status == status.value).order_by(v.id).limit(limit)
        return [row.id for row in self.conn.execute(query)]
