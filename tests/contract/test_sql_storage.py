"""The storage contract on SQLite and PostgreSQL, unchanged."""

import pytest
from sqlalchemy import Engine

from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from tests.contract.storage_contract import StorageContract, UowFactory
from tests.databases import postgres_engine, postgres_url, sqlite_engine, sqlite_template

__all__ = ["postgres_engine", "postgres_url", "sqlite_engine", "sqlite_template"]

CIPHER = FieldCipher([FieldCipher.generate_key()])


class TestSqliteStorage(StorageContract):
    @pytest.fixture
    def uow_factory(self, sqlite_engine: Engine) -> UowFactory:
        return lambda: SqlAlchemyUnitOfWork(sqlite_engine, CIPHER)


@pytest.mark.services
class TestPostgresStorage(StorageContract):
    @pytest.fixture
    def uow_factory(self, postgres_engine: Engine) -> UowFactory:
        return lambda: SqlAlchemyUnitOfWork(postgres_engine, CIPHER)
