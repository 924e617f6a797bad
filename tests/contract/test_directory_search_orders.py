"""Directory search on SQL pages through the same billers, in the same order, as in memory.

The in-memory adapter ranks every match in Python, plainly; the SQL adapter
reads each tier off its own index and stops early. Random directories (words
shared between names and aliases, equal popularities, a renamed biller) and
random texts, paged a few at a time, must come out the same from both.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete

from cbp.adapters.memory.database import InMemoryDatabase
from cbp.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from cbp.domain.directory import GlobalPayee
from tests.contract import builders as b
from tests.databases import postgres_engine, postgres_url, sqlite_engine, sqlite_template

__all__ = ["postgres_engine", "postgres_url", "sqlite_engine", "sqlite_template"]

CIPHER = FieldCipher([FieldCipher.generate_key()])
WORDS = ("gas", "gasco", "water", "co", "a", "ab", "b&b", "100%", "o'b", "city", "pacific")
phrases = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
billers = st.lists(
    st.tuples(
        phrases,
        st.lists(phrases, max_size=2).map(tuple),
        st.sampled_from([0, 0, 5, 900]),
    ),
    min_size=1,
    max_size=14,
)
#: Search texts as the core hands them on: stripped, never empty.
texts = st.one_of(
    st.sampled_from(WORDS),
    phrases,
    phrases.map(lambda phrase: phrase[1:4].strip()).filter(bool),
    st.sampled_from(["g", "as", "co c", "%", "_", "ity pa", "zz"]),
)


def every_page(uow_factory, text: str, limit: int) -> list[str]:  # type: ignore[no-untyped-def]
    ids: list[str] = []
    cursor = None
    with uow_factory() as uow:
        while True:
            page = uow.directory.search(text, cursor=cursor, limit=limit)
            ids += [biller.id for biller in page.items]
            if not (cursor := page.next_cursor):
                return ids


def directory(rows: list[tuple[str, tuple[str, ...], int]]) -> list[GlobalPayee]:
    return [
        replace(b.biller(name, aliases=aliases), popularity=popularity)
        for name, aliases, popularity in rows
    ]


def check_same_order(engine: Engine, rows, searches) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        for table in (t.directory_prefixes, t.global_payees):
            conn.execute(delete(table))
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DELETE FROM directory_fts")
    memory = InMemoryDatabase()
    stores = [lambda: InMemoryUnitOfWork(memory), lambda: SqlAlchemyUnitOfWork(engine, CIPHER)]
    added = directory(rows)
    for store in stores:
        with store() as uow:
            for biller in added:
                uow.directory.add(biller)
            uow.commit()
    renamed = replace(added[0], name=f"{added[0].name} city")
    for store in stores:  # NOTE: a renamed biller is found by its new words, not its old
        with store() as uow:
            uow.directory.save(renamed)
            uow.commit()
    for text, limit in searches:
        expected = every_page(stores[0], text, limit)
        assert every_page(stores[1], text, limit) == expected, (text, limit)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(billers, st.lists(st.tuples(texts, st.integers(1, 4)), min_size=1, max_size=4))
def test_sqlite_searches_in_the_order_memory_does(sqlite_engine: Engine, rows, searches) -> None:  # type: ignore[no-untyped-def]
    check_same_order(sqlite_engine, rows, searches)


@pytest.mark.services
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(billers, st.lists(st.tuples(texts, st.integers(1, 4)), min_size=1, max_size=4))
def test_postgres_searches_in_the_order_memory_does(
    postgres_engine: Engine, rows, searches
) -> None:  # type: ignore[no-untyped-def]
    check_same_order(postgres_engine, rows, searches)
