"""A biller's file of bills: each presented once, bad rows named and passed by."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from cbp.adapters.bill_files.reader import read_bills
from cbp.domain.errors import InvalidInput
from cbp.ports.storage.bills import BillFilter
from cbp.services.bills import import_bills
from tests.unit.services.conftest import World

HEADER = (
    "customer_id,payee_id,amount_due,minimum_due,statement_balance,currency,"
    "due_on,statement_on,reference\n"
)


def bill_file(tmp_path: Path, world: World, *rows: str) -> Path:
    path = tmp_path / "bills.csv"
    lines = [row.format(customer=world.customer_id, payee=world.payee_id) for row in rows]
    path.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_file_presents_each_bill_once_however_often_it_is_imported(
    world: World, tmp_path: Path
) -> None:
    path = bill_file(
        tmp_path,
        world,
        "{customer},{payee},80.00,25.00,80.00,USD,2026-03-20,2026-02-25,INV-1",
        "{customer},{payee},12.50,12.50,12.50,,2026-04-20,2026-03-25,INV-2",
    )
    first = import_bills(world.app.handle, read_bills(path, world.tenant_id))
    again = import_bills(world.app.handle, read_bills(path, world.tenant_id))
    assert (first.presented, first.already_presented, first.refused) == (2, 0, [])
    assert (again.presented, again.already_presented, again.refused) == (0, 2, [])
    query = BillFilter(tenant_id=world.tenant_id, customer_id=world.customer_id)
    listed = world.app.queries.list_bills(query).items
    assert sorted((b.reference, b.due_on) for b in listed) == [
        ("INV-1", date(2026, 3, 20)),
        ("INV-2", date(2026, 4, 20)),
    ]


def test_rows_that_fail_the_checks_a_bill_over_the_api_would_are_named(
    world: World, tmp_path: Path
) -> None:
    path = bill_file(
        tmp_path,
        world,
        "{customer},{payee},80.00,95.00,80.00,USD,2026-03-20,2026-02-25,INV-1",
        "{customer},{payee},eighty,1.00,80.00,USD,2026-03-20,2026-02-25,INV-2",
        "{customer},{payee},80.00,1.00,80.00,XXX,2026-03-20,2026-02-25,INV-3",
        "{customer},{payee},80.00,1.00,80.00,USD,2026-03-20,2026-02-25," + "R" * 65,
        "{customer},{payee},80.00,1.00,80.00,USD,2026-03-20,2026-02-25,BAD\x00REF",
        "{customer},{payee},80.00,1.00,80.00,USD,2026-03-20,2026-02-25,INV-6",
    )
    result = import_bills(world.app.handle, read_bills(path, world.tenant_id))
    assert result.presented == 1
    assert [number for number, _ in result.refused] == [1, 2, 3, 4, 5]
    assert "minimum due" in result.refused[0][1]


def test_a_json_file_reads_like_the_api_and_refuses_what_is_not_a_list(
    world: World, tmp_path: Path
) -> None:
    path = tmp_path / "bills.json"
    bill = {
        "customer_id": world.customer_id,
        "payee_id": world.payee_id,
        "amount_due": "80.00",
        "minimum_due": "25.00",
        "statement_balance": "80.00",
        "due_on": "2026-03-20",
        "statement_on": "2026-02-25",
        "reference": "INV-1",
    }
    path.write_text(json.dumps([bill, {**bill, "reference": ["not", "text"]}, 7]))
    result = import_bills(world.app.handle, read_bills(path, world.tenant_id))
    assert (result.presented, [n for n, _ in result.refused]) == (1, [2, 3])
    path.write_text(json.dumps(bill))
    with pytest.raises(InvalidInput, match="list"):
        list(read_bills(path, world.tenant_id))


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_a_file_saved_with_a_byte_order_mark_reads_as_without(
    world: World, tmp_path: Path, kind: str
) -> None:
    row = "{customer},{payee},80.00,25.00,80.00,USD,2026-03-20,2026-02-25,INV-1"
    plain = bill_file(tmp_path, world, row)
    if kind == "json":
        fields = HEADER.strip().split(",")
        values = row.format(customer=world.customer_id, payee=world.payee_id).split(",")
        plain = tmp_path / "bills.json"
        plain.write_text(json.dumps([dict(zip(fields, values, strict=True))]), encoding="utf-8")
    marked = tmp_path / f"marked.{kind}"
    marked.write_text(plain.read_text(encoding="utf-8"), encoding="utf-8-sig")
    assert marked.read_bytes().startswith(b"\xef\xbb\xbf")
    assert list(read_bills(marked, world.tenant_id)) == list(read_bills(plain, world.tenant_id))
