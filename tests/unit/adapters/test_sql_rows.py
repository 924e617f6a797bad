"""The generic row mapping: a record's fields to columns and back, by field type."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

from cbp.adapters.sql.rows import record_from_row, record_values


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Place:
    city: str
    zip: str


@dataclass(frozen=True)
class Sample:
    id: str
    colour: Colour
    colours: tuple[Colour, ...]
    tags: frozenset[str]
    at: datetime
    ended_at: datetime | None
    on: date
    amount: Decimal
    place: Place | None
    body: bytes | None
    flag: bool
    _private: list[str] = field(default_factory=list, init=False)


def sample(**changes: object) -> Sample:
    values: dict[str, object] = {
        "id": "s_1",
        "colour": Colour.RED,
        "colours": (Colour.BLUE, Colour.RED),
        "tags": frozenset({"b", "a"}),
        "at": datetime(2027, 1, 4, 15, 30, tzinfo=UTC),
        "ended_at": None,
        "on": date(2027, 1, 4),
        "amount": Decimal("12.50"),
        "place": Place("Springfield", "12345"),
        "body": b"{}",
        "flag": True,
    }
    values.update(changes)
    return Sample(**values)  # type: ignore[arg-type]


def test_values_are_the_fields_in_column_shapes_without_private_state() -> None:
    values = record_values(sample())

    assert values == {
        "id": "s_1",
        "colour": "red",
        "colours": ["blue", "red"],
        "tags": ["a", "b"],
        "at": datetime(2027, 1, 4, 15, 30, tzinfo=UTC),
        "ended_at": None,
        "on": date(2027, 1, 4),
        "amount": Decimal("12.50"),
        "place": {"city": "Springfield", "zip": "12345"},
        "body": b"{}",
        "flag": True,
    }


def test_given_columns_replace_fields_and_without_drops_them() -> None:
    values = record_values(sample(), without=("body",), body_enc="sealed", colour="blue")

    assert "body" not in values
    assert values["body_enc"] == "sealed"
    assert values["colour"] == "blue"


def test_a_row_of_the_values_reads_back_as_the_same_record() -> None:
    record = sample(ended_at=datetime(2027, 1, 5, tzinfo=UTC))
    row = SimpleNamespace(**record_values(record))

    assert record_from_row(Sample, row) == record


def test_reading_puts_naive_and_zoned_times_in_utc_and_keeps_nulls() -> None:
    eastern = timezone(timedelta(hours=-5))
    row = SimpleNamespace(
        **record_values(sample(place=None, body=None)),
    )
    row.at = datetime(2027, 1, 4, 15, 30)  # SQLite: naive, in UTC
    row.ended_at = datetime(2027, 1, 4, 10, 30, tzinfo=eastern)  # PostgreSQL: zoned
    row.body = memoryview(b"")

    record = record_from_row(Sample, row)

    assert record.at == datetime(2027, 1, 4, 15, 30, tzinfo=UTC)
    assert record.at.tzinfo is UTC
    assert record.ended_at == datetime(2027, 1, 4, 15, 30, tzinfo=UTC)
    assert record.ended_at is not None and record.ended_at.tzinfo is UTC
    assert record.place is None
    assert record.body == b""


def test_given_fields_are_taken_as_they_are() -> None:
    row = SimpleNamespace(**record_values(sample()))

    record = record_from_row(Sample, row, id="s_2", place=Place("Shelbyville", "54321"))

    assert record.id == "s_2"
    assert record.place == Place("Shelbyville", "54321")
    assert record.colours == (Colour.BLUE, Colour.RED)
    assert record.tags == frozenset({"a", "b"})
