"""Funding accounts proven by micro-deposits: three tries, an expiry, usable only once verified."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from cbp.adapters.memory.clock import InMemoryClock
from cbp.adapters.memory.notifiers import InMemoryNotifier
from cbp.bootstrap import Cbp
from cbp.domain.errors import (
    FundingAccountNotUsable,
    IllegalTransition,
    InvalidInput,
    MicroDepositsNotConfirmed,
)
from cbp.services import commands as c
from cbp.services.micro_deposits import micro_deposit_amounts
from tests.unit.services.conftest import FUNDING_ACCOUNT_NUMBER, ROUTING_NUMBER, World


def add_by_micro_deposits(world: World) -> str:
    return str(
        world.app.handle(
            c.AddFundingAccount(
                tenant_id=world.tenant_id,
                customer_id=world.customer_id,
                routing_number=ROUTING_NUMBER,
                account_number=FUNDING_ACCOUNT_NUMBER,
                account_type="checking",
                holder_name="Ada",
                verification="micro_deposits",
            )
        )
    )


def credited(app: Cbp, account_id: str) -> tuple[str, str]:
    """The two amounts on the customer's statement, as the processor took them."""
    credits = app.container.adapters.processor().credits()
    first, _ = credits[f"{account_id}.1"]
    second, _ = credits[f"{account_id}.2"]
    return first, second


def confirm(world: World, account_id: str, *amounts: str) -> object:
    return world.app.handle(
        c.ConfirmMicroDeposits(tenant_id=world.tenant_id, account_id=account_id, amounts=amounts)
    )


def status(world: World, account_id: str) -> str:
    return world.app.queries.get_funding_account(world.tenant_id, account_id).verification_status


def test_the_right_amounts_in_either_order_verify_the_account(world: World) -> None:
    account_id = add_by_micro_deposits(world)
    world.app.run_until_idle()
    first, second = credited(world.app, account_id)
    assert first != second
    assert all("0.01" <= a <= "0.99" and len(a) == 4 for a in (first, second))
    world.funding_id = account_id
    with pytest.raises(FundingAccountNotUsable, match="pending"):
        world.pay()
    confirm(world, account_id, second, first)
    assert status(world, account_id) == "verified"
    world.app.run_until_idle()
    assert world.status(world.pay()) in ("scheduled", "completed")
    with pytest.raises(IllegalTransition):
        confirm(world, account_id, first, second)


def test_three_wrong_answers_lock_the_account(world: World) -> None:
    account_id = add_by_micro_deposits(world)
    world.app.run_until_idle()
    first, second = credited(world.app, account_id)
    wrong = next(f"0.{n:02d}" for n in range(1, 100) if f"0.{n:02d}" not in (first, second))
    for left in ("2 tries left", "1 try left"):
        with pytest.raises(MicroDepositsNotConfirmed, match=left):
            confirm(world, account_id, first, wrong)
    with pytest.raises(MicroDepositsNotConfirmed, match="three times"):
        confirm(world, account_id, first, wrong)
    assert status(world, account_id) == "failed"
    with pytest.raises(IllegalTransition, match="failed"):
        confirm(world, account_id, first, second)  # NOTE: right, but too late


@pytest.mark.parametrize("amount", ["0.00", "1.00", "-0.05", "12.34"])
def test_an_answer_no_micro_deposit_could_be_uses_no_try(world: World, amount: str) -> None:
    account_id = add_by_micro_deposits(world)
    world.app.run_until_idle()
    first, _ = credited(world.app, account_id)
    for _ in range(4):
        with pytest.raises(InvalidInput, match=r"each from 0\.01 to 0\.99"):
            confirm(world, account_id, first, amount)
    assert status(world, account_id) == "pending"
    challenge = world.app.queries.get_funding_account(world.tenant_id, account_id).micro_deposits
    assert challenge is not None and challenge.tries_left == 3


def test_the_amounts_expire(world: World, clock: InMemoryClock) -> None:
    account_id = add_by_micro_deposits(world)
    world.app.run_until_idle()
    first, second = credited(world.app, account_id)
    clock.advance(days=7)
    with pytest.raises(MicroDepositsNotConfirmed, match="expired"):
        confirm(world, account_id, first, second)
    assert status(world, account_id) == "failed"


def test_micro_deposits_nobody_confirms_expire_on_their_own(
    world: World, clock: InMemoryClock, notifier: InMemoryNotifier
) -> None:
    unanswered, answered = add_by_micro_deposits(world), add_by_micro_deposits(world)
    world.app.run_until_idle()
    confirm(world, answered, *credited(world.app, answered))
    clock.advance(days=6)
    recent = add_by_micro_deposits(world)
    world.app.run_until_idle()
    assert world.app.handle(c.ExpireMicroDeposits()) == 0
    clock.advance(days=1)  # NOTE: a week after the first two; the recent one has six days left
    assert world.app.handle(c.ExpireMicroDeposits()) == 1
    assert [status(world, a) for a in (unanswered, answered, recent)] == [
        "failed",
        "verified",
        "pending",
    ]
    assert world.app.handle(c.ExpireMicroDeposits()) == 0
    with pytest.raises(MicroDepositsNotConfirmed, match="expired"):
        confirm(world, unanswered, *credited(world.app, unanswered))
    with world.app.deps.unit_of_work() as uow:
        verified = [m for m in uow.outbox.pending(1000) if m.type == "AccountVerified"]
    assert [m.payload.get("reason") for m in verified if m.ordering_key == unanswered] == [
        "micro_deposits_expired"
    ]
    world.app.run_until_idle()
    told = [n for n in notifier.sent if n.template == "micro_deposits_expired"]
    assert [(n.customer_id, n.payload) for n in told] == [
        (world.customer_id, {"funding_account_id": unanswered})
    ]


def test_each_credit_is_sent_once_whatever_the_redeliveries(world: World) -> None:
    account_id = add_by_micro_deposits(world)
    world.app.run_until_idle()
    for _ in range(2):  # NOTE: the message delivered again, as a broker may
        world.app.handle(c.SendMicroDeposits(tenant_id=world.tenant_id, account_id=account_id))
    credits = world.app.container.adapters.processor().credits()
    mine = {ref: taken for ref, taken in credits.items() if ref.startswith(account_id)}
    assert sorted(mine) == [f"{account_id}.1", f"{account_id}.2"]
    assert {amount for amount, _ in mine.values()} == set(credited(world.app, account_id))


def test_answers_sent_at_once_cannot_try_more_than_three_amounts(world: World) -> None:
    account_id = add_by_micro_deposits(world)
    world.app.run_until_idle()
    first, second = credited(world.app, account_id)

    def guess(n: int) -> str:
        try:
            confirm(world, account_id, first, f"0.{n:02d}")
        except (MicroDepositsNotConfirmed, IllegalTransition) as refused:
            return type(refused).__name__
        return "verified"

    wrong = [n for n in range(1, 100) if f"0.{n:02d}" not in (first, second)][:20]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = Counter(pool.map(guess, wrong))
    # NOTE: three wrong answers are weighed; every later one finds the account failed
    assert answers == {"MicroDepositsNotConfirmed": 3, "IllegalTransition": 17}
    history = world.app.queries.get_funding_account(world.tenant_id, account_id)
    assert history.verification_status == "failed"


def test_amounts_are_two_different_cents_below_a_dollar() -> None:
    for _ in range(500):
        first, second = micro_deposit_amounts()
        assert first != second
        assert all(0 < m.minor < 100 for m in (first, second))
