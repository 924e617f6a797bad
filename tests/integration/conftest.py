from tests.databases import (
    either_engine,
    postgres_engine,
    postgres_url,
    sqlite_engine,
    sqlite_template,
)

__all__ = ["either_engine", "postgres_engine", "postgres_url", "sqlite_engine", "sqlite_template"]
