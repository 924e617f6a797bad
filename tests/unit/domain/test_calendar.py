from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cbp.adapters.calendar.federal_reserve import FederalReserveCalendar
from cbp.domain.calendar import (
    deliver_by_date,
    latest_send_on,
    next_business_day,
    weekdays_only,
)

FED = FederalReserveCalendar()
calendars = st.sampled_from([weekdays_only, FED.is_business_day])
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


def business_days_between(start: date, end: date, is_business_day) -> int:  # type: ignore[no-untyped-def]
    """Business days in (start, end]."""
    return sum(
        1 for n in range(1, (end - start).days + 1) if is_business_day(start + timedelta(days=n))
    )


@given(days, st.integers(min_value=0, max_value=30), calendars)
def test_deliver_by_is_a_business_day_lead_days_after_the_first_business_day(
    send_on: date, lead_days: int, is_business_day
) -> None:  # type: ignore[no-untyped-def]
    deliver_by = deliver_by_date(send_on, lead_days, is_business_day)
    start = next_business_day(send_on, is_business_day)
    assert is_business_day(deliver_by)
    assert deliver_by >= send_on + timedelta(days=lead_days)
    assert business_days_between(start, deliver_by, is_business_day) == lead_days


def test_federal_reserve_holidays_are_not_business_days() -> None:
    assert not FED.is_business_day(date(2026, 11, 26))  # Thanksgiving
    assert not FED.is_business_day(date(2026, 12, 25))  # Christmas
    assert not FED.is_business_day(date(2026, 11, 28))  # a Saturday
    assert FED.is_business_day(date(2026, 11, 27))  # the Friday after Thanksgiving
    # The Fed stays open on the Friday before a Saturday holiday (July 4, 2026).
    assert FED.is_business_day(date(2026, 7, 3))
    # A Sunday holiday is observed on Monday (New Year's Day 2023).
    assert not FED.is_business_day(date(2023, 1, 2))


def test_the_business_days_are_the_holidays_packages_federal_reserve_calendar() -> None:
    """The rules, day by day, against the ``XFED`` calendar of ``holidays`` (1999-2100)."""
    import holidays

    xfed = holidays.financial_holidays("XFED", years=range(1999, 2101))
    day, differ = date(1999, 1, 1), []
    while day.year <= 2100:
        expected = day.weekday() < 5 and day not in xfed
        if FED.is_business_day(day) != expected:
            differ.append(day)
        day += timedelta(days=1)
    assert differ == []


def test_a_payment_sent_before_thanksgiving_skips_the_holiday_and_weekend() -> None:
    assert deliver_by_date(date(2026, 11, 25), 2, FED.is_business_day) == date(2026, 11, 30)


def test_negative_lead_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        deliver_by_date(date(2026, 1, 5), -1, weekdays_only)


@given(days, st.integers(min_value=0, max_value=30), calendars)
def test_the_latest_send_on_is_the_last_day_that_arrives_by_the_date(
    arrive_by: date, lead_days: int, is_business_day
) -> None:  # type: ignore[no-untyped-def]
    latest = latest_send_on(arrive_by, lead_days, is_business_day)
    assert is_business_day(latest)
    assert deliver_by_date(latest, lead_days, is_business_day) <= arrive_by
    day_after = next_business_day(latest + timedelta(days=1), is_business_day)
    assert deliver_by_date(day_after, lead_days, is_business_day) > arrive_by


def test_a_bill_due_the_monday_after_thanksgiving_is_sent_by_the_wednesday_before() -> None:
    assert latest_send_on(date(2026, 11, 30), 2, FED.is_business_day) == date(2026, 11, 25)
    assert latest_send_on(date(2026, 12, 1), 2, FED.is_business_day) == date(2026, 11, 27)
