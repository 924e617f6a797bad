"""Alembic migrations for both SQLite and PostgreSQL."""
