"""The check register as tables of the deployment's database."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, insert, select, text, update

from cbp.adapters.sql import schema as t
from cbp.adapters.sql.rows import must_utc, utc
from cbp.adapters.sql.statements import dialect_insert, insert_row
from cbp.domain.check import Check, CheckStatus
from cbp.domain.directory import Address
from cbp.domain.errors import ConcurrencyConflict
from cbp.domain.money import Money
from cbp.ports.storage.checks import CheckFile

#: The advisory lock that keeps one print run at a time on PostgreSQL.
_PRINT_LOCK = 0x0CB9_C4EC

_c = t.checks.c
_f = t.check_files.c


class SqlCheckRegister:
    """The checks, check_numbers and check_files tables."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def next_number(self, tenant_id: str, first: int) -> int:
        n = t.check_numbers.c
        taken = (
            dialect_insert(self.conn)(t.check_numbers)
            .values(tenant_id=tenant_id, last_number=first)
            .on_conflict_do_update(
                index_elements=["tenant_id"], set_={"last_number": n.last_number + 1}
            )
            .returning(n.last_number)
        )
        number = int(self.conn.execute(taken).scalar_one())
        if number < first:  # NOTE: a range moved up starts at its new first number
            self.conn.execute(
                update(t.check_numbers).where(n.tenant_id == tenant_id).values(last_number=first)
            )
            number = first
        return number

    def add(self, check: Check) -> None:
        insert_row(self.conn, t.checks, _values(check), f"check {check.reference}")

    def get(self, reference: str) -> Check | None:
        return self._one(select(t.checks).where(_c.reference == reference))

    def by_number(self, tenant_id: str, number: int) -> Check | None:
        return self._one(
            select(t.checks).where(_c.tenant_id == tenant_id, _c.check_number == number)
        )

    def save(self, check: Check) -> None:
        values = _values(check)
        del values["reference"]
        self.conn.execute(update(t.checks).where(_c.reference == check.reference).values(values))

    def mark_printed(self, checks: list[Check]) -> None:
        for check in checks:
            values = _values(check)
            del values["reference"]
            issued = self.conn.execute(
                update(t.checks)
                .where(_c.reference == check.reference, _c.status == CheckStatus.ISSUED.value)
                .values(values)
            )
            if issued.rowcount != 1:
                raise ConcurrencyConflict(f"check {check.number} is no longer waiting to print")

    def to_print(self, *, limit: int) -> list[Check]:
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PRINT_LOCK})
        query = select(t.checks).where(_c.status == CheckStatus.ISSUED.value)
        return self._all(query.order_by(_c.tenant_id, _c.check_number).limit(limit))

    def to_report_void(self) -> list[Check]:
        refused = [s.value for s in (CheckStatus.STOPPED, CheckStatus.VOIDED, CheckStatus.EXPIRED)]
        query = select(t.checks).where(
            _c.status.in_(refused),
            _c.print_file.is_not(None),
            _c.void_reported.is_(False),
        )
        return self._all(query.order_by(_c.tenant_id, _c.check_number))

    def printed_before(self, day: date, *, limit: int) -> list[Check]:
        query = select(t.checks).where(_c.status == CheckStatus.PRINTED.value, _c.printed_on < day)
        return self._all(query.order_by(_c.tenant_id, _c.check_number).limit(limit))

    def mailed_by(self, day: date, *, limit: int) -> list[Check]:
        query = select(t.checks).where(_c.status == CheckStatus.MAILED.value, _c.mailed_on <= day)
        return self._all(query.order_by(_c.mailed_on, _c.reference).limit(limit))

    def add_file(self, made: CheckFile) -> None:
        self.conn.execute(
            insert(t.check_files).values(
                name=made.name,
                tenant_id=made.tenant_id,
                kind=made.kind,
                created_at=made.created_at,
                content=made.content,
                checks=made.checks,
                written=False,
            )
        )

    def unwritten_files(self) -> list[CheckFile]:
        rows = self.conn.execute(
            select(t.check_files).where(_f.written.is_(False)).order_by(_f.name)
        ).all()
        return [
            CheckFile(
                name=row.name,
                tenant_id=row.tenant_id,
                kind=row.kind,
                created_at=must_utc(row.created_at),
                content=row.content,
                checks=row.checks,
            )
            for row in rows
        ]

    def mark_written(self, name: str) -> None:
        self.conn.execute(update(t.check_files).where(_f.name == name).values(written=True))

    def _one(self, query: Select[Any]) -> Check | None:
        row = self.conn.execute(query).first()
        return None if row is None else _check(row)

    def _all(self, query: Select[Any]) -> list[Check]:
        return [_check(row) for row in self.conn.execute(query)]


def _values(check: Check) -> dict[str, Any]:
    return {
        "reference": check.reference,
        "tenant_id": check.tenant_id,
        "check_number": check.number,
        "amount": str(check.amount.amount),
        "currency": check.amount.currency,
        "payee_name": check.payee_name,
        "mail_to": asdict(check.mail_to),
        "memo": check.memo,
        "status": check.status.value,
        "issued_at": check.issued_at,
        "print_file": check.print_file,
        "printed_on": check.printed_on,
        "mailed_on": check.mailed_on,
        "cashed_on": check.cashed_on,
        "closed_at": check.closed_at,
        "void_reported": check.void_reported,
    }


def _check(row: Any) -> Check:
    return Check(
        reference=row.reference,
        tenant_id=row.tenant_id,
        number=int(row.check_number),
        amount=Money(Decimal(row.amount), row.currency),
        payee_name=row.payee_name,
        mail_to=Address(**row.mail_to),
        memo=row.memo,
        status=CheckStatus(row.status),
        issued_at=must_utc(row.issued_at),
        print_file=row.print_file,
        printed_on=row.printed_on,
        mailed_on=row.mailed_on,
        cashed_on=row.cashed_on,
        closed_at=utc(row.closed_at),
        void_reported=bool(row.void_reported),
    )
