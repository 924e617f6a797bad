"""The check files: the print file for the vendor, Positive Pay for the bank, paid items back.

Every file is CSV (RFC 4180, CRLF line ends, a header row, UTF-8), one per
tenant (a tenant's checks are drawn on its own account) and per print run.

Print file ``checks-<tenant>-<YYYYMMDD-HHMMSS>.csv``, one row per check:
``check_number, issue_date, amount, currency, payee_name, address_line1,
address_line2, city, state, postal_code, country, memo``. The amount is a
decimal (``142.50``); the memo line carries the payment's reference.

Positive Pay issue file ``positive-pay-<tenant>-<YYYYMMDD-HHMMSS>.csv``:
``record_type, check_number, amount, issue_date, payee_name``, where
``record_type`` is ``I`` for a check issued in the print file beside it, and
``V`` for an earlier check the bank must now refuse (stopped, voided or
expired).

Paid-items file, from the bank: ``check_number, amount, paid_on``
(``paid_on`` as YYYY-MM-DD); other columns are ignored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

from cbp.domain.check import Check
from cbp.domain.errors import InvalidInput
from cbp.ports.check_printer import PaidItem

PRINT_COLUMNS = (
    "check_number",
    "issue_date",
    "amount",
    "currency",
    "payee_name",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
    "memo",
)
POSITIVE_PAY_COLUMNS = ("record_type", "check_number", "amount", "issue_date", "payee_name")
PAID_ITEMS_COLUMNS = ("check_number", "amount", "paid_on")


def print_file(checks: Iterable[Check], issue_date: date) -> str:
    """The vendor's print file of ``checks``, dated ``issue_date``."""
    rows = [
        {
            "check_number": c.number,
            "issue_date": issue_date.isoformat(),
            "amount": str(c.amount.amount),
            "currency": c.amount.currency,
            "payee_name": c.payee_name,
            "address_line1": c.mail_to.line1,
            "address_line2": c.mail_to.line2 or "",
            "city": c.mail_to.city,
            "state": c.mail_to.state,
            "postal_code": c.mail_to.postal_code,
            "country": c.mail_to.country,
            "memo": c.memo,
        }
        for c in checks
    ]
    return _csv(PRINT_COLUMNS, rows)


def positive_pay_file(issued: Iterable[Check], refused: Iterable[Check], issue_date: date) -> str:
    """The bank's Positive Pay file: the checks issued today, and those it must now refuse."""
    rows = [
        {
            "record_type": record_type,
            "check_number": c.number,
            "amount": str(c.amount.amount),
            "issue_date": issue_date.isoformat(),
            "payee_name": c.payee_name,
        }
        for record_type, checks in (("I", issued), ("V", refused))
        for c in checks
    ]
    return _csv(POSITIVE_PAY_COLUMNS, rows)


def read_paid_items(content: str) -> list[PaidItem]:
    """The checks a paid-items file says were paid; InvalidInput names a bad row."""
    reader = csv.DictReader(io.StringIO(content))
    missing = [c for c in PAID_ITEMS_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise InvalidInput(f"the paid-items file has no {', '.join(missing)} column")
    items = []
    for row_number, row in enumerate(reader, start=1):
        try:
            number = int(row["check_number"])
            amount = Decimal(row["amount"])
            paid_on = date.fromisoformat(row["paid_on"])
        except (TypeError, ValueError, InvalidOperation):
            raise InvalidInput(
                f"row {row_number}: check_number, amount and paid_on must be a number, "
                "a decimal amount and a date (YYYY-MM-DD)"
            ) from None
        if number < 1 or not amount.is_finite() or amount <= 0:
            raise InvalidInput(f"row {row_number}: a paid check has a number and an amount")
        items.append(PaidItem(row_number, number, amount, paid_on))
    return items


def _csv(columns: tuple[str, ...], rows: list[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
