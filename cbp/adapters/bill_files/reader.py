"""Reading a file of bills, CSV or JSON, into one command per bill.

CSV columns: ``customer_id, payee_id, amount_due, minimum_due,
statement_balance, currency, due_on, statement_on, reference`` (currency
optional, USD when absent; dates YYYY-MM-DD). JSON is a list of objects
with the same fields, shaped like the API's POST /bill. A row that cannot be
read is handed on as its error, with its row number, so one bad row does
not stop the rest.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from cbp.domain.errors import InvalidInput
from cbp.services.bills import BillRow
from cbp.services.commands import PresentBill

CSV_COLUMNS = (
    "customer_id",
    "payee_id",
    "amount_due",
    "minimum_due",
    "statement_balance",
    "currency",
    "due_on",
    "statement_on",
    "reference",
)
_REQUIRED = tuple(column for column in CSV_COLUMNS if column != "currency")


def read_bills(path: Path, tenant_id: str) -> Iterator[BillRow]:
    """The bills in a ``.csv`` or ``.json`` file, for ``tenant_id``'s customers."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=1):
                yield _read(row, number, tenant_id)
    elif suffix == ".json":
        try:
            records = json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InvalidInput(f"{path.name} is not JSON: {error}") from None
        if not isinstance(records, list):
            raise InvalidInput("a JSON bill file must be a list of bills")
        for number, record in enumerate(records, start=1):
            yield _read(record, number, tenant_id)
    else:
        raise InvalidInput(f"cannot read {path.name}: use a .csv or .json file")


def _read(record: Any, number: int, tenant_id: str) -> BillRow:
    if not isinstance(record, dict):
        return BillRow(number, error="a bill must be an object of its fields")
    missing = [column for column in _REQUIRED if record.get(column) in (None, "")]
    if missing:
        return BillRow(number, error=f"missing {', '.join(missing)}")
    try:
        command = PresentBill(
            tenant_id=tenant_id,
            customer_id=_text(record["customer_id"]),
            payee_id=_text(record["payee_id"]),
            amount_due=_text(record["amount_due"]),
            minimum_due=_text(record["minimum_due"]),
            statement_balance=_text(record["statement_balance"]),
            currency=_text(record.get("currency") or "USD"),
            due_on=_day(record["due_on"], "due_on"),
            statement_on=_day(record["statement_on"], "statement_on"),
            reference=_text(record["reference"]),
            actor="bill-import",
        )
    except InvalidInput as error:
        return BillRow(number, error=str(error))
    return BillRow(number, command=command)


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(f"{value!r} is not text or a number")
    text = str(value)
    if "\x00" in text:
        raise InvalidInput("a field holds a NUL character")
    return text


def _day(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(_text(value))
    except ValueError:
        raise InvalidInput(f"{field} must be a date, YYYY-MM-DD") from None
