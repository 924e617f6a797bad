"""A dataclass record's fields as JSON primitives, and back, for snapshots.

Event-sourced aggregates keep a snapshot of their state in their read
model. Every field is written the same way whatever the record: an enum by
its value, a date or a moment in ISO form, money by its amount's text (the
record says its currency once). Reading a snapshot back follows each field's
declared type, so a record lists its fields once, in its class.
"""

from __future__ import annotations

import enum
import types
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Union, get_args, get_origin, get_type_hints

from cbp.domain.money import Money


def encode_fields(record: Any, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """The public fields of a dataclass ``record`` in JSON primitives."""
    return {
        f.name: _encode(getattr(record, f.name))
        for f in fields(record)
        if not f.name.startswith("_") and f.name not in leave_out
    }


def decode_fields(
    record_type: type[Any],
    state: dict[str, Any],
    currency: str,
    *,
    leave_out: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The constructor arguments of ``record_type`` that ``encode_fields`` wrote into ``state``."""
    hints = _hints(record_type)
    return {
        f.name: _decode(hints[f.name], state[f.name], currency)
        for f in fields(record_type)
        if f.init and not f.name.startswith("_") and f.name not in leave_out
    }


_declared: dict[type[Any], dict[str, Any]] = {}


def _hints(record_type: type[Any]) -> dict[str, Any]:
    if record_type not in _declared:
        _declared[record_type] = get_type_hints(record_type)
    return _declared[record_type]


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Money):
        return str(value.amount)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decode(declared: Any, value: Any, currency: str) -> Any:
    if value is None:
        return None
    if get_origin(declared) in (Union, types.UnionType):
        (declared,) = (arg for arg in get_args(declared) if arg is not type(None))
    if declared is datetime:
        return datetime.fromisoformat(value)
    if declared is date:
        return date.fromisoformat(value)
    if declared is Money:
        return Money(Decimal(value), currency)
    if declared is Decimal:
        return Decimal(value)
    if isinstance(declared, type) and issubclass(declared, enum.Enum):
        return declared(value)
    return value
