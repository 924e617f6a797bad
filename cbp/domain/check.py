"""Checks: how a payee without an electronic path is paid.

A payment to a biller whose method is ``check``, or to a personal payee,
can be paid by a check the bank's check vendor prints and mails. The check
takes the next number of its tenant's range when it is issued; a print run
puts it in a print file (and the matching Positive Pay issue file, so the
bank pays only checks it issued, for the amount it issued them for); it is
mailed the business day after; it is cashed when the bank's paid-items file
says so. Until it is cashed it can be stopped; until it is mailed, voided;
and a check left uncashed for ``CHECK_LIFETIME_DAYS`` expires, and its
payment is refunded.

```
issued -> printed -> mailed -> cashed
issued, printed -> voided
issued, printed, mailed -> stopped
mailed -> expired
```
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cbp.domain.directory import Address
from cbp.domain.errors import IllegalTransition, InvalidInput
from cbp.domain.money import Money

#: How long a mailed check may go uncashed before it is void and its payment refunded.
CHECK_LIFETIME_DAYS = 180


class CheckStatus(enum.StrEnum):
    """Where a check stands."""

    ISSUED = "issued"
    PRINTED = "printed"
    MAILED = "mailed"
    CASHED = "cashed"
    STOPPED = "stopped"
    VOIDED = "voided"
    EXPIRED = "expired"


#: The statuses each action may be taken from.
_ALLOWED_FROM: dict[str, frozenset[CheckStatus]] = {
    "print": frozenset({CheckStatus.ISSUED}),
    "mail": frozenset({CheckStatus.PRINTED}),
    "cash": frozenset({CheckStatus.PRINTED, CheckStatus.MAILED}),
    "stop": frozenset({CheckStatus.ISSUED, CheckStatus.PRINTED, CheckStatus.MAILED}),
    "void": frozenset({CheckStatus.ISSUED, CheckStatus.PRINTED}),
    "expire": frozenset({CheckStatus.MAILED}),
}


@dataclass(kw_only=True, eq=False)
class Check:
    """One check: its number, amount, payee and address, and how far it has got."""

    reference: str
    tenant_id: str
    number: int
    amount: Money
    payee_name: str
    mail_to: Address
    #: What the check's memo line says: the payment's reference, for the payee's books.
    memo: str
    status: CheckStatus = CheckStatus.ISSUED
    issued_at: datetime
    print_file: str | None = None
    printed_on: date | None = None
    mailed_on: date | None = None
    cashed_on: date | None = None
    closed_at: datetime | None = None
    #: Whether the bank has been told, in a Positive Pay file, not to pay it.
    void_reported: bool = False

    def __post_init__(self) -> None:
        if self.number < 1:
            raise InvalidInput("a check number must be positive")
        if not self.amount.is_positive:
            raise InvalidInput("a check must be for a positive amount")

    @property
    def expires_on(self) -> date | None:
        """The day a mailed check left uncashed expires."""
        if self.mailed_on is None:
            return None
        return self.mailed_on + timedelta(days=CHECK_LIFETIME_DAYS)

    @property
    def was_mailed(self) -> bool:
        """Whether the check left the vendor (its payment counts as sent)."""
        return self.mailed_on is not None

    @property
    def needs_void_reported(self) -> bool:
        """A stopped, voided or expired check the bank must refuse and has not been told of."""
        refused = (CheckStatus.STOPPED, CheckStatus.VOIDED, CheckStatus.EXPIRED)
        return self.status in refused and self.print_file is not None and not self.void_reported

    def printed(self, file_name: str, *, on: date) -> None:
        """The check went out in a print file, to the vendor."""
        self._check_allowed("print")
        self.status, self.print_file, self.printed_on = CheckStatus.PRINTED, file_name, on

    def mailed(self, on: date) -> None:
        """The vendor mailed the check."""
        self._check_allowed("mail")
        self.status, self.mailed_on = CheckStatus.MAILED, on

    def cashed(self, *, amount: Money, on: date, at: datetime) -> None:
        """The bank paid the check; an amount other than the issued one is refused."""
        self._check_allowed("cash")
        if amount != self.amount:
            raise InvalidInput(f"check {self.number} was issued for {self.amount}, not {amount}")
        self.status, self.cashed_on, self.closed_at = CheckStatus.CASHED, on, at

    def stop(self, *, at: datetime) -> None:
        """Stop the check: the bank will refuse it."""
        self._check_allowed("stop")
        self.status, self.closed_at = CheckStatus.STOPPED, at

    def void(self, *, at: datetime) -> None:
        """Void a check not yet mailed (a spoiled print, a payment called back)."""
        self._check_allowed("void")
        self.status, self.closed_at = CheckStatus.VOIDED, at

    def expire(self, *, today: date, at: datetime) -> bool:
        """Expire a mailed check uncashed for its lifetime; whether it just did."""
        if self.status is not CheckStatus.MAILED or self.expires_on is None:
            return False
        if today < self.expires_on:
            return False
        self.status, self.closed_at = CheckStatus.EXPIRED, at
        return True

    def _check_allowed(self, action: str) -> None:
        if self.status not in _ALLOWED_FROM[action]:
            raise IllegalTransition("check", self.status.value, action)
