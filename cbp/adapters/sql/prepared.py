"""Statements compiled once and run at the driver's cost on PostgreSQL.

A hot path's statements are fixed: the same SQL with new values each time.
SQLAlchemy still builds an execution context, a result's metadata (a column
object per column, from the cursor's description) and a row proxy for each
run, which cost as much again as psycopg's own work. A ``Prepared``
statement is compiled by SQLAlchemy once per database and set of values,
then run on psycopg's cursor, prepared on the server from its first run (it
is run again, and a statement prepared costs no parse nor plan after).
Its rows are plain named tuples.

The connection stays SQLAlchemy's: the statement joins its transaction (and
begins it, so that its commit and rollback cover the statement), and a
failure goes through SQLAlchemy's own handling, so a lost connection is
discarded and answered as the database being unavailable, and a constraint
is an ``IntegrityError`` as from any other statement. On other databases
(SQLite) and for a statement SQLAlchemy would add values to (a default it
computes before an insert), the statement runs through SQLAlchemy as usual.
"""

from __future__ import annotations

import copy
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any, cast

from sqlalchemy import ARRAY, Connection, Dialect, any_, bindparam
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

Values = Mapping[str, Any]


class _Compiled:
    """One compilation: its SQL, its values in order, the type of its rows."""

    __slots__ = ("cursor_type", "error", "make_row", "order", "sql", "text")

    def __init__(self, compiled: SQLCompiler, dialect: Dialect, given: Sequence[str]) -> None:
        self.text = compiled.string
        #: Sent as it is: PostgreSQL's own $1 placeholders, which psycopg's raw cursor
        #: passes without parsing the SQL for its placeholders on every run
        self.sql = compiled.string.encode()
        #: The driver's base error, which SQLAlchemy's own handling takes
        self.error: type[Exception] = dialect.loaded_dbapi.Error
        self.cursor_type: Callable[[Any], Any] = dialect.loaded_dbapi.RawCursor
        fixed = compiled.params  # NOTE: values the statement holds itself (a literal, a status)
        #: Each placeholder's value: the given one's name, or the statement's own value
        self.order: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if name in given:
                self.order.append((name, None, process))  # NOTE: JSON and bytes are wrapped
            else:
                value = fixed[name]
                self.order.append(("", value if process is None else process(value), None))
        self.make_row: Callable[[Sequence[Any]], Any] | None = None

    def values(self, given: Values) -> list[Any]:
        return [
            (given[name] if process is None else process(given[name])) if name else value
            for name, value, process in self.order
        ]

    def rows_of(self, cursor: Any) -> Callable[[Sequence[Any]], Any]:
        if self.make_row is None:  # NOTE: the SQL is fixed, and so are its columns
            names = [column.name for column in cursor.description or ()]
            self.make_row = namedtuple("Row", names)._make  # type: ignore[attr-defined]
        return self.make_row


class Prepared:
    """A Core statement built once, given only values each time it runs.

    ``first``, ``all``, ``run`` and ``run_many`` answer the same on every
    database; only their cost differs.
    """

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[object, ...], _Compiled | None] = {}

    def first(self, conn: Connection, values: Values) -> Any | None:
        """The first row the statement returns, or None."""
        compiled = self._compiled_for(conn, values, many=False)
        if compiled is None:
            return conn.execute(self.statement, values).first()
        with _executed(conn, compiled, values) as cursor:
            row = cursor.fetchone()
            return None if row is None else compiled.rows_of(cursor)(row)

    def all(self, conn: Connection, values: Values) -> list[Any]:
        """Every row the statement returns."""
        compiled = self._compiled_for(conn, values, many=False)
        if compiled is None:
            return list(conn.execute(self.statement, values))
        with _executed(conn, compiled, values) as cursor:
            make = compiled.rows_of(cursor)
            return [make(row) for row in cursor.fetchall()]

    def run(self, conn: Connection, values: Values) -> int:
        """Run a statement that returns no rows; how many rows it changed."""
        compiled = self._compiled_for(conn, values, many=False)
        if compiled is None:
            return int(conn.execute(self.statement, values).rowcount)
        with _executed(conn, compiled, values) as cursor:
            return int(cursor.rowcount)

    def run_many(self, conn: Connection, rows: Sequence[Values]) -> None:
        """Run the statement once for each of ``rows``, which all have the same keys."""
        if not rows:
            return
        if len(rows) == 1:  # NOTE: psycopg sends several in a pipeline, a round trip more
            self.run(conn, rows[0])
            return
        compiled = self._compiled_for(conn, rows[0], many=True)
        if compiled is None:
            conn.execute(self.statement, list(rows))
            return
        with _executed(conn, compiled, rows, many=True):
            pass

    def _compiled_for(self, conn: Connection, values: Values, *, many: bool) -> _Compiled | None:
        key = (conn.dialect.name, many, *values)
        try:
            return self._compiled[key]
        except KeyError:
            pass
        dialect = conn.dialect
        found = None
        if dialect.driver == "psycopg":
            compiled = cast(ClauseElement, self.statement).compile(
                dialect=_numbered(dialect), column_keys=list(values), for_executemany=many
            )
            assert isinstance(compiled, SQLCompiler)
            # NOTE: values SQLAlchemy would compute, or lists it would expand, stay its job
            computed = compiled.insert_prefetch or compiled.update_prefetch
            if not (computed or compiled.post_compile_params):
                found = _Compiled(compiled, dialect, list(values))
        self._compiled[key] = found
        return found


class OverList:
    """A statement over a list of values in one column, prepared once however long the list.

    On PostgreSQL the list is one array value (``column = ANY(:name)``), so
    every length runs the one prepared statement; elsewhere it is an
    expanding ``IN``, which SQLAlchemy renders for each length.
    """

    __slots__ = ("_elsewhere", "_on_postgresql")

    def __init__(
        self,
        build: Callable[[ColumnElement[bool]], Executable],
        column: ColumnElement[Any],
        name: str,
    ) -> None:
        self._on_postgresql = Prepared(
            build(column == any_(bindparam(name, type_=ARRAY(column.type))))
        )
        self._elsewhere = Prepared(build(column.in_(bindparam(name, expanding=True))))

    def on(self, conn: Connection) -> Prepared:
        """The statement for ``conn``'s database."""
        return self._on_postgresql if conn.dialect.name == "postgresql" else self._elsewhere


@contextmanager
def _executed(
    conn: Connection,
    compiled: _Compiled,
    values: Values | Sequence[Values],
    *,
    many: bool = False,
) -> Iterator[Any]:
    """The driver's cursor, having run the statement in ``conn``'s transaction."""
    if not conn.in_transaction():
        conn.begin()  # NOTE: SQLAlchemy's commit and rollback then cover this statement
    cursor = compiled.cursor_type(conn.connection.driver_connection)
    try:
        try:
            if many:
                assert not isinstance(values, Mapping)
                cursor.executemany(compiled.sql, [compiled.values(row) for row in values])
            else:
                assert isinstance(values, Mapping)
                cursor.execute(compiled.sql, compiled.values(values), prepare=True)
        except compiled.error as error:
            # NOTE: SQLAlchemy's own handling: a lost connection is discarded and
            # reported, and the error raised is the one its execution would raise
            conn._handle_dbapi_exception(error, compiled.text, values, None, None)
            raise
        yield cursor
    finally:
        cursor.close()


@cache
def _numbered(dialect: Dialect) -> Dialect:
    """``dialect``, compiling placeholders as PostgreSQL's own: $1, $2 and on."""
    numbered = copy.copy(dialect)
    numbered.paramstyle = "numeric_dollar"
    numbered.positional = True
    return numbered
