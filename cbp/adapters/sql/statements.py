"""The statements every SQL repository shares: inserts, single rows, keyset pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from cbp.adapters.sql.prepared import Prepared
from cbp.domain.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
)
from cbp.ports.pagination import decode_cursor, encode_cursor
from cbp.ports.storage.pages import Page

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``: one statement per list, bounded in size."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def insert_row(
    conn: Connection, table: Table, values: dict[str, Any] | list[dict[str, Any]], what: str
) -> None:
    """Insert a row (or a list of rows, in one statement); a duplicate key is AlreadyExists.

    NOTE: on PostgreSQL the failed insert aborts the transaction; no caller
    goes on after AlreadyExists, and the unit of work rolls back on exit.
    """
    try:
        if isinstance(values, list):
            prepared_insert(conn.dialect.name, table, ()).run_many(conn, values)
        else:
            prepared_insert(conn.dialect.name, table, ()).run(conn, values)
    except IntegrityError:
        raise AlreadyExists(f"{what} already exists") from None


def one_row(conn: Connection, query: Select[Any], kind: str, record_id: str) -> Any:
    """The one row ``query`` finds, or NotFound for ``kind`` ``record_id``."""
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(kind, record_id)
    return row


def row_by_id(conn: Connection, table: Table, kind: str, record_id: str, **also: str) -> Any:
    """The row of ``table`` with this id (and the columns in ``also``), or NotFound for ``kind``.

    The statement is built once per table and set of columns and then only
    given values, as every lookup on a hot path should be.
    """
    row = _select_by_id(table, tuple(also)).first(conn, {"id": record_id, **also})
    if row is None:
        raise NotFound(kind, record_id)
    return row


def update_by_id(
    conn: Connection,
    table: Table,
    kind: str,
    record_id: str,
    values: Mapping[str, Any],
    **also: str,
) -> None:
    """Set ``values`` on the row with this id (and the columns in ``also``), or NotFound.

    Built once per table and set of columns, like ``row_by_id``.
    """
    statement = _update_by_id(table, tuple(also), tuple(values))
    given = {**values, "where_id": record_id, **{"where_" + k: v for k, v in also.items()}}
    if statement.run(conn, given) == 0:
        raise NotFound(kind, record_id)


@cache
def _select_by_id(table: Table, also: tuple[str, ...]) -> Prepared:
    return Prepared(
        select(table).where(
            and_(table.c.id == bindparam("id"), *(table.c[k] == bindparam(k) for k in also))
        )
    )


@cache
def _update_by_id(table: Table, also: tuple[str, ...], columns: tuple[str, ...]) -> Prepared:
    # NOTE: a column's own name is the SET clause's; the WHERE clause's are prefixed
    where = [table.c.id == bindparam("where_id")]
    where += [table.c[k] == bindparam("where_" + k) for k in also]
    return Prepared(update(table).where(and_(*where)).values({c: bindparam(c) for c in columns}))


def keyset_page(
    conn: Connection,
    query: Select[Any],
    keys: Sequence[Any],
    cursor: str | None,
    limit: int,
    *,
    newest_first: bool,
) -> tuple[list[Any], str | None]:
    """Rows after ``cursor`` ordered by ``keys``, and the cursor of the next page."""
    if cursor is not None:
        after = decode_cursor(cursor)
        if len(after) != len(keys):
            raise InvalidInput("cursor is not valid")
        bound = tuple_(*keys)
        query = query.where(bound < tuple_(*after) if newest_first else bound > tuple_(*after))
    order = [k.desc() if newest_first else k.asc() for k in keys]
    rows = list(conn.execute(query.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        encode_cursor([getattr(rows[-1], "_sort_" + str(i)) for i in range(len(keys))])
        if more and rows
        else None
    )
    return rows, next_cursor


def sortable(query: Select[Any], keys: Sequence[Any]) -> Select[Any]:
    """``query`` with its sort keys as labelled columns, for keyset pagination."""
    return query.add_columns(*(k.label(f"_sort_{i}") for i, k in enumerate(keys)))


TRIGRAM = 3


def dialect_insert(conn: Connection) -> Callable[[Any], Any]:
    """The INSERT construct with ON CONFLICT support for this connection's dialect."""
    return _insert_with_conflicts(conn.dialect.name)


