"""Commands about checks: print runs, the mailing and expiry sweep, stops, voids, paid items."""

from __future__ import annotations

from dataclasses import dataclass, field

from cbp.ports.check_printer import PaidItem
from cbp.services.commands.base import Audited, Command


@dataclass(frozen=True, kw_only=True)
class PrintChecks(Command):
    """Write the print and Positive Pay files of every check issued since the last run."""


@dataclass(frozen=True, kw_only=True)
class SweepChecks(Command):
    """Mark the checks the vendor has mailed, and expire those uncashed for too long."""

    limit: int = 500


@dataclass(frozen=True, kw_only=True)
class StopCheck(Command):
    """Stop the check that pays a payment, before it is cashed; its payment is refunded."""

    audit = Audited(subject="payment_id")

    tenant_id: str
    payment_id: str


@dataclass(frozen=True, kw_only=True)
class VoidCheck(Command):
    """Void a check not yet mailed (a spoiled print); its payment fails."""

    audit = Audited(fields=("check_number",))

    tenant_id: str
    check_number: int


@dataclass(frozen=True, kw_only=True)
class ReadPaidItems(Command):
    """Mark cashed the checks a bank's paid-items file lists."""

    tenant_id: str
    items: tuple[PaidItem, ...] = field(repr=False)
