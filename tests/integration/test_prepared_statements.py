"""Prepared statements answer alike on SQLite (through SQLAlchemy) and PostgreSQL (on psycopg)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, bindparam, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from cbp.adapters.sql import schema as t
from cbp.adapters.sql.prepared import Prepared
from cbp.ports.errors import DependencyUnavailable
from tests.databases import drop_every_connection

pytestmark = pytest.mark.services

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

ADD_EVENTS = Prepared(insert(t.events))
STREAM = Prepared(
    select(t.events.c.version, t.events.c.data, t.events.c.headers, t.events.c.occurred_at)
    .where(t.events.c.stream_id == bindparam("stream_id"))
    .order_by(t.events.c.version)
)
RETYPE = Prepared(
    update(t.events)
    .where(t.events.c.stream_id == bindparam("stream"))
    .values(type=bindparam("new_type"))
)
ADD_TENANT = Prepared(insert(t.tenants))
CLOSE = Prepared(
    update(t.events).where(t.events.c.stream_id == bindparam("stream")).values(type="closed")
)
HAS_VERSION = Prepared(
    select(literal(1)).where(
        t.events.c.stream_id == bindparam("stream_id"), t.events.c.version == bindparam("version")
    )
)
AMONG = Prepared(
    select(t.events.c.version).where(t.events.c.version.in_(bindparam("versions", expanding=True)))
)


def event_row(version: int, **data: object) -> dict[str, object]:
    return {
        "stream_id": "payment-1",
        "version": version,
        "event_id": f"event-{version}",
        "type": "payment.created",
        "data": data,
        "headers": {"actor": "tester"},
        "occurred_at": AT,
    }


def test_rows_written_many_at_once_read_back_with_their_json_and_times(
    either_engine: Engine,
) -> None:
    with either_engine.connect() as conn:
        ADD_EVENTS.run_many(conn, [event_row(1, amount="10.00"), event_row(2, memo="rent\u00e9")])
        conn.commit()
    with either_engine.connect() as conn:
        rows = STREAM.all(conn, {"stream_id": "payment-1"})
        first = STREAM.first(conn, {"stream_id": "payment-1"})
        missing = STREAM.first(conn, {"stream_id": "payment-2"})

    assert [row.version for row in rows] == [1, 2]
    assert rows[1].data == {"memo": "rent\u00e9"}
    assert rows[0].headers == {"actor": "tester"}
    assert rows[0].occurred_at.replace(tzinfo=UTC) == AT
    assert first is not None and first.data == {"amount": "10.00"}
    assert missing is None


def test_run_counts_the_rows_it_changed_and_rollback_undoes_it(either_engine: Engine) -> None:
    with either_engine.connect() as conn:
        ADD_EVENTS.run_many(conn, [event_row(1), event_row(2)])
        conn.commit()
    with either_engine.connect() as conn:
        assert RETYPE.run(conn, {"stream": "payment-1", "new_type": "payment.changed"}) == 2
        assert RETYPE.run(conn, {"stream": "nothing", "new_type": "payment.changed"}) == 0
        conn.rollback()
    with either_engine.connect() as conn:
        assert {row.version for row in STREAM.all(conn, {"stream_id": "payment-1"})} == {1, 2}
        kinds = conn.execute(select(t.events.c.type)).scalars().all()
    assert kinds == ["payment.created", "payment.created"]


def test_a_statement_that_opens_the_transaction_is_committed_with_it(either_engine: Engine) -> None:
    with either_engine.connect() as conn:
        ADD_TENANT.run(
            conn, {"id": "tenant-1", "name": "First Bank", "policy": {}, "created_at": AT}
        )
        conn.commit()
    with either_engine.connect() as conn:
        assert conn.execute(select(t.tenants.c.name)).scalars().all() == ["First Bank"]


def test_a_broken_constraint_is_sqlalchemys_integrity_error(either_engine: Engine) -> None:
    with either_engine.connect() as conn:
        ADD_EVENTS.run_many(conn, [event_row(1)])
        conn.commit()
    with either_engine.connect() as conn, pytest.raises(IntegrityError):
        ADD_EVENTS.run_many(conn, [event_row(1)])
        conn.commit()  # NOTE: PostgreSQL may report it only here, in a pipeline


def test_a_dropped_connection_is_unavailable_once_then_replaced(postgres_engine: Engine) -> None:
    with postgres_engine.connect() as conn:
        assert STREAM.all(conn, {"stream_id": "payment-1"}) == []

    drop_every_connection(postgres_engine)
    with postgres_engine.connect() as conn, pytest.raises(DependencyUnavailable, match="database"):
        STREAM.all(conn, {"stream_id": "payment-1"})
    with postgres_engine.connect() as conn:
        assert STREAM.all(conn, {"stream_id": "payment-1"}) == []


def test_values_the_statement_holds_itself_are_sent_with_the_given_ones(
    either_engine: Engine,
) -> None:
    with either_engine.connect() as conn:
        ADD_EVENTS.run_many(conn, [event_row(1), event_row(2), event_row(3)])
        assert CLOSE.run(conn, {"stream": "payment-1"}) == 3
        found = HAS_VERSION.first(conn, {"stream_id": "payment-1", "version": 2})
        absent = HAS_VERSION.first(conn, {"stream_id": "payment-1", "version": 4})
        among = AMONG.all(conn, {"versions": [1, 3, 5]})
        kinds = set(conn.execute(select(t.events.c.type)).scalars())

    assert kinds == {"closed"}
    assert found is not None and tuple(found) == (1,)
    assert absent is None
    assert sorted(row.version for row in among) == [1, 3]
