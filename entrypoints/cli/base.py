"""What every ``cbp`` command shares: a core on the configured adapters, argument types."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import make_url

from cbp.bootstrap import Cbp, bootstrap
from cbp.settings import ConfigurationError, Settings

Command = Callable[[argparse.Namespace], int]


@contextmanager
def opened(*, may_create: bool = False) -> Iterator[Cbp]:
    """A core on the configured adapters, closed afterwards.

    Only a command that sets a database up (``demo`` here; ``migrate`` and
    ``serve`` on their own) may create a SQLite file; the others, run where
    there is none, say where they looked instead of answering from an empty
    new one.
    """
    settings = Settings()
    if not may_create:
        require_existing_database(settings.database_url)
    app = bootstrap(settings)
    try:
        yield app
    finally:
        app.close()


def require_existing_database(database_url: str) -> None:
    """Refuse a SQLite address whose file is not there, saying where cbp looked."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = Path(url.database)
    if not path.exists():
        raise ConfigurationError(
            f"no database at {path.resolve()}: run this where cbp keeps its data, set "
            "CBP_DATABASE_URL, or create one with `cbp migrate`"
        )


def uses_sql(app: Cbp) -> bool:
    """Whether the core keeps its records in a SQL database."""
    settings: Settings = app.container.settings()
    return settings.backend(settings.database_url) in {"sqlite", "postgresql"}


def require_sql(app: Cbp) -> None:
    """Stop a command that needs a SQL database when there is none."""
    if not uses_sql(app):
        raise SystemExit("this command needs a SQL database (set CBP_DATABASE_URL)")


def hours(text: str) -> float:
    """A number of hours, zero or more, given on the command line."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of hours: {text!r}") from None
    if not 0 <= value <= 24 * 365:
        raise argparse.ArgumentTypeError(f"must be from 0 to 8760 hours: {text!r}")
    return value


def amount(text: str) -> Decimal:
    """A positive amount given on the command line."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive amount: {text!r}")
    return value
