"""Staged writes go in together (one statement on PostgreSQL) and land as written one by one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from cbp.adapters.sql import schema as t
from cbp.adapters.sql.writes import Inserted, Updated, write_together

pytestmark = pytest.mark.services

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

EVENTS = Inserted(t.events)
NOTES = Inserted(t.inbox, keep_existing=True)
TENANTS = Inserted(t.tenants, replace_on=("id",))
RENAMED = Updated(t.tenants, keys=("id",))


def event(stream: str, version: int) -> dict[str, object]:
    return {
        "stream_id": stream,
        "version": version,
        "event_id": f"{stream}-{version}",
        "type": "payment.created",
        "data": {"version": version},
        "headers": {},
        "occurred_at": AT,
    }


def tenant(tenant_id: str, name: str) -> dict[str, object]:
    return {"id": tenant_id, "name": name, "policy": {"limit": 5}, "created_at": AT}


def note(message_id: str) -> dict[str, object]:
    return {"consumer": "queued", "message_id": message_id, "handled_at": AT}


def test_every_table_gets_its_rows_in_the_order_staged(either_engine: Engine) -> None:
    with either_engine.connect() as conn:
        write_together(conn, [(TENANTS, [tenant("ten_1", "First"), tenant("ten_2", "Second")])])
        conn.commit()
    events = [event("pay_b", 1), event("pay_a", 1), event("pay_b", 2)]
    with either_engine.connect() as conn:
        write_together(
            conn,
            [
                (EVENTS, events),
                (TENANTS, [tenant("ten_2", "Second, renamed"), tenant("ten_3", "Third")]),
                (NOTES, [note("msg_1"), note("msg_1"), note("msg_2")]),
                (RENAMED, [{"id": "ten_1", "name": "First, renamed"}]),
                (EVENTS, []),
            ],
        )
        conn.commit()
    with either_engine.connect() as conn:
        order = conn.execute(select(t.events.c.event_id).order_by(t.events.c.position)).all()
        tenants = dict(conn.execute(select(t.tenants.c.id, t.tenants.c.name)).all())
        policies = conn.execute(select(t.tenants.c.policy)).scalars().all()
        notes = conn.execute(select(t.inbox.c.message_id).order_by(t.inbox.c.message_id)).all()
    assert [row.event_id for row in order] == ["pay_b-1", "pay_a-1", "pay_b-2"]
    assert tenants == {"ten_1": "First, renamed", "ten_2": "Second, renamed", "ten_3": "Third"}
    assert policies == [{"limit": 5}] * 3
    assert [row.message_id for row in notes] == ["msg_1", "msg_2"]


def test_many_rows_go_in_as_well_as_few(either_engine: Engine) -> None:
    events = [event("pay_many", version) for version in range(1, 101)]
    with either_engine.connect() as conn:
        write_together(conn, [(EVENTS, events), (NOTES, [note("msg_1")])])
        conn.commit()
    with either_engine.connect() as conn:
        versions = conn.execute(select(t.events.c.version).order_by(t.events.c.position)).all()
    assert [row.version for row in versions] == list(range(1, 101))


def test_a_broken_key_rolls_back_every_write_with_it(either_engine: Engine) -> None:
    with either_engine.connect() as conn:
        write_together(conn, [(EVENTS, [event("pay_1", 1)])])
        conn.commit()
    with either_engine.connect() as conn, pytest.raises(IntegrityError):
        write_together(conn, [(NOTES, [note("msg_9")]), (EVENTS, [event("pay_1", 1)])])
        conn.commit()
    with either_engine.connect() as conn:
        assert conn.execute(select(t.inbox.c.message_id)).all() == []


def test_the_same_writes_go_to_each_database_in_its_own_way(
    postgres_engine: Engine, sqlite_engine: Engine
) -> None:
    for engine in (postgres_engine, sqlite_engine):  # NOTE: PostgreSQL's statement built first
        with engine.connect() as conn:
            write_together(conn, [(EVENTS, [event("pay_1", 1)]), (NOTES, [note("msg_1")])])
            conn.commit()
        with engine.connect() as conn:
            assert conn.execute(select(t.inbox.c.message_id)).scalars().all() == ["msg_1"]


def test_one_tables_rows_are_one_statement_on_postgresql(
    postgres_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []

    def counted(name: str, run: Callable[..., Any]) -> Callable[..., Any]:
        def counting(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append(name)
            return run(cursor, *args, **kwargs)

        return counting

    cursor = psycopg.RawCursor
    for name in ("execute", "executemany"):
        monkeypatch.setattr(cursor, name, counted(name, getattr(cursor, name)))
    rows = [event("pay_1", 1), event("pay_1", 2), event("pay_2", 1)]
    with postgres_engine.connect() as conn:
        write_together(conn, [(EVENTS, rows)])
        conn.commit()
    assert sent == ["execute"]
    with postgres_engine.connect() as conn:
        written = conn.execute(select(t.events.c.event_id).order_by(t.events.c.position))
        assert written.scalars().all() == ["pay_1-1", "pay_1-2", "pay_2-1"]
