"""Replaying the event store rebuilds exactly the live projections."""

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select

from cbp.adapters.calendar.federal_reserve import FederalReserveCalendar
from cbp.adapters.memory.clock import InMemoryClock
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from cbp.bootstrap import bootstrap
from cbp.domain.bill import Bill, BillAmounts
from cbp.domain.money import Money
from cbp.domain.recurring import RecurringSchedule
from cbp.domain.schedule_rules import Frequency
from cbp.services.replay import rebuild_payment_views
from cbp.settings import Settings
from tests.contract import builders as b

PAYMENTS = 10_000
CIPHER = FieldCipher([FieldCipher.generate_key()])


@pytest.fixture(
    params=["sqlite_engine", pytest.param("postgres_engine", marks=pytest.mark.services)]
)
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def write_fixture(engine: Engine, count: int) -> None:
    """``count`` payments in every status, saved through the repository in batches."""
    rng = random.Random(42)
    steps = {
        "scheduled": [],
        "held": ["hold"],
        "released": ["hold", "release"],
        "changed": ["change"],
        "cancelled": ["cancel"],
        "processing": ["submit"],
        "completed": ["change", "submit", "complete"],
        "failed": ["submit", "fail"],
        "returned": ["submit", "complete", "return"],
    }
    for start in range(0, count, 1000):
        with SqlAlchemyUnitOfWork(engine, CIPHER) as uow:
            for n in range(start, min(start + 1000, count)):
                path = steps[rng.choice(list(steps))]
                payment = b.payment(
                    f"ten_{n % 3}",
                    customer_id=f"cus_{n % 50}",
                    send_on=date(2026, 3, 2) + timedelta(days=n % 30),
                    validated="hold" not in path,
                )
                for step in path:
                    {
                        "hold": lambda p=payment: p.hold(reason="payee pending", at=b.NOW),
                        "release": lambda p=payment: p.release(
                            send_on=p.send_on + timedelta(days=2),
                            deliver_by=p.deliver_by + timedelta(days=2),
                            at=b.NOW,
                        ),
                        "cancel": lambda p=payment: p.cancel(reason="c", at=b.NOW),
                        "change": lambda p=payment: p.change(
                            amount=Money.of("43.21", "USD"),
                            send_on=p.send_on + timedelta(days=1),
                            deliver_by=p.deliver_by + timedelta(days=3),
                            memo="changed",
                            at=b.NOW,
                            requested_send_on=p.send_on,
                        ),
                        "submit": lambda p=payment: p.submit(processor_reference=p.id, at=b.NOW),
                        "complete": lambda p=payment: p.complete(at=b.NOW),
                        "fail": lambda p=payment: p.fail(failure_code="nsf", reason="r", at=b.NOW),
                        "return": lambda p=payment: p.mark_returned(
                            return_code="R01", reason="r", at=b.NOW
                        ),
                    }[step]()
                uow.payments.save(payment)
            uow.commit()


def replay(engine: Engine) -> None:
    """Rebuild every view from the event store, as ``cbp replay`` does."""
    app = bootstrap(
        Settings(
            database_url=str(engine.url.render_as_string(False)),
            api_key_secret="s",
            encryption_keys=FieldCipher.generate_key(),
        ),
        clock=InMemoryClock(),
    )
    app.container.gateways.engine.override(engine)
    try:
        rebuild_payment_views(app.deps)
    finally:
        app.container.gateways.engine.reset_override()
        app.close()


def views(engine: Engine) -> list[tuple]:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(select(t.payment_views).order_by(t.payment_views.c.id))
        ]


