from tests.databases import postgres_engine, postgres_url, sqlite_engine, sqlite_template

__all__ = ["postgres_engine", "postgres_url", "sqlite_engine", "sqlite_template"]
