"""Engines for SQLite and PostgreSQL, configured for a payments workload."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url

from cbp.ports.errors import DependencyUnavailable


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
        _create_private(parsed.database)  # NOTE: it holds encrypted accounts and key hashes
        engine = create_engine(
            parsed, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
        )
        _make_sqlite_transactional(engine)
        return engine
    engine = create_engine(parsed, echo=echo, pool_size=pool_size, max_overflow=pool_size)
    _report_lost_connections(engine)
    return engine


#: The execution option of a connection that only reads (see ``only_reads``).
_ONLY_READS = "cbp_only_reads"


def only_reads(conn: Connection) -> None:
    """Make ``conn`` one that only reads, at the least cost its database allows.

    On PostgreSQL each statement runs on its own (no BEGIN and ROLLBACK
    round trips around it); at READ COMMITTED each statement of a
    transaction sees what was committed when it began anyway. On SQLite the
    transaction is deferred: a reader takes no write lock, so it never
    waits on a writer nor holds one up.
    """
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="AUTOCOMMIT")
    conn.execution_options(**{_ONLY_READS: True})


def _report_lost_connections(engine: Engine) -> None:
    """A connection found dead is the database being unavailable, for that one use.

    No pool ping precedes each checkout (a round trip per transaction): a
    connection the server dropped fails its first statement instead, and
    SQLAlchemy then discards it and every idle one beside it. The failure
    is raised as ``DependencyUnavailable`` (a 503 with Retry-After over
    HTTP, a later retry for a worker), and the next use connects afresh.
    """

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        if context.is_disconnect:
            raise DependencyUnavailable(
                "database", "the connection to the database was lost"
            ) from context.original_exception


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
        reads = connection.get_execution_options().get(_ONLY_READS, False)
        connection.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")


def _create_private(database: str | None) -> None:
    """Create the SQLite file with mode 0600 if it does not exist (SQLite keeps the mode)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # NOTE: another process made it, same mode
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
