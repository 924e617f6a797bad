"""Migrations build the schema the code expects, and take it away again."""

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from cbp.adapters.sql import migrate, schema_version
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.engine import build_engine
from cbp.adapters.sql.schema import NOT_COMPARED, metadata
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from tests.conftest import require_service
from tests.contract import builders as b
from tests.databases import POSTGRES_ADMIN_URL

MIGRATIONS_ENV = "cbp/adapters/sql/migrations/env.py"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def empty_engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        engine = build_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    require_service("PostgreSQL", POSTGRES_ADMIN_URL.replace("postgresql+psycopg", "postgresql"))
    name = f"cbp_mig_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = build_engine(make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_from_empty_then_downgrade_to_empty(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert {table.name for table in metadata.sorted_tables} <= tables
    assert schema_version.is_up_to_date(empty_engine)
    assert schema_version.current_revision(empty_engine) == migrate.current_revision(empty_engine)
    migrate.downgrade(empty_engine)
    left = set(inspect(empty_engine).get_table_names()) - {"alembic_version"}
    assert left == set()
    assert migrate.current_revision(empty_engine) is None
    assert schema_version.current_revision(empty_engine) is None


def test_the_revision_processes_check_against_is_the_newest_migration() -> None:
    assert migrate.head_revision() == schema_version.HEAD


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_the_models_and_the_migrations_agree(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": lambda obj, name, kind, reflected, compare_to: (
                    not (name and (name in NOT_COMPARED or name.startswith("directory_fts")))
                ),
            },
        )
        assert compare_metadata(context, metadata) == []


def test_each_database_gets_its_trigram_search_index(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        if empty_engine.dialect.name == "sqlite":
            sql = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name='directory_fts'")
            ).scalar()
            assert "trigram" in sql
        else:
            definition = conn.execute(
                text(
                    "SELECT indexdef FROM pg_indexes WHERE indexname='ix_global_payees_search_trgm'"
                )
            ).scalar()
            assert "gin_trgm_ops" in definition


def test_widening_the_payment_views_fills_them_from_the_events(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    cipher = FieldCipher([FieldCipher.generate_key()])
    returned = b.payment("ten_1")
    returned.submit(processor_reference="ref-9", at=b.NOW)
    returned.complete(at=b.NOW + timedelta(hours=1))
    returned.mark_returned(return_code="R01", reason="r", at=b.NOW + timedelta(days=2))
    with SqlAlchemyUnitOfWork(empty_engine, cipher) as uow:
        for payment in (returned, b.payment("ten_2")):
            uow.payments.save(payment)
        uow.commit()

    def views() -> list[tuple[object, ...]]:
        with empty_engine.connect() as conn:
            query = select(t.payment_views).order_by(t.payment_views.c.id)
            return [tuple(row) for row in conn.execute(query)]

    live = views()
    migrate.downgrade(empty_engine, "0007")
    migrate.upgrade(empty_engine)
    assert views() == live
    with SqlAlchemyUnitOfWork(empty_engine, cipher) as uow:
        assert uow.payments.view("ten_1", returned.id).snapshot() == returned.snapshot()


def test_the_directory_there_is_gets_its_word_starts_indexed(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    cipher = FieldCipher([FieldCipher.generate_key()])
    billers = [b.biller("Pacific Gas and Electric", aliases=("PG&E",)), b.biller("Gas Co")]
    with SqlAlchemyUnitOfWork(empty_engine, cipher) as uow:
        for biller in billers:
            uow.directory.add(biller)
        uow.commit()

    def prefixes() -> list[tuple[object, ...]]:
        with empty_engine.connect() as conn:
            query = select(t.directory_prefixes).order_by(*t.directory_prefixes.c)
            return [tuple(row) for row in conn.execute(query)]

    indexed = prefixes()
    migrate.downgrade(empty_engine, "0020")
    migrate.upgrade(empty_engine)
    assert prefixes() == indexed and len(indexed) > 10
    with SqlAlchemyUnitOfWork(empty_engine, cipher) as uow:
        found = uow.directory.search("gas", cursor=None, limit=5).items
    assert [biller.name for biller in found] == ["Gas Co", "Pacific Gas and Electric"]
