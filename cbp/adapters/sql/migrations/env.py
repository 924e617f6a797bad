"""Alembic environment: runs on the connection or URL cbp hands it."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from cbp.adapters.sql.engine import build_engine
from cbp.adapters.sql.schema import NOT_COMPARED, metadata


def include_object(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    """Leave the dialect-only search objects (and FTS shadow tables) to the migration."""
    return not (name and (name in NOT_COMPARED or name.startswith("directory_fts")))


def run(connection: Connection) -> None:
    """Run the migrations on ``connection``."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = build_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