def _insert_with_conflicts(dialect: str) -> Callable[[Any], Any]:
    return sqlite_insert if dialect == "sqlite" else pg_insert


def upsert_row(
    conn: Connection, table: Table, values: dict[str, Any], *, keys: tuple[str, ...] = ("id",)
) -> None:
    """Insert a row, or overwrite every other column of the row with the same ``keys``.

    The statement is built once per table and set of columns and then only
    given values: building one per call cost more than running it.
    """
    prepared_insert(conn.dialect.name, table, tuple(values), replace_on=keys).run(conn, values)


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless one with its key exists; whether this call inserted it.

    One atomic statement (a claim two writers can race for), built once per
    table.
    """
    return _insert_if_absent(conn.dialect.name, table).first(conn, values) is not None


def insert_statement(
    dialect: str,
    table: Table,
    columns: tuple[str, ...],
    *,
    replace_on: tuple[str, ...] = (),
    keep_existing: bool = False,
    rows: list[dict[str, Any]] | None = None,
) -> Any:
    """An INSERT into ``table`` (of ``rows``, when given, else of the values it runs with).

    On a row already there with the same ``replace_on`` columns, its other
    ``columns`` are replaced; with ``keep_existing``, it is left as it is;
    with neither, the insert fails.
    """
    if not (replace_on or keep_existing):
        plain = insert(table)
        return plain if rows is None else plain.values(rows)
    statement = _insert_with_conflicts(dialect)(table)
    if rows is not None:
        statement = statement.values(rows)
    if keep_existing:
        return statement.on_conflict_do_nothing()
    changed = {name: statement.excluded[name] for name in columns if name not in replace_on}
    return statement.on_conflict_do_update(index_elements=list(replace_on), set_=changed)


@cache
def prepared_insert(
    dialect: str,
    table: Table,
    columns: tuple[str, ...],
    *,
    replace_on: tuple[str, ...] = (),
    keep_existing: bool = False,
) -> Prepared:
    """``insert_statement`` built once per database, table, columns and conflict rule."""
    return Prepared(
        insert_statement(
            dialect, table, columns, replace_on=replace_on, keep_existing=keep_existing
        )
    )


@cache
def _insert_if_absent(dialect: str, table: Table) -> Prepared:
    statement = insert_statement(dialect, table, (), keep_existing=True)
    return Prepared(statement.returning(*table.primary_key.columns))


def escape_glob(value: str) -> str:
    """``value`` with GLOB's wildcards made literal."""
    return value.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")


def escape_like(value: str) -> str:
    """``value`` with LIKE's wildcards escaped by a backslash."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Prefixed:
    """The columns of a row that share a prefix, as attributes named without it."""

    def __init__(self, row: Any, prefix: str) -> None:
        names, positions = _with_prefix(tuple(row._fields), prefix)
        self.__dict__.update(zip(names, [row[i] for i in positions], strict=True))

    def __getattr__(self, name: str) -> Any:
        """Only a column the row lacks gets here (its columns are set as attributes)."""
        raise AttributeError(f"the row has no column {name!r} under its prefix")


@cache
def _with_prefix(fields: tuple[str, ...], prefix: str) -> tuple[list[str], list[int]]:
    at = [(i, name) for i, name in enumerate(fields) if name.startswith(prefix)]
    return [name[len(prefix) :] for _, name in at], [i for i, _ in at]


def state_page(
    conn: Connection,
    table: Table,
    tenant_id: str,
    filters: Mapping[str, object],
    *,
    cursor: str | None,
    limit: int,
) -> Page[dict[str, Any]]:
    """A tenant's page of a view kept as JSON ``state``, newest first.

    ``filters`` name columns and the value each must hold; a None value
    matches every row.
    """
    v = table.c
    selected = select(v.state).where(v.tenant_id == tenant_id)
    for column, value in filters.items():
        if value is not None:
            selected = selected.where(v[column] == value)
    keys = [v.id]
    rows, next_cursor = keyset_page(
        conn, sortable(selected, keys), keys, cursor, limit, newest_first=True
    )
    return Page([row.state for row in rows], next_cursor)
