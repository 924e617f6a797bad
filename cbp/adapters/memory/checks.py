"""The check register in memory."""

from __future__ import annotations

from datetime import date

from cbp.adapters.memory.database import ABSENT, Transaction
from cbp.domain.check import Check, CheckStatus
from cbp.domain.errors import ConcurrencyConflict
from cbp.ports.storage.checks import CheckFile


class InMemoryCheckRegister:
    """Checks, each tenant's last number, and the files made, in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def next_number(self, tenant_id: str, first: int) -> int:
        row = self.tx.get("check_numbers", tenant_id)
        seen = ABSENT if row is None else int(row["version"])
        number = first if row is None else max(seen + 1, first)
        # NOTE: the number is the row's version: two writers taking the same one conflict
        self.tx.put("check_numbers", tenant_id, {"version": number}, expect_version=seen)
        return number

    def add(self, check: Check) -> None:
        self.tx.put("checks", check.reference, check, insert=True)

    def get(self, reference: str) -> Check | None:
        return self.tx.get("checks", reference)

    def by_number(self, tenant_id: str, number: int) -> Check | None:
        return next(
            (c for c in self._checks() if (c.tenant_id, c.number) == (tenant_id, number)), None
        )

    def save(self, check: Check) -> None:
        self.tx.put("checks", check.reference, check)

    def mark_printed(self, checks: list[Check]) -> None:
        for check in checks:
            stored = self.get(check.reference)
            if stored is None or stored.status is not CheckStatus.ISSUED:
                raise ConcurrencyConflict(f"check {check.number} is no longer waiting to print")
            self.save(check)

    def to_print(self, *, limit: int) -> list[Check]:
        issued = [c for c in self._checks() if c.status is CheckStatus.ISSUED]
        return sorted(issued, key=lambda c: (c.tenant_id, c.number))[:limit]

    def to_report_void(self) -> list[Check]:
        found = [c for c in self._checks() if c.needs_void_reported]
        return sorted(found, key=lambda c: (c.tenant_id, c.number))

    def printed_before(self, day: date, *, limit: int) -> list[Check]:
        printed = [
            c
            for c in self._checks()
            if c.status is CheckStatus.PRINTED and c.printed_on is not None and c.printed_on < day
        ]
        return sorted(printed, key=lambda c: (c.tenant_id, c.number))[:limit]

    def mailed_by(self, day: date, *, limit: int) -> list[Check]:
        mailed = [
            c
            for c in self._checks()
            if c.status is CheckStatus.MAILED and c.mailed_on is not None and c.mailed_on <= day
        ]
        return sorted(mailed, key=lambda c: (c.mailed_on, c.reference))[:limit]

    def add_file(self, made: CheckFile) -> None:
        self.tx.put("check_files", made.name, (made, False), insert=True)

    def unwritten_files(self) -> list[CheckFile]:
        files = [made for made, written in self.tx.scan("check_files") if not written]
        return sorted(files, key=lambda f: f.name)

    def mark_written(self, name: str) -> None:
        row = self.tx.get("check_files", name)
        if row is not None:
            self.tx.put("check_files", name, (row[0], True))

    def _checks(self) -> list[Check]:
        return list(self.tx.scan("checks"))
