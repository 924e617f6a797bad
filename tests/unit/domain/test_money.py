from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cbp.domain.errors import CurrencyMismatch, InvalidMoney, UnsupportedCurrency
from cbp.domain.money import MINOR_UNITS, Money

currencies = st.sampled_from(sorted(MINOR_UNITS))


@st.composite
def money(draw: st.DrawFn, currency: str | None = None) -> Money:
    code = currency or draw(currencies)
    minor = draw(st.integers(min_value=-(10**12), max_value=10**12))
    return Money(Decimal(minor).scaleb(-MINOR_UNITS[code]), code)


@given(st.data())
def test_addition_and_subtraction_are_exact_inverses(data: st.DataObject) -> None:
    a = data.draw(money())
    b = data.draw(money(a.currency))
    assert (a + b) - b == a
    assert a + b == b + a


@given(st.decimals(min_value=-(10**14), max_value=10**14, places=6), currencies)
def test_rounding_lands_on_the_currency_minor_units_and_is_within_half_a_unit(
    value: Decimal, currency: str
) -> None:
    rounded = Money.rounded(value, currency)
    unit = Decimal(1).scaleb(-MINOR_UNITS[currency])
    assert rounded.amount == rounded.amount.quantize(unit)
    assert abs(rounded.amount - value) <= unit / 2


def test_rounding_is_half_to_even() -> None:
    assert Money.rounded(Decimal("0.125"), "USD").amount == Decimal("0.12")
    assert Money.rounded(Decimal("0.135"), "USD").amount == Decimal("0.14")


@given(money())
def test_the_decimal_string_round_trips(amount: Money) -> None:
    assert Money.of(str(amount.amount), amount.currency) == amount


def test_an_amount_finer_than_the_currency_is_refused() -> None:
    with pytest.raises(InvalidMoney, match="decimal places"):
        Money.of("1.001", "USD")
    with pytest.raises(InvalidMoney):
        Money.of("1.5", "JPY")


def test_floats_and_garbage_are_refused() -> None:
    with pytest.raises(InvalidMoney, match="float"):
        Money.of(1.1, "USD")  # type: ignore[arg-type]
    with pytest.raises(InvalidMoney):
        Money.of("ten dollars", "USD")
    with pytest.raises(InvalidMoney):
        Money.of("NaN", "USD")


def test_unknown_currencies_and_mixed_currencies_are_refused() -> None:
    with pytest.raises(UnsupportedCurrency):
        Money.of("1.00", "XXX")
    with pytest.raises(CurrencyMismatch):
        Money.of("1.00", "USD") + Money.of("1.00", "EUR")
    with pytest.raises(CurrencyMismatch):
        _ = Money.of("1.00", "USD") < Money.of("1.00", "EUR")


def test_amounts_beyond_any_real_payment_are_refused_not_overflowed() -> None:
    with pytest.raises(InvalidMoney, match="below"):
        Money.of("1000000000000000", "USD")
    with pytest.raises(InvalidMoney, match="below"):
        Money.rounded(Decimal("9999999999999999999999999.9995"), "BHD")


def test_minor_units_follow_iso_4217() -> None:
    assert Money.of("12.34", "USD").minor == 1234
    assert Money.of("1234", "JPY").minor == 1234
    assert Money.of("1.234", "KWD").minor == 1234
