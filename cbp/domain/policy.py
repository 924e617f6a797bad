"""A tenant's payment policy: amount limits, cut-off time, scheduling window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from cbp.domain.calendar import IsBusinessDay, next_business_day
from cbp.domain.errors import AmountOutOfRange, SendDateNotAllowed, UnsupportedCurrency
from cbp.domain.money import Money


@dataclass(frozen=True, kw_only=True)
class PaymentPolicy:
    """The rules a tenant sets for its customers' payments.

    ``cutoff`` is the local time (in ``timezone``) after which a payment for
    today is sent on the next business day instead.
    """

    currency: str = "USD"
    min_amount: Decimal = Decimal("0.01")
    max_amount: Decimal = Decimal("25000.00")
    cutoff: time = time(17, 0)
    timezone: str = "America/New_York"
    max_days_ahead: int = 365

    def local_now(self, now: datetime) -> datetime:
        """``now`` (UTC) in the tenant's time zone."""
        return now.astimezone(ZoneInfo(self.timezone))

    def earliest_send_on(self, now: datetime, is_business_day: IsBusinessDay) -> date:
        """The first date a payment created at ``now`` can be sent."""
        local = self.local_now(now)
        today = local.date()
        if not is_business_day(today) or local.time() >= self.cutoff:
            return next_business_day(today + timedelta(days=1), is_business_day)
        return today

    def check_amount(self, amount: Money) -> None:
        """Refuse amounts outside the tenant's limits or in another currency."""
        if amount.currency != self.currency:
            raise UnsupportedCurrency(f"payments must be in {self.currency}")
        if not self.min_amount <= amount.amount <= self.max_amount:
            raise AmountOutOfRange(
                f"amount must be between {self.min_amount} and {self.max_amount} {self.currency}"
            )

    def resolve_send_on(
        self, requested: date | None, now: datetime, is_business_day: IsBusinessDay
    ) -> date:
        """The send-on date to use: the earliest possible when none is asked for.

        A requested date that is not a business day (a weekend, a Federal
        Reserve holiday) moves to the next business day, as banks do; the
        caller compares the two to say so. A date before the earliest
        possible one, or beyond the scheduling window, is refused.
        """
        earliest = self.earliest_send_on(now, is_business_day)
        if requested is None:
            return earliest
        if requested >= earliest:
            requested = next_business_day(requested, is_business_day)
        if requested < earliest:
            raise SendDateNotAllowed(
                f"send_on must be on or after {earliest.isoformat()} (cut-off and holidays)"
            )
        if requested > self.local_now(now).date() + timedelta(days=self.max_days_ahead):
            raise SendDateNotAllowed(f"send_on must be within {self.max_days_ahead} days")
        return requested
