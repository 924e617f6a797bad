"""A database connection the server dropped costs one use, not a ping on every checkout."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from cbp.ports.errors import DependencyUnavailable
from tests.databases import drop_every_connection

pytestmark = pytest.mark.services

CIPHER = FieldCipher([FieldCipher.generate_key()])


def count_tenants(engine: Engine) -> int:
    with SqlAlchemyUnitOfWork(engine, CIPHER) as uow:
        return len(uow.tenants.list())


def test_a_dropped_connection_fails_one_use_as_unavailable_and_the_next_connects_afresh(
    postgres_engine: Engine,
) -> None:
    assert count_tenants(postgres_engine) == 0  # NOTE: the pool holds a live connection

    drop_every_connection(postgres_engine)
    with pytest.raises(DependencyUnavailable, match="database"):
        count_tenants(postgres_engine)
    assert count_tenants(postgres_engine) == 0
