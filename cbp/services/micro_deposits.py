"""Verifying a funding account by micro-deposits: two small credits, confirmed by the customer."""

from __future__ import annotations

import secrets

from cbp.domain.errors import InvalidInput, MicroDepositsNotConfirmed
from cbp.domain.micro_deposits import Confirmation
from cbp.domain.money import Money
from cbp.ports.processor import Credit, PaymentProcessor
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services.commands import ConfirmMicroDeposits, ExpireMicroDeposits, SendMicroDeposits
from cbp.services.inbox import already_consumed
from cbp.services.notifications import notify_account_holder

#: The template of the notice a customer gets when their micro-deposits expire unconfirmed.
MICRO_DEPOSITS_EXPIRED = "micro_deposits_expired"


def micro_deposit_amounts() -> tuple[Money, Money]:
    """Two different amounts between 0.01 and 0.99, drawn so that they cannot be guessed."""
    first = 1 + secrets.randbelow(99)
    second = 1 + secrets.randbelow(98)
    if second >= first:
        second += 1
    return Money.of(f"0.{first:02d}", "USD"), Money.of(f"0.{second:02d}", "USD")


def send_micro_deposits(
    command: SendMicroDeposits,
    *,
    unit_of_work: UnitsOfWork,
    clock: Clock,
    processor: PaymentProcessor,
) -> None:
    """Credit the two amounts through the processor, each under its own reference.

    The references are the account's id with ``.1`` and ``.2``: the
    processor takes each once, so a repeated message credits nothing more.
    """
    with unit_of_work(read_only=True) as uow:
        account = uow.funding_accounts.get(command.tenant_id, command.account_id)
    if account.micro_deposits is None:
        return
    for number, amount in enumerate(account.micro_deposits.amounts, start=1):
        processor.send_credit(
            Credit(
                reference=f"{account.id}.{number}",
                tenant_id=account.tenant_id,
                routing_number=account.routing_number,
                account_number=account.account_number,
                amount=amount,
                traceparent=command.traceparent,
                holder_name=account.holder_name,
            )
        )
    with unit_of_work() as uow:
        if already_consumed(uow, "send_micro_deposits", command.message_id, at=clock.now()):
            return
        uow.commit()


def confirm_micro_deposits(
    command: ConfirmMicroDeposits,
    *,
    uow: UnitOfWork,
    clock: Clock,
) -> Confirmation:
    """Check the customer's two amounts; three wrong answers, or the expiry, fail the account.

    Every answer is counted with the account held, so answers sent at once
    cannot try more than three amounts between them. A wrong, late or last
    answer is committed before it is refused.
    """
    answer = tuple(Money.of(amount, "USD") for amount in command.amounts)
    if len(answer) != 2 or not all(1 <= amount.minor <= 99 for amount in answer):
        # NOTE: no micro-deposit looks like this; refused without spending a try
        raise InvalidInput("answer with the two amounts credited, each from 0.01 to 0.99")
    uow.funding_accounts.hold(command.tenant_id, command.account_id)
    account = uow.funding_accounts.get(command.tenant_id, command.account_id)
    outcome = account.confirm_micro_deposits(answer, at=clock.now())
    uow.funding_accounts.save(account)
    challenge = account.micro_deposits
    if outcome is Confirmation.MISMATCH and challenge is not None:
        raise MicroDepositsNotConfirmed(
            f"the amounts do not match; {challenge.tries_left} "
            f"{'try' if challenge.tries_left == 1 else 'tries'} left"
        )
    if outcome is Confirmation.LOCKED:
        raise MicroDepositsNotConfirmed(
            "the amounts do not match, three times: the account failed verification"
        )
    if outcome is Confirmation.EXPIRED:
        raise MicroDepositsNotConfirmed(
            "the micro-deposits expired: the account failed verification; add it again"
        )
    return outcome


def expire_micro_deposits(
    command: ExpireMicroDeposits, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator
) -> int:
    """Fail the accounts whose micro-deposits were left unconfirmed past their expiry.

    Without this, an account nobody answers for stays pending for good. Its
    failure is announced (``AccountVerified``, not verified) like any other,
    and the customer is told on their channels. Each account is held and
    read again first, so an answer being counted at the same moment is
    either seen or refused as late. Returns how many accounts expired.
    """
    now = clock.now()
    expired = 0
    for waiting in uow.funding_accounts.awaiting_micro_deposits(limit=command.limit):
        challenge = waiting.micro_deposits
        if challenge is None or now < challenge.expires_at:
            continue
        uow.funding_accounts.hold(waiting.tenant_id, waiting.id)
        account = uow.funding_accounts.get(waiting.tenant_id, waiting.id)
        if account.expire_micro_deposits(at=now):
            uow.funding_accounts.save(account)
            notify_account_holder(
                uow,
                account,
                template=MICRO_DEPOSITS_EXPIRED,
                payload={"funding_account_id": account.id},
                ids=ids,
                at=now,
            )
            expired += 1
    return expired
