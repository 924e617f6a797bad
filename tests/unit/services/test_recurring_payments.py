"""Recurring payments on every storage adapter: a year of occurrences, each made once."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from cbp.adapters.memory.clock import InMemoryClock
from cbp.bootstrap import Cbp
from cbp.domain.errors import (
    AmountOutOfRange,
    IllegalTransition,
    InvalidInput,
    SendDateNotAllowed,
)
from cbp.domain.payment import Payment
from cbp.ports.storage.payments import PaymentFilter
from cbp.services import commands as c
from cbp.services.occurrences import OccurrenceMaker
from tests.unit.services.conftest import World

#: The clock's Monday 2026-03-02 plus the days ahead an occurrence is made before its date.
DAYS_AHEAD = 3


def schedule(world: World, frequency: str, starts_on: date, **terms: object) -> str:
    return str(
        world.app.handle(
            c.CreateRecurringPayment(
                tenant_id=world.tenant_id,
                customer_id=world.customer_id,
                payee_id=world.payee_id,
                funding_account_id=world.funding_id,
                amount=str(terms.pop("amount", "80.00")),
                frequency=frequency,
                starts_on=starts_on,
                **terms,  # type: ignore[arg-type]
            )
        )
    )


def payments(app: Cbp, world: World) -> list[Payment]:
    found = app.queries.list_payments(PaymentFilter(tenant_id=world.tenant_id), limit=100).items
    return sorted(found, key=lambda p: p.send_on)


def run_days(app: Cbp, clock: InMemoryClock, days: int, schedulers: int = 1) -> None:
    """Let ``days`` pass, the job running once a day in ``schedulers`` processes at once."""
    for _ in range(days):
        clock.advance(days=1)
        if schedulers == 1:
            app.handle(c.MakeDueOccurrences())
            continue
        start = threading.Barrier(schedulers)
        threads = [
            threading.Thread(target=make_after, args=(app, start)) for _ in range(schedulers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def make_after(app: Cbp, start: threading.Barrier) -> None:
    """One scheduler's run, begun with the others'."""
    start.wait()
    app.handle(c.MakeDueOccurrences())


def test_a_year_monthly_on_the_31st_under_two_schedulers(
    world: World, clock: InMemoryClock
) -> None:
    schedule_id = schedule(world, "monthly", date(2026, 3, 31), count=12)
    run_days(world.app, clock, 366, schedulers=2)
    made = payments(world.app, world)
    assert [p.send_on for p in made] == [
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 29),  # NOTE: Sunday the 31st of May; June 1st would leave the month
        date(2026, 6, 30),
        date(2026, 7, 31),
        date(2026, 8, 31),
        date(2026, 9, 30),
        date(2026, 10, 30),  # NOTE: Saturday the 31st of October
        date(2026, 11, 30),
        date(2026, 12, 31),
        date(2027, 1, 29),  # NOTE: Sunday the 31st of January
        date(2027, 2, 26),  # NOTE: February's last day, Sunday the 28th
    ]
    moved = {p.send_on: p.requested_send_on for p in made if p.requested_send_on}
    assert moved == {
        date(2026, 5, 29): date(2026, 5, 31),
        date(2026, 10, 30): date(2026, 10, 31),
        date(2027, 1, 29): date(2027, 1, 31),
        date(2027, 2, 26): date(2027, 2, 28),
    }
    assert all(str(p.amount.amount) == "80.00" for p in made)
    assert all((p.send_on - p.created_at.date()).days == DAYS_AHEAD for p in made)
    state = world.app.queries.get_recurring_payment(world.tenant_id, schedule_id)
    assert (state.status.value, state.next_index, state.last_payment_id) == (
        "completed",
        12,
        made[-1].id,
    )


def test_the_last_business_day_rolls_back_over_holidays(world: World, clock: InMemoryClock) -> None:
    schedule(world, "monthly_last_business_day", date(2026, 4, 1), count=3)
    run_days(world.app, clock, 120)
    assert [p.send_on for p in payments(world.app, world)] == [
        date(2026, 4, 30),
        date(2026, 5, 29),  # NOTE: the 31st is a Sunday
        date(2026, 6, 30),
    ]


def test_an_occurrence_due_within_the_days_ahead_is_made_with_the_schedule(world: World) -> None:
    schedule_id = schedule(world, "weekly", date(2026, 3, 4), ends_on=date(2026, 3, 25))
    (first,) = payments(world.app, world)
    assert (first.send_on, first.status.value) == (date(2026, 3, 4), "scheduled")
    state = world.app.queries.get_recurring_payment(world.tenant_id, schedule_id)
    upcoming = world.app.queries.upcoming_occurrences(state, limit=10)
    assert [o.send_on for o in upcoming] == [
        date(2026, 3, 11),
        date(2026, 3, 18),
        date(2026, 3, 25),
    ]


def test_skip_change_pause_resume_and_cancel(world: World, clock: InMemoryClock) -> None:
    app = world.app
    schedule_id = schedule(world, "weekly", date(2026, 3, 9))
    ident = {"tenant_id": world.tenant_id, "schedule_id": schedule_id}
    app.handle(c.SkipNextOccurrence(**ident))  # NOTE: the 9th
    app.handle(c.ChangeNextOccurrence(**ident, amount="95.00", send_on=date(2026, 3, 14)))
    app.handle(c.ChangeRecurringPayment(**ident, amount="85.00", memo="gym"))
    run_days(app, clock, 18)  # NOTE: to the 20th: the 14th (a Saturday, so the 16th), the 23rd
    made = payments(app, world)
    assert [(p.send_on, str(p.amount.amount), p.memo) for p in made] == [
        (date(2026, 3, 16), "95.00", "gym"),
        (date(2026, 3, 23), "85.00", "gym"),
    ]
    app.handle(c.ChangeRecurringPayment(**ident, status="paused"))
    run_days(app, clock, 14)
    assert len(payments(app, world)) == 2
    app.handle(c.ChangeRecurringPayment(**ident, status="active"))  # NOTE: the 3rd of April
    app.handle(c.ChangeRecurringPayment(**ident, status="cancelled"))
    run_days(app, clock, 14)
    assert [p.send_on for p in payments(app, world)][2:] == [date(2026, 4, 6)]
    with pytest.raises(IllegalTransition):
        app.handle(c.SkipNextOccurrence(**ident))


def test_an_occurrence_that_cannot_be_paid_is_missed_and_the_schedule_goes_on(
    world: World, clock: InMemoryClock
) -> None:
    app = world.app
    schedule_id = schedule(world, "weekly", date(2026, 3, 9), count=3)
    app.handle(c.UpdatePayee(tenant_id=world.tenant_id, payee_id=world.payee_id, status="inactive"))
    run_days(app, clock, 7)
    app.handle(c.UpdatePayee(tenant_id=world.tenant_id, payee_id=world.payee_id, status="active"))
    run_days(app, clock, 14)
    assert [p.send_on for p in payments(app, world)] == [date(2026, 3, 16), date(2026, 3, 23)]
    history = app.queries.recurring_payment_events(world.tenant_id, schedule_id)
    missed = [e.data() for e in history if e.type == "OccurrenceMissed"]
    assert [(m["send_on"], m["code"]) for m in missed] == [("2026-03-09", "payee_not_payable")]


@pytest.mark.parametrize(
    ("terms", "error", "message"),
    [
        ({"frequency": "daily"}, InvalidInput, "frequency must be one of: weekly"),
        ({"starts_on": date(2026, 3, 1)}, SendDateNotAllowed, "on or after 2026-03-02"),
        ({"starts_on": date(2027, 6, 1)}, SendDateNotAllowed, "within 365 days"),
        ({"count": 0}, InvalidInput, "count must be at least 1"),
        ({"ends_on": date(2026, 3, 1)}, InvalidInput, "ends_on cannot be before starts_on"),
        ({"amount": "0.00"}, AmountOutOfRange, "amount must be between"),
    ],
)
def test_a_schedule_is_checked_as_a_payment_is(
    world: World, terms: dict[str, object], error: type[Exception], message: str
) -> None:
    terms = dict(terms)
    frequency = str(terms.pop("frequency", "monthly"))
    starts_on = terms.pop("starts_on", date(2026, 3, 10))
    with pytest.raises(error, match=message):
        schedule(world, frequency, starts_on, **terms)  # type: ignore[arg-type]
    assert payments(world.app, world) == []


def test_a_schedule_that_fails_does_not_hold_up_the_others(
    world: World,
    clock: InMemoryClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = schedule(world, "weekly", date(2026, 3, 9))
    healthy = schedule(world, "weekly", date(2026, 3, 9))
    make = OccurrenceMaker.make_due_and_save

    def failing_for_one(self, uow, schedule, **kwargs):  # type: ignore[no-untyped-def]
        if schedule.id == broken:
            raise RuntimeError("a fault of this schedule alone")
        return make(self, uow, schedule, **kwargs)

    monkeypatch.setattr(OccurrenceMaker, "make_due_and_save", failing_for_one)
    clock.advance(days=4)  # NOTE: Friday the 6th: the 9th is within the days ahead
    assert world.app.handle(c.MakeDueOccurrences()) == 1
    made = world.app.queries.get_recurring_payment(world.tenant_id, healthy)
    assert made.last_payment_id is not None
    failure = [r for r in caplog.records if r.getMessage() == "recurring payment not made"]
    assert [r.schedule_id for r in failure] == [broken]  # type: ignore[attr-defined]
