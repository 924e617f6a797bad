"""The outbox, the inbox and the delivery store in SQL."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union,
    update,
)

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.prepared import OverList, Prepared
from cbp.adapters.sql.rows import must_utc, utc
from cbp.adapters.sql.statements import (
    Prefixed,
    batched,
    insert_if_absent,
)
from cbp.adapters.sql.writes import Inserted, Staged, write_together
from cbp.domain.errors import IllegalTransition, NotFound
from cbp.ports.messages import Backlog, Delivery, DeliveryStatus, Message, delivery_id, stamped

#: Written into the SQL, not bound: a plan made once for many executions may then use the
#: index of pending deliveries, whose condition a bound value could not be shown to meet.
_PENDING: ColumnElement[str] = literal_column(f"'{DeliveryStatus.PENDING.value}'")

# NOTE: the statements each message and delivery runs, built once: building one cost more
# than running it
_ADD_MESSAGES = Inserted(t.outbox)
_NOTE = Inserted(t.inbox, keep_existing=True)
_CLAIM = Inserted(t.inbox)
_ADD_DELIVERIES = Prepared(insert(t.deliveries))
_SEEN = Prepared(
    select(literal(1)).where(
        t.inbox.c.consumer == bindparam("consumer"),
        t.inbox.c.message_id == bindparam("message_id"),
    )
)
_SEEN_AMONG = select(t.inbox.c.message_id).where(
    t.inbox.c.consumer == bindparam("consumer"),
    t.inbox.c.message_id.in_(bindparam("message_ids", expanding=True)),
)
# NOTE: each side reads its own index: pending deliveries by (subscriber, key), and the
# unrelayed outbox rows once for every key, where a read per key walked them each time
_OWED = union(
    select(t.deliveries.c.ordering_key).where(
        t.deliveries.c.subscriber == bindparam("subscriber"),
        t.deliveries.c.status == _PENDING,
        t.deliveries.c.ordering_key.in_(bindparam("keys", expanding=True)),
    ),
    select(t.outbox.c.ordering_key).where(
        t.outbox.c.dispatched_at.is_(None),
        t.outbox.c.destination == bindparam("destination"),
        t.outbox.c.ordering_key.in_(bindparam("keys", expanding=True)),
    ),
)
_WITH_MESSAGE = select(
    t.deliveries,
    *(c.label(f"m_{c.name}") for c in t.outbox.c if c.name != "position"),
).join(t.outbox, t.outbox.c.message_id == t.deliveries.c.message_id)
# NOTE: concurrent relays split the rows (FOR UPDATE SKIP LOCKED; SQLite has one writer)
_UNRELAYED = Prepared(
    select(t.outbox)
    .where(t.outbox.c.dispatched_at.is_(None))
    .order_by(t.outbox.c.position)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_EARLIER = t.deliveries.alias("earlier")
# NOTE: a scalar subquery per candidate, which the planner cannot turn into a join: with
# the statistics of a table that grew fast, the anti-join it chose for NOT EXISTS scanned
# every pending delivery once per candidate
_FIRST_OF_ITS_LANE = (
    select(func.min(_EARLIER.c.seq))
    .where(
        _EARLIER.c.subscriber == t.deliveries.c.subscriber,
        _EARLIER.c.ordering_key == t.deliveries.c.ordering_key,
        _EARLIER.c.status == _PENDING,
    )
    .scalar_subquery()
)
#: The deliveries that may go now, each lane's first only; claimers skip each other's rows.
_DUE = Prepared(
    select(t.deliveries.c.seq)
    .where(
        t.deliveries.c.status == _PENDING,
        t.deliveries.c.available_at <= bindparam("now"),
        or_(t.deliveries.c.leased_until.is_(None), t.deliveries.c.leased_until <= bindparam("now")),
        or_(t.deliveries.c.ordering_key.is_(None), t.deliveries.c.seq == _FIRST_OF_ITS_LANE),
    )
    .order_by(t.deliveries.c.seq)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True, of=t.deliveries)
)
_DELIVERY_BY_ID = Prepared(_WITH_MESSAGE.where(t.deliveries.c.id == bindparam("delivery_id")))
_DELIVERIES_BY_IDS = OverList(_WITH_MESSAGE.where, t.deliveries.c.id, "ids")
_DELIVERIES_BY_SEQS = OverList(
    lambda where: _WITH_MESSAGE.where(where).order_by(t.deliveries.c.seq),
    t.deliveries.c.seq,
    "seqs",
)
_LEASE = OverList(
    lambda where: (
        update(t.deliveries)
        .where(where)
        .values(attempts=t.deliveries.c.attempts + 1, leased_until=bindparam("leased_until"))
    ),
    t.deliveries.c.seq,
    "seqs",
)
# NOTE: one statement however many were staged, so a batch's count adds no new statement
_COMPLETE = OverList(
    update(t.deliveries).values(status=DeliveryStatus.DONE.value).where, t.deliveries.c.id, "ids"
)
_MARK_DISPATCHED = OverList(
    update(t.outbox).values(dispatched_at=bindparam("at")).where, t.outbox.c.message_id, "ids"
)


class SqlOutbox:
    """Outbox rows in the same database as the state they describe.

    Messages added are written together, in one multi-row insert, when the
    unit of work commits, or before this outbox next reads or changes a row.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.staged: list[Message] = []

    def add(self, message: Message) -> None:
        self.staged.append(message)

    def stamp_cause(self, correlation_id: str | None, traceparent: str | None) -> None:
        self.staged = stamped(self.staged, correlation_id, traceparent)

    def take_staged(self) -> list[Staged]:
        """The staged messages, in the order they were added, to write now."""
        rows = [codecs.message_values(message) for message in self.staged]
        self.staged = []
        return [(_ADD_MESSAGES, rows)]

    def flush(self) -> None:
        """Write the staged messages, in the order they were added."""
        write_together(self.conn, self.take_staged())

    def pending(self, limit: int) -> list[Message]:
        self.flush()
        return [codecs.message_from_row(row) for row in _UNRELAYED.all(self.conn, {"limit": limit})]

    def mark_dispatched(self, message_ids: list[str], at: datetime) -> None:
        self.flush()
        _MARK_DISPATCHED.on(self.conn).run(self.conn, {"ids": message_ids, "at": at})

    def backlog(self) -> Backlog:
        self.flush()
        o = t.outbox.c
        pending, oldest = self.conn.execute(
            select(func.count(), func.min(o.created_at)).where(o.dispatched_at.is_(None))
        ).one()
        return Backlog(pending=pending, oldest_created_at=utc(oldest))

    def purge(self, before: datetime, *, limit: int) -> int:
        self.flush()
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
    """Handled message ids; one insert-if-absent claims a message, once.

    A note (a mark nothing waits on) and a claim on commit are written
    with the unit of work's commit, or before this inbox next reads or
    claims; a claim on commit of a message already there fails that
    write, and so the commit.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.staged: list[dict[str, Any]] = []
        self.claims: list[dict[str, Any]] = []

    def seen(self, consumer: str, message_id: str) -> bool:
        self.flush()
        given = {"consumer": consumer, "message_id": message_id}
        return _SEEN.first(self.conn, given) is not None

    def seen_among(self, consumer: str, message_ids: Collection[str]) -> set[str]:
        self.flush()
        found: set[str] = set()
        for batch in batched(sorted(set(message_ids)), 1000):
            given = {"consumer": consumer, "message_ids": batch}
            found.update(self.conn.execute(_SEEN_AMONG, given).scalars())
        return found

    def claim(self, consumer: str, message_id: str, at: datetime) -> bool:
        self.flush()
        values = {"consumer": consumer, "message_id": message_id, "handled_at": at}
        return insert_if_absent(self.conn, t.inbox, values)

    def claim_on_commit(self, consumer: str, message_id: str, at: datetime) -> None:
        self.claims.append({"consumer": consumer, "message_id": message_id, "handled_at": at})

    def note(self, consumer: str, message_id: str, at: datetime) -> None:
        self.staged.append({"consumer": consumer, "message_id": message_id, "handled_at": at})

    def take_staged(self) -> list[Staged]:
        """The notes and claims staged, to write now; a note already there is left as it is."""
        notes, self.staged = self.staged, []
        claims, self.claims = self.claims, []
        return [(_NOTE, notes), (_CLAIM, claims)]

    def flush(self) -> None:
        """Write the notes and claims staged."""
        write_together(self.conn, self.take_staged())


class SqlDeliveryStore:
    """Deliveries in SQL; concurrent claimers skip each other's rows.

    A completion is staged, and written in one statement with every other
    one when the unit of work commits (with the subscriber's effect, when
    they share a unit), or before this store next reads or changes a row.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.staged: list[str] = []

    def flush(self) -> None:
        """Write the completions staged, in one statement."""
        if not self.staged:
            return
        ids, self.staged = self.staged, []
        _COMPLETE.on(self.conn).run(self.conn, {"ids": ids})

    def schedule(self, message: Message, subscribers: list[str], *, at: datetime) -> None:
        self.flush()
        if not subscribers:
            return
        _ADD_DELIVERIES.run_many(
            self.conn,
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
        self.flush()
        row = _DELIVERY_BY_ID.first(self.conn, {"delivery_id": delivery_id})
        if row is None:
            raise NotFound("delivery", delivery_id)
        return _delivery_from_row(row)

    def get_many(self, delivery_ids: Sequence[str]) -> list[Delivery]:
        self.flush()
        rows = _DELIVERIES_BY_IDS.on(self.conn).all(self.conn, {"ids": list(delivery_ids)})
        found = {row.id: _delivery_from_row(row) for row in rows}
        try:
            return [found[delivery_id] for delivery_id in delivery_ids]
        except KeyError as missing:
            raise NotFound("delivery", str(missing.args[0])) from None

    def claim_due(self, now: datetime, *, lease_seconds: float, limit: int) -> list[Delivery]:
        self.flush()
        seqs = [row.seq for row in _DUE.all(self.conn, {"now": now, "limit": limit})]
        if not seqs:
            return []
        until = now + timedelta(seconds=lease_seconds)
        _LEASE.on(self.conn).run(self.conn, {"seqs": seqs, "leased_until": until})
        rows = _DELIVERIES_BY_SEQS.on(self.conn).all(self.conn, {"seqs": seqs})
        return [_delivery_from_row(row) for row in rows]

    def complete(self, delivery_id: str, *, at: datetime) -> None:
        self.staged.append(delivery_id)

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

    def owed(self, destination: str, subscriber: str, ordering_keys: Collection[str]) -> set[str]:
        self.flush()
        found: set[str] = set()
        for batch in batched(sorted(set(ordering_keys)), 1000):
            given = {"destination": destination, "subscriber": subscriber, "keys": batch}
            found.update(self.conn.execute(_OWED, given).scalars())
        return found

    def dead_letters(self, *, limit: int, tenant_id: str | None = None) -> list[Delivery]:
        self.flush()
        d = t.deliveries.c
        where = d.status == DeliveryStatus.DEAD.value
        if tenant_id is not None:
            where = and_(where, t.outbox.c.headers["tenant_id"].as_string() == tenant_id)
        return self._load(where, limit)

    def revive(self, delivery_id: str, *, at: datetime) -> None:
        self.flush()
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
        self.flush()
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
        self.flush()
        d = t.deliveries.c
        rows = self.conn.execute(select(d.status, func.count()).group_by(d.status))
        counted = {DeliveryStatus(status): count for status, count in rows}
        return {status: counted.get(status, 0) for status in DeliveryStatus}

    def _change(self, delivery_id: str, **values: Any) -> None:
        self.flush()
        result = self.conn.execute(
            update(t.deliveries).where(t.deliveries.c.id == delivery_id).values(**values)
        )
        if result.rowcount == 0:
            raise NotFound("delivery", delivery_id)

    def _load(self, where: ColumnElement[bool], limit: int | None = None) -> list[Delivery]:
        query = _WITH_MESSAGE.where(where).order_by(t.deliveries.c.seq).limit(limit)
        return [_delivery_from_row(row) for row in self.conn.execute(query)]


def _delivery_from_row(row: Any) -> Delivery:
    """A delivery read with its message's columns, prefixed ``m_``."""
    return Delivery(
        id=row.id,
        message=codecs.message_from_row(Prefixed(row, "m_")),
        subscriber=row.subscriber,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        available_at=must_utc(row.available_at),
        leased_until=utc(row.leased_until),
        last_error=row.last_error,
    )
