"""Money: a Decimal amount in an ISO 4217 currency, never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from cbp.domain.errors import CurrencyMismatch, InvalidMoney, UnsupportedCurrency

#: Minor units of the currencies the engine settles (ISO 4217).
MINOR_UNITS: dict[str, int] = {
    "USD": 2,
    "CAD": 2,
    "EUR": 2,
    "GBP": 2,
    "AUD": 2,
    "CHF": 2,
    "MXN": 2,
    "JPY": 0,
    "KRW": 0,
    "BHD": 3,
    "KWD": 3,
}


#: No amount reaches this: it keeps every value well inside Decimal's precision.
MAX_MAGNITUDE = Decimal(10) ** 15


def minor_units(currency: str) -> int:
    """Digits after the decimal point for ``currency``."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnsupportedCurrency(f"currency {currency!r} is not supported") from None


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency, held at the currency's minor units.

    Construction refuses amounts finer than the currency allows, so a value
    that exists is always settleable; ``Money.rounded`` is the explicit way
    to bring a computed amount (a fee, a split) back to minor units.
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        _check_magnitude(self.amount)
        exponent = Decimal(1).scaleb(-minor_units(self.currency))
        if self.amount != self.amount.quantize(exponent):
            raise InvalidMoney(
                f"amount has more than {minor_units(self.currency)} decimal places "
                f"for {self.currency}"
            )
        object.__setattr__(self, "amount", self.amount.quantize(exponent))

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Parse a decimal string or integer; floats are refused outright."""
        if isinstance(amount, float):
            raise InvalidMoney("amount must be a decimal string, not a float")
        try:
            value = Decimal(amount) if not isinstance(amount, Decimal) else amount
        except InvalidOperation:
            raise InvalidMoney(f"amount {amount!r} is not a decimal number") from None
        return cls(value, currency.upper())

    @classmethod
    def rounded(cls, amount: Decimal, currency: str) -> Money:
        """Round a computed amount half-to-even to the currency's minor units."""
        exponent = Decimal(1).scaleb(-minor_units(currency))
        _check_magnitude(amount)
        return cls(amount.quantize(exponent, rounding=ROUND_HALF_EVEN), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Nothing, in ``currency``."""
        return cls(Decimal(0), currency)

    @property
    def minor(self) -> int:
        """The amount in minor units (cents for USD)."""
        return int(self.amount.scaleb(minor_units(self.currency)))

    @property
    def is_positive(self) -> bool:
        """Whether the amount is above zero."""
        return self.amount > 0

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount >= other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def _check_magnitude(amount: Decimal) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise InvalidMoney("amount must be a finite decimal")
    if abs(amount) >= MAX_MAGNITUDE:
        raise InvalidMoney(f"amount must be below {MAX_MAGNITUDE:,f}")
