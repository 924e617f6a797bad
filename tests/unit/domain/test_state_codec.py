"""Snapshots write each field by its type, and read it back by the type the record declares."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from cbp.domain.money import Money
from cbp.domain.state_codec import decode_fields, encode_fields


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Sample:
    name: str
    count: int
    flag: bool
    colour: Colour
    on: date
    at: datetime
    price: Money
    rate: Decimal
    until: date | None = None
    limit: Money | None = None
    _hidden: str = "not written"


def sample(**changes: object) -> Sample:
    fields: dict[str, object] = {
        "name": "x",
        "count": 3,
        "flag": True,
        "colour": Colour.BLUE,
        "on": date(2026, 3, 2),
        "at": datetime(2026, 3, 2, 14, 30, tzinfo=UTC),
        "price": Money.of("12.50", "USD"),
        "rate": Decimal("0.125"),
    }
    return Sample(**{**fields, **changes})  # type: ignore[arg-type]


def test_fields_are_written_as_json_primitives_and_private_ones_left_out() -> None:
    state = encode_fields(sample(until=date(2026, 4, 1)))
    assert state == {
        "name": "x",
        "count": 3,
        "flag": True,
        "colour": "blue",
        "on": "2026-03-02",
        "at": "2026-03-02T14:30:00+00:00",
        "price": "12.50",
        "rate": "0.125",
        "until": "2026-04-01",
        "limit": None,
    }


@pytest.mark.parametrize(
    "record",
    [sample(), sample(until=date(2027, 1, 4), limit=Money.of("99", "USD"), colour=Colour.RED)],
)
def test_a_record_read_back_is_the_record_written(record: Sample) -> None:
    state = encode_fields(record)
    assert Sample(**decode_fields(Sample, state, "USD")) == record


def test_fields_left_out_are_neither_written_nor_read() -> None:
    state = encode_fields(sample(), leave_out=("price", "limit"))
    assert "price" not in state and "limit" not in state
    assert "price" not in decode_fields(Sample, state, "USD", leave_out=("price", "limit"))
