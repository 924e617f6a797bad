"""Opening a database: engines, first-run migration, the embedded secrets file."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from cbp.adapters.sql import schema_version
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.engine import build_engine, is_sqlite


class DatabaseNotReady(RuntimeError):
    """The database is not at the newest schema and may not be migrated here."""


def open_engine(url: str, *, auto_migrate: bool, pool_size: int = 10) -> Engine:
    """An engine on ``url``, migrated first if ``auto_migrate`` allows it.

    A SQLite file is created readable by its owner only (0600), as the
    secrets file beside it: it holds encrypted accounts and key hashes.
    """
    engine = build_engine(url, pool_size=pool_size)
    if not schema_version.is_up_to_date(engine):
        if not auto_migrate:
            engine.dispose()
            raise DatabaseNotReady("the database schema is not up to date: run `cbp migrate` first")
        from cbp.adapters.sql import migrate  # NOTE: Alembic only where a migration runs

        migrate.upgrade(engine)
    return engine


@dataclass(frozen=True)
class LocalSecrets:
    """The secrets an embedded SQLite install keeps in a file beside its database."""

    api_key_secret: str
    encryption_keys: list[str]


def engine_for_lifetime(url: str, *, auto_migrate: bool, pool_size: int) -> Iterator[Engine]:
    """``open_engine``, disposed of when done."""
    engine = open_engine(url, auto_migrate=auto_migrate, pool_size=pool_size)
    yield engine
    engine.dispose()


def local_secrets(database_url: str) -> LocalSecrets:
    """Read, or create on first run, ``<database>.secrets.json`` (mode 0600).

    Only for the embedded default: production sets ``CBP_API_KEY_SECRET``
    and ``CBP_ENCRYPTION_KEYS`` from its secret store instead.
    """
    if not is_sqlite(database_url):
        raise ValueError("a local secrets file is only for SQLite databases")
    database = make_url(database_url).database or "cbp.db"
    path = Path(f"{database}.secrets.json")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = {
            "api_key_secret": os.urandom(32).hex(),
            "encryption_keys": [FieldCipher.generate_key()],
        }
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(fresh, handle)
    data = json.loads(path.read_text())
    return LocalSecrets(data["api_key_secret"], list(data["encryption_keys"]))
