"""Checks cbp prints: issued, printed with Positive Pay, mailed, cashed, stopped, voided, expired.

The world's day is Monday 2 March 2026, 09:00 in New York. A personal
payee has no electronic path, so with ``CBP_CHECKS=printed`` it is paid by
a check; the directory biller is still paid electronically.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from cbp.adapters.checks.files import (
    PAID_ITEMS_COLUMNS,
    POSITIVE_PAY_COLUMNS,
    PRINT_COLUMNS,
    read_paid_items,
)
from cbp.adapters.memory.clock import InMemoryClock
from cbp.domain.check import CHECK_LIFETIME_DAYS
from cbp.domain.errors import IllegalTransition, InvalidInput, NotFound
from cbp.ports.storage.notices import ExceptionFilter
from cbp.services import commands as c
from tests.unit.services.conftest import World, make_world

FIRST_NUMBER = 5001


@pytest.fixture
def core_settings(tmp_path: Path) -> dict[str, Any]:
    return {
        "checks": "printed",
        "check_outbound_dir": str(tmp_path / "checks"),
        "check_first_number": FIRST_NUMBER,
    }


@pytest.fixture
def outbound(core_settings: dict[str, Any]) -> Path:
    return Path(core_settings["check_outbound_dir"])


def personal_payee(world: World, name: str = "Jane's Lawn Care") -> str:
    payee_id = world.app.handle(
        c.AddPayee(
            tenant_id=world.tenant_id,
            customer_id=world.customer_id,
            name=name,
            address=c.Address(
                line1="2 Elm St",
                line2="Unit 4",
                city="Springfield",
                state="IL",
                postal_code="62704",
            ),
            account_number="55501",
        )
    )
    world.app.run_until_idle()
    return str(payee_id)


def pay_by_check(world: World, amount: str = "75.00", **kwargs: Any) -> str:
    payee_id = kwargs.pop("payee_id", None) or personal_payee(world)
    payment_id = world.pay(amount, payee_id=payee_id, **kwargs)
    world.app.run_until_idle()
    return payment_id


def mail(world: World, clock: InMemoryClock) -> None:
    """Print the checks issued, and let the day pass after which the vendor has mailed them."""
    world.app.handle(c.PrintChecks())
    clock.advance(days=1)
    world.app.handle(c.SweepChecks())
    world.app.handle(c.ReconcilePayments())


def rows(path: Path) -> list[dict[str, str]]:
    content = path.read_bytes().decode("utf-8")
    assert content.endswith("\r\n") and "\n" not in content.replace("\r\n", "")
    return list(csv.DictReader(io.StringIO(content)))


def printed_files(outbound: Path, kind: str) -> list[Path]:
    return sorted(outbound.glob(f"{kind}-*.csv"))


def test_a_payee_without_an_electronic_path_is_paid_by_a_numbered_check_printed_with_positive_pay(
    world: World, outbound: Path
) -> None:
    payment_id = pay_by_check(world)
    check = world.app.queries.get_check(world.tenant_id, payment_id)
    assert (check.number, check.status.value, world.status(payment_id)) == (
        FIRST_NUMBER,
        "issued",
        "processing",
    )
    run = world.app.handle(c.PrintChecks())
    assert (run.printed, [f.kind for f in run.files]) == (1, ["print", "positive_pay"])
    [print_file] = printed_files(outbound, "checks")
    [positive_pay] = printed_files(outbound, "positive-pay")
    assert oct(print_file.stat().st_mode & 0o777) == "0o600"
    [printed] = rows(print_file)
    assert tuple(printed) == PRINT_COLUMNS
    assert printed == {
        "check_number": str(FIRST_NUMBER),
        "issue_date": "2026-03-02",
        "amount": "75.00",
        "currency": "USD",
        "payee_name": "Jane's Lawn Care",
        "address_line1": "2 Elm St",
        "address_line2": "Unit 4",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62704",
        "country": "US",
        "memo": payment_id,
    }
    [issued] = rows(positive_pay)
    assert tuple(issued) == POSITIVE_PAY_COLUMNS
    assert (issued["record_type"], issued["check_number"], issued["amount"]) == (
        "I",
        str(FIRST_NUMBER),
        "75.00",
    )
    again = world.app.handle(c.PrintChecks())
    assert (again.printed, again.files) == (0, ())


def test_a_mailed_check_completes_its_payment_and_a_paid_items_file_cashes_it(
    world: World, clock: InMemoryClock
) -> None:
    payment_id = pay_by_check(world)
    mail(world, clock)
    check = world.app.queries.get_check(world.tenant_id, payment_id)
    assert (check.status.value, str(check.mailed_on), world.status(payment_id)) == (
        "mailed",
        "2026-03-03",
        "completed",
    )
    paid = read_paid_items(
        "check_number,amount,paid_on\r\n"
        f"{FIRST_NUMBER},75.00,2026-03-09\r\n"
        f"{FIRST_NUMBER + 50},20.00,2026-03-09\r\n"
    )
    read = world.app.handle(c.ReadPaidItems(tenant_id=world.tenant_id, items=tuple(paid)))
    assert (read.cashed, read.unknown, read.refused) == (1, [FIRST_NUMBER + 50], [])
    assert world.app.queries.get_check(world.tenant_id, payment_id).status.value == "cashed"
    again = world.app.handle(c.ReadPaidItems(tenant_id=world.tenant_id, items=tuple(paid[:1])))
    assert (again.cashed, again.already_cashed) == (0, 1)
    with pytest.raises(IllegalTransition):
        world.app.handle(c.StopCheck(tenant_id=world.tenant_id, payment_id=payment_id))


def test_each_tenant_numbers_its_checks_from_its_own_range(world: World) -> None:
    first, second = pay_by_check(world), pay_by_check(world, "12.00")
    other = make_world(world.app, "Other Bank")
    theirs = pay_by_check(other)
    numbers = [
        world.app.queries.get_check(w.tenant_id, p).number
        for w, p in ((world, first), (world, second), (other, theirs))
    ]
    assert numbers == [FIRST_NUMBER, FIRST_NUMBER + 1, FIRST_NUMBER]


def test_a_stopped_mailed_check_is_refunded_and_the_bank_told_to_refuse_it(
    world: World, clock: InMemoryClock, outbound: Path
) -> None:
    payment_id = pay_by_check(world)
    mail(world, clock)
    world.app.handle(c.StopCheck(tenant_id=world.tenant_id, payment_id=payment_id))
    world.app.run_until_idle()
    payment = world.app.queries.get_payment(world.tenant_id, payment_id)
    assert (payment.status.value, payment.failure_code) == ("returned", "check_stopped")
    assert world.app.queries.get_check(world.tenant_id, payment_id).status.value == "stopped"
    clock.advance(hours=2)
    run = world.app.handle(c.PrintChecks())
    assert [f.kind for f in run.files] == ["positive_pay"]
    voids = rows(printed_files(outbound, "positive-pay")[-1])
    assert [(r["record_type"], r["check_number"]) for r in voids] == [("V", str(FIRST_NUMBER))]
    paid = read_paid_items(f"check_number,amount,paid_on\n{FIRST_NUMBER},75.00,2026-03-09\n")
    read = world.app.handle(c.ReadPaidItems(tenant_id=world.tenant_id, items=tuple(paid)))
    assert read.cashed == 0 and "stopped" in read.refused[0][1]


def test_a_check_stopped_or_voided_before_it_is_mailed_fails_its_payment_unprinted(
    world: World,
) -> None:
    stopped = pay_by_check(world)
    world.app.handle(c.StopCheck(tenant_id=world.tenant_id, payment_id=stopped))
    assert world.status(stopped) == "failed"
    voided = pay_by_check(world, "40.00")
    world.app.handle(c.PrintChecks())
    number = world.app.queries.get_check(world.tenant_id, voided).number
    world.app.handle(c.VoidCheck(tenant_id=world.tenant_id, check_number=number))
    payment = world.app.queries.get_payment(world.tenant_id, voided)
    assert (payment.status.value, payment.failure_code) == ("failed", "check_voided")
    with pytest.raises(NotFound):
        world.app.handle(c.VoidCheck(tenant_id=world.tenant_id, check_number=99))


def test_a_check_uncashed_for_its_lifetime_expires_and_its_payment_is_refunded(
    world: World, clock: InMemoryClock
) -> None:
    payment_id = pay_by_check(world)
    mail(world, clock)
    clock.advance(days=CHECK_LIFETIME_DAYS - 1)
    assert world.app.handle(c.SweepChecks()) == 0
    clock.advance(days=1)
    assert world.app.handle(c.SweepChecks()) == 1
    world.app.run_until_idle()
    payment = world.app.queries.get_payment(world.tenant_id, payment_id)
    assert (payment.status.value, payment.failure_code) == ("returned", "check_expired")
    query = ExceptionFilter(tenant_id=world.tenant_id, payment_id=payment_id)
    [exception] = world.app.queries.list_exceptions(query).items
    assert exception.reason_code == "check_expired"


def test_a_biller_paid_electronically_is_not_paid_by_check(world: World) -> None:
    payment_id = world.pay("30.00")
    world.app.run_until_idle()
    assert world.status(payment_id) == "completed"
    with pytest.raises(NotFound):
        world.app.queries.get_check(world.tenant_id, payment_id)


def test_a_paid_items_file_that_cannot_be_read_names_its_row() -> None:
    with pytest.raises(InvalidInput, match="paid_on"):
        read_paid_items("check_number,amount\n1,2.00\n")
    with pytest.raises(InvalidInput, match="row 2"):
        read_paid_items("check_number,amount,paid_on\n1,2.00,2026-03-02\n2,two,2026-03-02\n")
    assert PAID_ITEMS_COLUMNS == ("check_number", "amount", "paid_on")


@pytest.mark.parametrize(
    ("layout", "columns"),
    [
        ("print", PRINT_COLUMNS),
        ("positive-pay", POSITIVE_PAY_COLUMNS),
        ("paid-items", PAID_ITEMS_COLUMNS),
    ],
)
def test_each_file_s_columns_are_the_documented_layout(
    layout: str, columns: tuple[str, ...]
) -> None:
    docs = (Path(__file__).parents[3] / "docs" / "checks.md").read_text()
    documented = docs.split(f"<!-- layout: {layout} -->\n", 1)[1].splitlines()[0].strip("`")
    assert tuple(documented.split(", ")) == columns
