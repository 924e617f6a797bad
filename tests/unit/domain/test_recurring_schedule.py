"""Schedule arithmetic and the recurring schedule's life, with properties over many rules."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbp.adapters.calendar.federal_reserve import FederalReserveCalendar
from cbp.domain.calendar import next_business_day
from cbp.domain.errors import IllegalTransition, InvalidInput
from cbp.domain.money import Money
from cbp.domain.recurring import RecurringSchedule, ScheduleStatus
from cbp.domain.schedule_rules import Frequency, add_months, last_business_day, occurrence_date

FED = FederalReserveCalendar().is_business_day
AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

starts = st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31))
indexes = st.integers(min_value=0, max_value=60)
frequencies = st.sampled_from(list(Frequency))


def schedule(
    frequency: Frequency = Frequency.MONTHLY,
    starts_on: date = date(2027, 1, 31),
    *,
    ends_on: date | None = None,
    count: int | None = None,
) -> RecurringSchedule:
    return RecurringSchedule.create(
        schedule_id="rps_1",
        tenant_id="ten_1",
        customer_id="cus_1",
        payee_id="pye_1",
        funding_account_id="fac_1",
        amount=Money.of("50.00", "USD"),
        memo="rent",
        frequency=frequency,
        starts_on=starts_on,
        ends_on=ends_on,
        count=count,
        at=AT,
        is_business_day=FED,
    )


def make_all(s: RecurringSchedule, limit: int = 1000) -> list[date]:
    """Make every occurrence into a (pretend) payment; the dates they were sent on."""
    sent = []
    while (occurrence := s.next_occurrence(FED)) is not None and len(sent) < limit:
        s.record_created(
            occurrence, payment_id=f"pmt_{occurrence.index}", at=AT, is_business_day=FED
        )
        sent.append(occurrence.send_on)
    return sent


@settings(max_examples=300)
@given(starts, indexes, frequencies)
def test_every_occurrence_is_a_business_day_after_the_one_before(
    starts_on: date, index: int, frequency: Frequency
) -> None:
    this = occurrence_date(frequency, starts_on, index, FED)
    after = occurrence_date(frequency, starts_on, index + 1, FED)
    assert FED(this) and FED(after)
    assert this < after
    # NOTE: only modified following goes back, and never out of the month it started in
    rolled_back = frequency in (Frequency.MONTHLY, Frequency.YEARLY)
    assert starts_on <= this or (rolled_back and this.month == starts_on.month), this


@settings(max_examples=300)
@given(starts, indexes, st.sampled_from([Frequency.MONTHLY, Frequency.YEARLY]))
def test_monthly_and_yearly_keep_the_day_of_the_month_or_the_months_last_day(
    starts_on: date, index: int, frequency: Frequency
) -> None:
    months = index * (12 if frequency is Frequency.YEARLY else 1)
    nominal = add_months(starts_on, months, starts_on.day)
    month_length = calendar.monthrange(nominal.year, nominal.month)[1]
    assert nominal.day == min(starts_on.day, month_length)
    assert (nominal.year * 12 + nominal.month) - (starts_on.year * 12 + starts_on.month) == months
    sent = occurrence_date(frequency, starts_on, index, FED)
    assert FED(sent) and (sent.year, sent.month) == (nominal.year, nominal.month)
    closed = range(1, abs((sent - nominal).days))
    assert all(not FED(min(sent, nominal) + timedelta(days=d)) for d in closed)
    if FED(nominal):
        assert sent == nominal
    elif sent < nominal:  # NOTE: rolled back only when rolling forward would leave the month
        assert next_business_day(nominal, FED).month != nominal.month


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(2026, 1, 1), max_value=date(2036, 12, 31)),
    st.integers(min_value=1, max_value=31),
)
def test_a_monthly_rule_pays_once_in_every_month_for_ten_years(
    any_day: date, day_of_month: int
) -> None:
    last = calendar.monthrange(any_day.year, any_day.month)[1]
    starts_on = any_day.replace(day=min(day_of_month, last))
    sent = [occurrence_date(Frequency.MONTHLY, starts_on, n, FED) for n in range(120)]
    months = [(d.year * 12 + d.month) - (starts_on.year * 12 + starts_on.month) for d in sent]
    assert months == list(range(120)), "a month without its payment, or with two"
    assert all(FED(d) for d in sent)


@settings(max_examples=300)
@given(starts, indexes, st.sampled_from([Frequency.WEEKLY, Frequency.EVERY_TWO_WEEKS]))
def test_weekly_rules_roll_forward_from_their_weekday(
    starts_on: date, index: int, frequency: Frequency
) -> None:
    weeks = index * (2 if frequency is Frequency.EVERY_TWO_WEEKS else 1)
    nominal = starts_on + timedelta(weeks=weeks)
    sent = occurrence_date(frequency, starts_on, index, FED)
    assert sent == nominal if FED(nominal) else nominal < sent <= nominal + timedelta(days=4)


@settings(max_examples=300)
@given(starts, indexes)
def test_the_last_business_day_rule_pays_on_each_months_last_business_day(
    starts_on: date, index: int
) -> None:
    sent = occurrence_date(Frequency.MONTHLY_LAST_BUSINESS_DAY, starts_on, index, FED)
    assert FED(sent) and sent >= starts_on
    month_end = date(sent.year, sent.month, calendar.monthrange(sent.year, sent.month)[1])
    assert not any(FED(sent + timedelta(days=d)) for d in range(1, (month_end - sent).days + 1))
    assert sent == last_business_day(sent.year, sent.month, FED)


@settings(max_examples=100)
@given(starts, frequencies, st.integers(min_value=1, max_value=30))
def test_a_count_makes_exactly_that_many_occurrences_then_completes(
    starts_on: date, frequency: Frequency, count: int
) -> None:
    s = schedule(frequency, starts_on, count=count)
    sent = make_all(s)
    assert len(sent) == count
    assert s.status is ScheduleStatus.COMPLETED
    assert sent == sorted(set(sent))


@settings(max_examples=100)
@given(starts, frequencies, st.integers(min_value=0, max_value=800))
def test_an_end_date_is_never_passed(starts_on: date, frequency: Frequency, days: int) -> None:
    ends_on = starts_on + timedelta(days=days)
    if occurrence_date(frequency, starts_on, 0, FED) > ends_on:
        with pytest.raises(InvalidInput, match="no occurrence"):
            schedule(frequency, starts_on, ends_on=ends_on)
        return
    s = schedule(frequency, starts_on, ends_on=ends_on)
    sent = make_all(s)
    assert all(day <= ends_on for day in sent)
    following = occurrence_date(frequency, starts_on, len(sent), FED)
    assert following > ends_on
    assert s.status is ScheduleStatus.COMPLETED


def test_a_year_monthly_on_the_31st_and_on_the_last_business_day() -> None:
    on_31st = make_all(schedule(Frequency.MONTHLY, date(2027, 1, 31), count=12))
    assert on_31st == [
        date(2027, 1, 29),  # NOTE: Sunday the 31st; Monday would be February
        date(2027, 2, 26),  # NOTE: February's last day, Sunday the 28th
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 28),  # NOTE: May 31st is Memorial Day
        date(2027, 6, 30),
        date(2027, 7, 30),  # NOTE: Saturday the 31st of July
        date(2027, 8, 31),
        date(2027, 9, 30),
        date(2027, 10, 29),  # NOTE: Sunday the 31st of October
        date(2027, 11, 30),
        date(2027, 12, 31),
    ]
    last_business = make_all(
        schedule(Frequency.MONTHLY_LAST_BUSINESS_DAY, date(2027, 1, 1), count=12)
    )
    assert last_business == [
        date(2027, 1, 29),
        date(2027, 2, 26),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 28),  # NOTE: not Memorial Day, the 31st
        date(2027, 6, 30),
        date(2027, 7, 30),
        date(2027, 8, 31),
        date(2027, 9, 30),
        date(2027, 10, 29),
        date(2027, 11, 30),
        date(2027, 12, 31),
    ]


def test_skip_change_pause_resume_and_cancel() -> None:
    s = schedule(Frequency.WEEKLY, date(2027, 3, 1))
    skipped = s.skip_next(at=AT, is_business_day=FED)
    assert (skipped.index, skipped.send_on) == (0, date(2027, 3, 1))
    changed = s.change_next(
        send_on=date(2027, 3, 10), amount=Money.of("75.00", "USD"), at=AT, is_business_day=FED
    )
    assert (changed.index, changed.send_on, str(changed.amount.amount)) == (
        1,
        date(2027, 3, 10),
        "75.00",
    )
    with pytest.raises(InvalidInput, match="before the one after it"):
        s.change_next(send_on=date(2027, 3, 15), amount=None, at=AT, is_business_day=FED)
    (made,) = make_all(s, limit=1)
    assert made == date(2027, 3, 10)
    following = s.next_occurrence(FED)
    assert following is not None
    assert (following.send_on, str(following.amount.amount)) == (date(2027, 3, 15), "50.00")
    s.pause(at=AT)
    with pytest.raises(IllegalTransition):
        make_all(s, limit=1)
    s.resume(today=date(2027, 4, 1), at=AT, is_business_day=FED)
    assert s.next_occurrence(FED).send_on == date(2027, 4, 5)  # type: ignore[union-attr]
    s.cancel(reason="moved house", at=AT)
    assert s.next_occurrence(FED) is None
    with pytest.raises(IllegalTransition):
        s.resume(today=date(2027, 4, 1), at=AT, is_business_day=FED)


def test_replay_and_snapshots_rebuild_the_same_schedule() -> None:
    s = schedule(Frequency.EVERY_TWO_WEEKS, date(2027, 3, 1), count=10)
    stored = s.pull_events()
    make_all(s, limit=2)
    s.change(amount=Money.of("60.00", "USD"), memo=None, at=AT)
    s.change_next(send_on=None, amount=Money.of("61.00", "USD"), at=AT, is_business_day=FED)
    s.pause(at=AT)
    stored += s.pull_events()
    replayed = RecurringSchedule.replay("rps_1", stored)
    assert replayed.snapshot() == s.snapshot()
    assert RecurringSchedule.restore(s.snapshot()).snapshot() == s.snapshot()


def test_a_schedule_needs_a_sensible_end() -> None:
    with pytest.raises(InvalidInput, match="count must be at least 1"):
        schedule(count=0)
    with pytest.raises(InvalidInput, match="ends_on cannot be before starts_on"):
        schedule(starts_on=date(2027, 3, 1), ends_on=date(2027, 2, 1))