def test_replaying_ten_thousand_payments_rebuilds_identical_views(engine: Engine) -> None:
    write_fixture(engine, PAYMENTS)
    live = views(engine)
    assert len(live) == PAYMENTS
    assert len({row[3] for row in live}) == 7  # every status is represented
    with engine.begin() as conn:  # damage the projection: wrong statuses, a missing row
        conn.execute(t.payment_views.update().values(status="scheduled"))
        conn.execute(t.payment_views.delete().where(t.payment_views.c.id == live[0][0]))
    app = bootstrap(
        Settings(
            database_url=str(engine.url.render_as_string(False)),
            api_key_secret="s",
            encryption_keys=CIPHER and FieldCipher.generate_key(),
        ),
        clock=InMemoryClock(),
    )
    app.container.gateways.engine.override(engine)
    progress: list[tuple[int, int]] = []
    try:
        rebuilt = rebuild_payment_views(
            app.deps, batch=4000, progress=lambda d, n: progress.append((d, n))
        )
    finally:
        app.container.gateways.engine.reset_override()
        app.close()
    assert rebuilt == PAYMENTS
    assert progress[-1][0] == progress[-1][1] > PAYMENTS
    assert views(engine) == live


def test_replay_rebuilds_recurring_payments_views_too(engine: Engine) -> None:
    calendar = FederalReserveCalendar().is_business_day
    with SqlAlchemyUnitOfWork(engine, CIPHER) as uow:
        for n, frequency in enumerate(Frequency):
            schedule = RecurringSchedule.create(
                schedule_id=f"rps_{n}",
                tenant_id="ten_1",
                customer_id="cus_1",
                payee_id="pye_1",
                funding_account_id="fac_1",
                amount=Money.of("20.00", "USD"),
                memo=None,
                frequency=frequency,
                starts_on=date(2027, 1, 4),
                ends_on=None,
                count=3,
                at=b.NOW,
                is_business_day=calendar,
            )
            for _ in range(n % 3):
                schedule.skip_next(at=b.NOW, is_business_day=calendar)
            if n == 4:
                schedule.pause(at=b.NOW)
            uow.schedules.save(schedule, calendar)
        uow.commit()

    def schedule_views() -> list[tuple]:  # type: ignore[type-arg]
        with engine.connect() as conn:
            table = t.schedule_views
            return [tuple(row) for row in conn.execute(select(table).order_by(table.c.id))]

    live = schedule_views()
    assert len(live) == len(Frequency)
    with engine.begin() as conn:
        conn.execute(t.schedule_views.delete())
    replay(engine)
    assert schedule_views() == live


def test_replay_rebuilds_bills_views_too(engine: Engine) -> None:
    with SqlAlchemyUnitOfWork(engine, CIPHER) as uow:
        for n in range(6):
            bill = Bill.present(
                bill_id=f"bil_{n}",
                tenant_id="ten_1",
                customer_id=f"cus_{n % 2}",
                payee_id="pye_1",
                amounts=BillAmounts(
                    amount_due=Money.of("90.00", "USD"),
                    minimum_due=Money.of("20.00", "USD"),
                    statement_balance=Money.of("90.00", "USD"),
                ),
                due_on=date(2027, 1, 15),
                statement_on=date(2026, 12, 20),
                reference=f"INV-{n}",
                at=b.NOW,
            )
            if n % 3 >= 1:
                bill.schedule_payment(
                    payment_id=f"pmt_{n}",
                    amount=Money.of("90.00", "USD"),
                    by_autopay=True,
                    at=b.NOW,
                )
            if n % 3 == 2:
                bill.settle_payment(f"pmt_{n}", amount=Money.of("90.00", "USD"), at=b.NOW)
            uow.bills.add(bill)
        uow.commit()

    def bill_views() -> list[tuple]:  # type: ignore[type-arg]
        with engine.connect() as conn:
            table = t.bill_views
            return [tuple(row) for row in conn.execute(select(table).order_by(table.c.id))]

    live = bill_views()
    assert {row[4] for row in live} == {"open", "scheduled", "paid"}
    with engine.begin() as conn:
        conn.execute(t.bill_views.delete())
    replay(engine)
    assert bill_views() == live
