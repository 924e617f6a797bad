"""A PostgreSQL database of a benchmark's own, made for one run and dropped after it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _admin(sql: str) -> None:
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


def create_database() -> str:
    """The URL of a new, empty database named for this run."""
    name = f"cbp_bench_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    return make_url(POSTGRES_ADMIN).set(database=name).render_as_string(False)


def drop_database(url: str) -> None:
    """Drop the database at ``url``, whoever is still connected to it."""
    _admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database's URL for the block, dropped at its end."""
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)
