"""Writes a unit of work staged, sent to the database together when it commits.

A command's events, its views, the inbox notes, the outbox messages, the
audit drafts and the idempotency answer are written at commit, and nothing
in them is read back. On PostgreSQL they go as one statement: each table's
rows a data-modifying common table expression of one ``WITH``, so psycopg
binds, sends and reads back one statement instead of one a table (which
cost twice as much CPU as the writes themselves). A table's rows are one
multi-row ``INSERT``, so they are numbered in the order they were staged
(events, outbox messages and audit drafts are read back in that order).
Elsewhere (SQLite) each table's rows are one statement, in turn.

The statement for a given set of tables, row counts and columns is built
and compiled once, then given only values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, literal_column, select, update
from sqlalchemy.sql.selectable import CTE

from cbp.adapters.sql.prepared import Prepared
from cbp.adapters.sql.statements import insert_statement, prepared_insert

Row = Mapping[str, Any]


class Write:
    """How one table's staged rows are written: inserted, or each updating its row."""

    def run(self, conn: Connection, rows: Sequence[Row]) -> None:
        """Write ``rows`` now, on their own."""
        raise NotImplementedError

    def parts(self, name: str, count: int, columns: Sequence[str]) -> list[CTE]:
        """The expressions writing ``count`` rows of ``columns``.

        Row ``i``'s value of ``column`` is bound as ``{name}_{i}_{column}``.
        """
        raise NotImplementedError


class Inserted(Write):
    """Rows inserted in the order staged; on a key already there, replaced or left alone."""

    def __init__(
        self, table: Table, *, replace_on: tuple[str, ...] = (), keep_existing: bool = False
    ) -> None:
        self.table = table
        self.replace_on = replace_on
        self.keep_existing = keep_existing

    def run(self, conn: Connection, rows: Sequence[Row]) -> None:
        """Insert ``rows`` now, in one call."""
        prepared_insert(
            conn.dialect.name,
            self.table,
            tuple(rows[0]),
            replace_on=self.replace_on,
            keep_existing=self.keep_existing,
        ).run_many(conn, rows)

    def parts(self, name: str, count: int, columns: Sequence[str]) -> list[CTE]:
        """One multi-row insert (on PostgreSQL, the only database that takes them together)."""
        rows = [
            {c: bindparam(f"{name}_{i}_{c}", type_=self.table.c[c].type) for c in columns}
            for i in range(count)
        ]
        statement = insert_statement(
            "postgresql",
            self.table,
            tuple(columns),
            replace_on=self.replace_on,
            keep_existing=self.keep_existing,
            rows=rows,
        )
        return [statement.cte(name)]


class Updated(Write):
    """Each row sets its other columns on the row its ``keys`` columns name."""

    def __init__(self, table: Table, *, keys: tuple[str, ...]) -> None:
        self.table = table
        self.keys = keys
        self._now: dict[tuple[str, ...], Prepared] = {}

    def run(self, conn: Connection, rows: Sequence[Row]) -> None:
        """Update each row's row now, in one call."""
        columns = tuple(rows[0])
        if columns not in self._now:
            self._now[columns] = Prepared(self._update("now_", columns))
        # NOTE: a bound value may not take a column's name in an UPDATE: each is prefixed
        self._now[columns].run_many(conn, [{f"now_{k}": v for k, v in r.items()} for r in rows])

    def parts(self, name: str, count: int, columns: Sequence[str]) -> list[CTE]:
        """One update a row."""
        return [
            self._update(f"{name}_{i}_", tuple(columns)).cte(f"{name}_{i}") for i in range(count)
        ]

    def _update(self, prefix: str, columns: tuple[str, ...]) -> Any:
        c = self.table.c
        # NOTE: a key column's bound value is its own name's; SET takes the others
        where = and_(*(c[k] == bindparam(prefix + k, type_=c[k].type) for k in self.keys))
        values = {k: bindparam(prefix + k, type_=c[k].type) for k in columns if k not in self.keys}
        return update(self.table).where(where).values(values)


Staged = tuple[Write, Sequence[Row]]

#: Built once for each set of tables, row counts and columns.
_TOGETHER: dict[tuple[object, ...], Prepared] = {}
#: Beyond these, writes go in turn: a statement a size would be compiled for rare sizes.
_MOST_ROWS_TOGETHER = 32
_MOST_SHAPES = 256


def write_together(conn: Connection, staged: Sequence[Staged]) -> None:
    """Write every table's staged rows: in one statement on PostgreSQL, in turn elsewhere."""
    staged = [(write, rows) for write, rows in staged if rows]
    if not staged:
        return
    # NOTE: one table's rows too: psycopg sends several as a pipeline of its own,
    # which costs a round trip more than one statement
    rows_staged = sum(len(rows) for _, rows in staged)
    if conn.dialect.driver != "psycopg" or rows_staged > _MOST_ROWS_TOGETHER:
        _in_turn(conn, staged)
        return
    shape = tuple((write, len(rows), *rows[0]) for write, rows in staged)
    statement = _TOGETHER.get(shape)
    if statement is None:
        if len(_TOGETHER) >= _MOST_SHAPES:
            _in_turn(conn, staged)
            return
        parts = [
            part
            for n, (write, rows) in enumerate(staged)
            for part in write.parts(f"w{n}", len(rows), tuple(rows[0]))
        ]
        statement = _TOGETHER[shape] = Prepared(select(literal_column("1")).add_cte(*parts))
    values = {
        f"w{n}_{i}_{column}": value
        for n, (_, rows) in enumerate(staged)
        for i, row in enumerate(rows)
        for column, value in row.items()
    }
    statement.run(conn, values)  # NOTE: nothing fetched: in a pipeline, nothing waited for


def _in_turn(conn: Connection, staged: Sequence[Staged]) -> None:
    for write, rows in staged:
        write.run(conn, rows)
