"""The SQLAlchemy unit of work: one database transaction per use case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self, cast

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from cbp.adapters.sql.access import SqlApiKeyRepository, SqlIdempotencyStore
from cbp.adapters.sql.audit import SqlAuditLog
from cbp.adapters.sql.bills import SqlAutopayRules, SqlBillViews
from cbp.adapters.sql.checks import SqlCheckRegister
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.customers import SqlCustomerRepository, SqlTenantRepository
from cbp.adapters.sql.engine import only_reads
from cbp.adapters.sql.event_store import SqlEventStore, SqlPaymentViews, SqlScheduleViews
from cbp.adapters.sql.jobs import SqlProcessJobRepository
from cbp.adapters.sql.messaging import SqlDeliveryStore, SqlInbox, SqlOutbox
from cbp.adapters.sql.notices import (
    SqlExceptionRepository,
    SqlNotificationRepository,
    SqlWebhookEndpointRepository,
)
from cbp.adapters.sql.parties import SqlPartyLookup
from cbp.adapters.sql.payees import (
    SqlDirectoryRepository,
    SqlFundingAccountRepository,
    SqlPayeeRepository,
)
from cbp.adapters.sql.writes import write_together
from cbp.domain.errors import ConcurrencyConflict
from cbp.ports.storage.events import Changes, Recorded
from cbp.ports.storage.unit_of_work import BeforeCommit, ReadOnly, UnitOfWork
from cbp.services.event_sourced import (
    EventSourcedBills,
    EventSourcedPayments,
    EventSourcedSchedules,
)


class SqlAlchemyUnitOfWork:
    """Every repository over one connection and transaction.

    State, events, outbox messages, inbox records and audit entries commit
    together or not at all; leaving the block without ``commit`` rolls back.

    On PostgreSQL a rollback also costs the connection every statement it
    prepared (psycopg forgets them, so the next ones are parsed and planned
    again): a unit of work that only reads is opened ``read_only``, which
    runs no transaction there, and one that may find nothing to do commits
    all the same.
    """

    def __init__(
        self,
        engine: Engine,
        cipher: FieldCipher,
        before_commit: BeforeCommit | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        #: Run just before each commit: the events recorded are published then.
        self.before_commit = before_commit
        self.read_only = read_only
        self._conn: Connection | None = None

    def __enter__(self) -> Self:
        conn = self.engine.connect()  # NOTE: the transaction begins with the first statement
        if self.read_only:
            only_reads(conn)
        self._conn = conn
        self._changes = Changes()
        self.tenants = SqlTenantRepository(conn)
        self.parties = SqlPartyLookup(conn, self.cipher)
        self.customers = SqlCustomerRepository(conn)
        self.directory = SqlDirectoryRepository(conn, self._changes)
        self.payees = SqlPayeeRepository(conn, self.cipher, self._changes)
        self.funding_accounts = SqlFundingAccountRepository(conn, self.cipher, self._changes)
        self.events = SqlEventStore(conn)
        self._views = SqlPaymentViews(conn)
        self.payments = EventSourcedPayments(self.events, self._views, self._changes)
        self.schedules = EventSourcedSchedules(self.events, SqlScheduleViews(conn))
        self.bills = EventSourcedBills(self.events, SqlBillViews(conn), self._changes)
        self.autopay = SqlAutopayRules(conn)
        self.checks = SqlCheckRegister(conn)
        self.exceptions = SqlExceptionRepository(conn)
        self.notifications = SqlNotificationRepository(conn)
        self.webhook_endpoints = SqlWebhookEndpointRepository(conn, self.cipher)
        self.jobs = SqlProcessJobRepository(conn)
        self.api_keys = SqlApiKeyRepository(conn)
        self.idempotency = SqlIdempotencyStore(conn)
        self.audit = SqlAuditLog(conn)
        self.outbox = SqlOutbox(conn)
        self.inbox = SqlInbox(conn)
        self.deliveries = SqlDeliveryStore(conn)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._conn is not None:
            self.rollback()
            self._conn.close()
            self._conn = None

    @property
    def connection(self) -> Connection:
        """The open connection (for adapters' own maintenance commands)."""
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn

    def commit(self) -> None:
        """Write what was staged (events, views, notes, messages, audit, answers, completions)."""
        if self.read_only:
            raise ReadOnly("this unit of work was opened only to read")
        conn = self.connection
        if self.before_commit is not None:
            self.before_commit(cast(UnitOfWork, self))
        try:
            _commit_in_one_round_trip(conn, self._write_staged)
        except ConcurrencyConflict:
            conn.rollback()
            raise
        except IntegrityError as error:
            conn.rollback()
            raise ConcurrencyConflict(f"a concurrent transaction won: {error.orig}") from None
        except DBAPIError as error:
            conn.rollback()
            if _is_serialization_failure(error):
                raise ConcurrencyConflict("the database asked to retry the transaction") from None
            raise

    def _write_staged(self) -> None:
        conn = self.connection
        self.deliveries.flush()
        write_together(
            conn,
            [
                *self.events.take_staged(),
                *self._views.take_staged(),
                *self.inbox.take_staged(),
                *self.outbox.take_staged(),
                *self.audit.take_staged(),
                *self.idempotency.take_staged(),
            ],
        )

    def rollback(self) -> None:
        """Discard every change since the last commit."""
        self.connection.rollback()
        self.events.staged.clear()
        self.outbox.staged.clear()
        self.audit.staged.clear()
        self.idempotency.staged.clear()
        self.inbox.staged.clear()
        self.inbox.claims.clear()
        self.deliveries.staged.clear()
        self._views.clear()
        self._changes.clear()

    def collect_new_events(self) -> list[Recorded]:
        """The events the aggregates saved in this unit of work recorded, each once."""
        return self._changes.collect()


def _commit_in_one_round_trip(conn: Connection, write: Callable[[], None]) -> None:
    """Run ``write`` and commit: on PostgreSQL, the writes and the COMMIT in one round trip.

    Nothing written at commit is read back, so no statement waits for the
    one before it. In psycopg's pipeline the COMMIT is sent as a statement,
    and the pipeline's closing sync sends them all and reads every answer:
    one round trip, where committing inside the pipeline would sync once
    for the COMMIT and once more to close. A failure (a stream appended to
    concurrently) goes through SQLAlchemy's own handling, as from any
    statement, and the caller rolls back; SQLAlchemy's commit then only
    records what the server already did.
    """
    driver: Any = conn.connection.driver_connection
    if getattr(driver, "pipeline", None) is None:
        write()
        conn.commit()
        return
    try:
        with driver.pipeline():
            write()
            driver.execute(b"COMMIT")
    except conn.dialect.loaded_dbapi.Error as error:
        conn._handle_dbapi_exception(error, "COMMIT", {}, None, None)
        raise
    conn.commit()


def _is_serialization_failure(error: DBAPIError) -> bool:
    code = getattr(error.orig, "sqlstate", None)
    return code in {"40001", "40P01"}
