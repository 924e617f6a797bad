"""One generic mapping between a record dataclass and a row of the same column names.

Each record's fields are its columns. A field's type says how its column is
read back: enums from their values, times in UTC, tuples and frozensets from
JSON lists, nested dataclasses from JSON objects, bytes from the driver's
buffer. Writing is the reverse. A field whose column differs (an encrypted
one, a money amount kept as two columns) is given by the caller by name.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Hashable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

R = TypeVar("R")

Decoder = Callable[[Any], Any]


def utc(moment: datetime | None) -> datetime | None:
    """The moment in UTC: SQLite returns naive times, PostgreSQL zoned ones."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def must_utc(moment: datetime) -> datetime:
    """``utc`` for a column that is never null."""
    result = utc(moment)
    assert result is not None
    return result


def record_from_row(record_type: type[R], row: Any, **given: Any) -> R:
    """The record a row holds: each field read from the column of its name.

    Fields passed in ``given`` are taken as they are (decrypted or composed
    values the row does not hold under the field's name).
    """
    values = {
        name: given[name] if name in given else decode(getattr(row, name))
        for name, decode in _decoders(record_type)
    }
    return record_type(**values)


def record_values(record: Any, *, without: tuple[str, ...] = (), **given: Any) -> dict[str, Any]:
    """The column values of a record: each field under its own name, in a column's shape.

    ``given`` adds or replaces columns (derived or encrypted ones); the fields
    named in ``without`` have no column of their name, and neither has state
    a record keeps for itself (fields its constructor does not take).
    """
    kind: type = type(record)
    values = {
        name: _encode(getattr(record, name))
        for name in _columns_of(kind)
        if name not in without and name not in given
    }
    values.update(given)
    return values


@cache
def _columns_of(record_type: Hashable) -> tuple[str, ...]:
    assert isinstance(record_type, type)
    return tuple(field.name for field in dataclasses.fields(record_type) if field.init)


#: Values a column takes as they are: most of a record's fields.
_PLAIN = frozenset({str, int, float, bool, type(None), datetime, date, Decimal, bytes})


def _encode(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | frozenset):
        items = [_encode(item) for item in value]
        return sorted(items) if isinstance(value, frozenset) else items
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _decoders(record_type: type) -> tuple[tuple[str, Decoder], ...]:
    return _decoders_of(record_type)


@cache
def _decoders_of(record_type: Hashable) -> tuple[tuple[str, Decoder], ...]:
    assert isinstance(record_type, type)
    hints = get_type_hints(record_type)
    return tuple(
        (field.name, _decoder(hints[field.name]))
        for field in dataclasses.fields(record_type)
        if field.init
    )


def _same(value: Any) -> Any:
    return value


def _decoder(hint: Any) -> Decoder:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner_hint,) = (arg for arg in args if arg is not type(None))
        inner = _decoder(inner_hint)
        return _same if inner is _same else lambda value: None if value is None else inner(value)
    if origin in (tuple, frozenset):
        item = _decoder(args[0])
        return lambda value: origin(item(each) for each in value)
    if hint is datetime:
        return must_utc
    if hint is Decimal:
        return Decimal
    if hint in (bytes, bool):
        return hint  # type: ignore[no-any-return]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return lambda value: hint(**value) if isinstance(value, Mapping) else value
    return _same
