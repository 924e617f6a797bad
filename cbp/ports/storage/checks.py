"""The check register: every check issued, its number, and the files it went out in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from cbp.domain.check import Check


@dataclass(frozen=True, kw_only=True)
class CheckFile:
    """A print or Positive Pay file as it was made, recorded before it is written out."""

    name: str
    tenant_id: str
    kind: str
    created_at: datetime
    content: str = field(repr=False)
    checks: int


class CheckRegister(Protocol):
    """Checks by payment reference, numbered from each tenant's own range."""

    def next_number(self, tenant_id: str, first: int) -> int:
        """The tenant's next check number (``first`` for its first), taken for good."""
        ...

    def add(self, check: Check) -> None:
        """Record a newly issued check."""
        ...

    def get(self, reference: str) -> Check | None:
        """The check of a payment's reference, if one was issued."""
        ...

    def by_number(self, tenant_id: str, number: int) -> Check | None:
        """The tenant's check with this number, if it issued one."""
        ...

    def save(self, check: Check) -> None:
        """Record a check's new status."""
        ...

    def mark_printed(self, checks: list[Check]) -> None:
        """Record these issued checks as printed; ConcurrencyConflict if one no longer is issued.

        Two print runs at once (two relays, the CLI beside the periodic job)
        cannot both print a check: the second conflicts and prints nothing.
        """
        ...

    def to_print(self, *, limit: int) -> list[Check]:
        """Issued checks not yet printed, every tenant's, by tenant and number.

        Held for this transaction: two print runs never print the same check.
        """
        ...

    def to_report_void(self) -> list[Check]:
        """Printed checks stopped, voided or expired, the bank not yet told, every tenant's."""
        ...

    def printed_before(self, day: date, *, limit: int) -> list[Check]:
        """Printed checks whose print run was before ``day``: the vendor has mailed them."""
        ...

    def mailed_by(self, day: date, *, limit: int) -> list[Check]:
        """Mailed checks still uncashed, mailed on ``day`` or before, oldest first."""
        ...

    def add_file(self, made: CheckFile) -> None:
        """Record a file made, not yet written out."""
        ...

    def unwritten_files(self) -> list[CheckFile]:
        """Files recorded but not yet written out, by name."""
        ...

    def mark_written(self, name: str) -> None:
        """The file is in the outbound directory."""
        ...
