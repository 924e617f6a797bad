"""Engines for SQLite and PostgreSQL, configured for a payments workload."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def is_sqlite(url: str) -> bool:
    """Whether ``url`` names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def build_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """An engine for ``url``; ``postgresql://`` URLs use psycopg 3.

    SQLite runs in WAL mode and starts every transaction with ``BEGIN
    IMMEDIATE``: it has one writer at a time anyway, and taking the write
    lock up front turns would-be lost updates into a short wait.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
        )
        _make_sqlite_transactional(engine)
        return engine
    return create_engine(
        parsed, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def _make_sqlite_transactional(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None  # NOTE: we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
