"""The storage contract on SQLite and PostgreSQL, unchanged."""

import pytest
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
        return lambda: SqlAlchemyUnitOfWork(sqlite_engine, CIPHER)


@pytest.mark.services
class TestPostgresStorage(StorageContract, StoredEventHeaders):
    @pytest.fixture
    def uow_factory(self, postgres_engine: Engine) -> UowFactory:
        return lambda: SqlAlchemyUnitOfWork(postgres_engine, CIPHER)
