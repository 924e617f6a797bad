"""A tenant's payment policy: amount limits, customer limits, cut-off, scheduling window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from cbp.domain.calendar import IsBusinessDay, next_business_day
from cbp.domain.errors import (
    AmountOutOfRange,
    InvalidInput,
    LimitExceeded,
    SendDateNotAllowed,
    UnsupportedCurrency,
)
from cbp.domain.money import Money


@dataclass(frozen=True, kw_only=True)
class PaymentPolicy:
    """The rules a tenant sets for its customers' payments.

    ``cutoff`` is the local time (in ``timezone``) after which a payment for
    today is sent on the next business day instead.

    The customer limits are risk limits on each of the tenant's customers:
    no single payment above ``customer_payment_limit``, and no more than
    ``customer_daily_limit`` sent on any one day (counting every payment
    with that send-on date that has not failed or been cancelled). ``None``
    means no such limit.
    """

    currency: str = "USD"
    min_amount: Decimal = Decimal("0.01")
    max_amount: Decimal = Decimal("25000.00")
    cutoff: time = time(17, 0)
    timezone: str = "America/New_York"
    max_days_ahead: int = 365
    customer_daily_limit: Decimal | None = None
    customer_payment_limit: Decimal | None = None

    def __post_init__(self) -> None:
        for name in ("customer_daily_limit", "customer_payment_limit"):
            limit = getattr(self, name)
            if limit is not None and (not limit.is_finite() or limit <= 0):
                raise InvalidInput(f"{name} must be a positive amount")

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
        if self.customer_payment_limit is not None and amount.amount > self.customer_payment_limit:
            raise LimitExceeded(
                f"a payment may be at most {self.customer_payment_limit} {self.currency}"
            )

    def check_daily_total(self, already: Decimal, amount: Money, send_on: date) -> None:
        """Refuse ``amount`` if, with ``already`` sent that day, it passes the daily limit."""
        limit = self.customer_daily_limit
        if limit is not None and already + amount.amount > limit:
            left = max(limit - already, Decimal(0))
            raise LimitExceeded(
                f"payments sent on {send_on.isoformat()} may total at most {limit} "
                f"{self.currency}; {left} {self.currency} is left that day"
            )

    def resolve_send_on(
        self,
        requested: date | None,
        now: datetime,
        is_business_day: IsBusinessDay,
        *,
        field: str = "send_on",
    ) -> date:
        """The send-on date to use: the earliest possible when none is asked for.

        A requested date that is not a business day (a weekend, a Federal
        Reserve holiday) moves to the next business day, as banks do; the
        caller compares the two to say so. A date before the earliest
        possible one, or beyond the scheduling window, is refused, naming
        the request's ``field``.
        """
        earliest = self.earliest_send_on(now, is_business_day)
        if requested is None:
            return earliest
        if requested >= earliest:
            requested = next_business_day(requested, is_business_day)
        if requested < earliest:
            raise SendDateNotAllowed(
                f"{field} must be on or after {earliest.isoformat()} (cut-off and holidays)"
            )
        if requested > self.local_now(now).date() + timedelta(days=self.max_days_ahead):
            raise SendDateNotAllowed(f"{field} must be within {self.max_days_ahead} days")
        return requested
