"""The storage contract on SQLite and PostgreSQL, unchanged."""

import threading

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, select

from cbp.adapters.sql import schema as t
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from tests.contract import builders as b
from tests.contract.storage_contract import StorageContract, UowFactory
from tests.databases import postgres_engine, postgres_url, sqlite_engine, sqlite_template

__all__ = ["postgres_engine", "postgres_url", "sqlite_engine", "sqlite_template"]

CIPHER = FieldCipher([FieldCipher.generate_key()])


TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class StoredEventHeaders:
    """What only SQL keeps: each stored event's headers, given by the command that caused it."""

    def test_events_are_stored_with_the_cause_they_were_stamped_with(
        self, uow_factory: UowFactory
    ) -> None:
        payment = b.payment("ten_1")
        with uow_factory() as uow:
            uow.payments.save(payment)
            uow.events.stamp_cause("cor_9", TRACE)
            uow.commit()
        with uow_factory() as uow:
            assert isinstance(uow, SqlAlchemyUnitOfWork)
            stored = uow.connection.execute(
                select(t.events.c.headers).where(t.events.c.stream_id == payment.id)
            ).scalars()
            assert (
                list(stored)
                == [{"tenant_id": "ten_1", "correlation_id": "cor_9", "traceparent": TRACE}] * 2
            )  # NOTE: created and validated

    def test_a_stream_appended_to_twice_in_one_unit_of_work_reads_back_whole(
        self, uow_factory: UowFactory
    ) -> None:
        payment = b.payment("ten_1")
        with uow_factory() as uow:
            uow.payments.save(payment)
            payment.cancel(reason="paid twice", at=b.NOW)
            uow.payments.save(payment)
            assert [e.version for e in uow.events.load(payment.id)] == [1, 2, 3]
            uow.commit()
        with uow_factory() as uow:
            assert [e.type for e in uow.events.load(payment.id)] == [
                "PaymentCreated",
                "PaymentValidated",
                "PaymentCancelled",
            ]


class TestSqliteStorage(StorageContract, StoredEventHeaders):
    @pytest.fixture
    def uow_factory(self, sqlite_engine: Engine) -> UowFactory:
        return lambda **options: SqlAlchemyUnitOfWork(sqlite_engine, CIPHER, **options)


@pytest.mark.services
class TestPostgresStorage(StorageContract, StoredEventHeaders):
    @pytest.fixture
    def uow_factory(self, postgres_engine: Engine) -> UowFactory:
        return lambda **options: SqlAlchemyUnitOfWork(postgres_engine, CIPHER, **options)


@pytest.mark.services
def test_a_reader_on_postgresql_opens_no_transaction(postgres_engine: Engine) -> None:
    """Each read is answered as it comes: no BEGIN before it, no ROLLBACK after."""
    with SqlAlchemyUnitOfWork(postgres_engine, CIPHER, read_only=True) as reader:
        assert reader.tenants.any_exist() is False
        driver = reader.connection.connection.driver_connection
        assert driver is not None
        assert driver.info.transaction_status is TransactionStatus.IDLE
    with SqlAlchemyUnitOfWork(postgres_engine, CIPHER) as writer:
        writer.tenants.any_exist()
        driver = writer.connection.connection.driver_connection
        assert driver is not None
        assert driver.info.transaction_status is TransactionStatus.INTRANS


def test_a_reader_on_sqlite_holds_no_write_lock(sqlite_engine: Engine) -> None:
    """A writer commits while a reader is open; the reader's snapshot stays as it began."""
    tenant = b.tenant()
    with SqlAlchemyUnitOfWork(sqlite_engine, CIPHER, read_only=True) as reader:
        assert reader.tenants.any_exist() is False
        writer = threading.Thread(target=add_tenant, args=(sqlite_engine, tenant))
        writer.start()
        writer.join(timeout=10)
        assert not writer.is_alive(), "the writer waited on the reader"
        assert reader.tenants.any_exist() is False
    with SqlAlchemyUnitOfWork(sqlite_engine, CIPHER, read_only=True) as reader:
        assert reader.tenants.get(tenant.id).name == tenant.name


def add_tenant(engine: Engine, tenant: object) -> None:
    with SqlAlchemyUnitOfWork(engine, CIPHER) as uow:
        uow.tenants.add(tenant)  # type: ignore[arg-type]
        uow.commit()
