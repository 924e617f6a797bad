"""The storage contract on the in-memory adapters."""

import pytest

from cbp.adapters.memory.database import InMemoryDatabase
from cbp.adapters.memory.unit_of_work import InMemoryUnitOfWork
from tests.contract.storage_contract import StorageContract, UowFactory


class TestInMemoryStorage(StorageContract):
    @pytest.fixture
    def uow_factory(self) -> UowFactory:
        database = InMemoryDatabase()
        return lambda **options: InMemoryUnitOfWork(database, **options)
