"""Which schema revision a database is at, read without loading Alembic.

Every process opens the database and asks whether it is up to date; only
the one that migrates needs Alembic itself (about 11 MiB), so the answer is
read from ``alembic_version`` directly and compared with the newest
revision this code was written for (a test keeps the two equal).
"""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

#: The newest migration's revision id.
HEAD = "0023"


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty one."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_up_to_date(engine: Engine) -> bool:
    """Whether the database is at the newest revision."""
    return current_revision(engine) == HEAD
