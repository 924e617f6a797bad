"""Customers' payees and their account verification."""

from __future__ import annotations

from datetime import datetime

from cbp.domain import identifiers
from cbp.domain.banking import check_account_against_masks, normalize_account_number
from cbp.domain.directory import GlobalPayee, PayeeStatus
from cbp.domain.errors import InvalidInput, PayeeNotPayable
from cbp.domain.payee import Payee
from cbp.domain.verification import VerificationStatus
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.ports.verifier import AccountVerifier
from cbp.services.choices import one_of
from cbp.services.commands import AddPayee, FollowBiller, UpdatePayee, VerifyPayeeAccount
from cbp.services.holds import hold_payments_to
from cbp.services.inbox import already_consumed
from cbp.services.notifications import notify_account_holder

#: The notice a customer gets when a biller's change suspends their payee.
PAYEE_NEEDS_UPDATE = "payee_needs_update"
#: How many of a biller's payees follow it in one transaction.
FOLLOW_BILLER_PAGE = 500


def add_payee(
    command: AddPayee, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator, check_mailing_days: int
) -> str:
    """Add a payee; its AccountUpdated event starts account verification.

    A directory payee takes the biller's name, the days a payment takes to
    reach it, and its account masks; the account number must fit one of
    the masks. A personal payee needs a name and an address, and is paid by
    a check, which takes the mailing days to arrive.
    """
    now = clock.now()
    customer = uow.customers.get(command.tenant_id, command.customer_id)
    if command.global_payee_id is not None:
        biller = uow.directory.get(command.global_payee_id)
        if not biller.is_payable:
            raise PayeeNotPayable(f"biller {biller.id} is {biller.status.value}")
        payee = Payee(
            id=ids.new(identifiers.PAYEE),
            tenant_id=customer.tenant_id,
            customer_id=customer.id,
            global_payee_id=biller.id,
            name=biller.name,
            account_number=check_account_against_masks(
                command.account_number, biller.account_masks
            ),
            nickname=command.nickname,
            lead_days=biller.days_to_deliver(check_mailing_days),
            created_at=now,
        )
    else:
        if command.name is None or command.address is None:
            raise InvalidInput("a personal payee needs a name and an address")
        payee = Payee(
            id=ids.new(identifiers.PAYEE),
            tenant_id=customer.tenant_id,
            customer_id=customer.id,
            name=command.name,
            address=command.address,
            account_number=normalize_account_number(command.account_number),
            nickname=command.nickname,
            lead_days=check_mailing_days,
            created_at=now,
        )
    payee.request_verification(at=now)
    uow.payees.add(payee)
    return payee.id


def update_payee(command: UpdatePayee, *, uow: UnitOfWork, clock: Clock) -> None:
    """Change a payee; a new account number is verified again."""
    now = clock.now()
    payee = uow.payees.get(command.tenant_id, command.payee_id)
    was_suspended = payee.is_suspended
    if command.nickname is not None:
        payee.nickname = command.nickname
    if command.account_number is not None:
        masks = (
            uow.directory.get(payee.global_payee_id).account_masks if payee.global_payee_id else ()
        )
        payee.change_account_number(
            check_account_against_masks(command.account_number, masks), at=now
        )
    if command.status is not None:
        status = one_of(PayeeStatus, command.status, "status")
        if payee.is_suspended:
            raise InvalidInput("a suspended payee is made active by a new account number")
        if not (was_suspended and status is payee.status):  # NOTE: the new number did it
            payee.change_status(status, at=now)
    uow.payees.save(payee)


def follow_biller(
    command: FollowBiller,
    *,
    unit_of_work: UnitsOfWork,
    clock: Clock,
    ids: IdGenerator,
    check_mailing_days: int,
) -> int:
    """Bring a changed biller's payees in step with it; return how many it suspended.

    Each payee takes the biller's name and the days a payment takes to reach it. One whose account
    number no longer fits the biller's masks is suspended: its payments
    not yet sent are held, and its customer is told to give a new number.
    One suspended before whose number fits again is verified again, and
    its held payments are released once it is.

    The payees are taken a page per transaction, so a biller with very many
    holds no transaction long; a payee already in step changes nothing, so
    a delivery run again after a crash half-way does each once.
    """
    now = clock.now()
    suspended = 0
    after: str | None = None
    while True:
        with unit_of_work() as uow:
            if command.message_id and uow.inbox.seen("follow_biller", command.message_id):
                return suspended
            biller = uow.directory.get(command.global_payee_id)
            page = uow.payees.linked_to(biller.id, after=after, limit=FOLLOW_BILLER_PAGE)
            for payee in page:
                suspended += _follow(uow, payee, biller, check_mailing_days, ids=ids, at=now)
            done = len(page) < FOLLOW_BILLER_PAGE
            if done:
                already_consumed(uow, "follow_biller", command.message_id, at=now)
            uow.commit()
        if done:
            return suspended
        after = page[-1].id


def _follow(
    uow: UnitOfWork,
    payee: Payee,
    biller: GlobalPayee,
    check_mailing_days: int,
    *,
    ids: IdGenerator,
    at: datetime,
) -> int:
    """Bring one payee in step with its biller; 1 if that suspended it."""
    newly_suspended = payee.follow_biller(
        biller.name, biller.days_to_deliver(check_mailing_days), biller.account_masks, at=at
    )
    uow.payees.save(payee)
    if not newly_suspended:
        return 0
    hold_payments_to(payee, uow=uow, at=at)
    notify_account_holder(
        uow,
        payee,
        template=PAYEE_NEEDS_UPDATE,
        payload={"payee_id": payee.id, "biller": biller.name},
        ids=ids,
        at=at,
    )
    return 1


def verify_payee_account(
    command: VerifyPayeeAccount,
    *,
    unit_of_work: UnitsOfWork,
    clock: Clock,
    verifier: AccountVerifier,
) -> None:
    """Ask the verifier about a payee's account number and record the answer.

    The verifier is called outside any transaction (a network call must
    not hold one open). The answer is recorded only for the number it was
    asked about: if the customer changed it meanwhile, the change's own
    verification will answer for the new one.
    """
    with unit_of_work(read_only=True) as uow:
        payee = uow.payees.get(command.tenant_id, command.payee_id)
        masks = (
            uow.directory.get(payee.global_payee_id).account_masks if payee.global_payee_id else ()
        )
    if payee.verification_status is not VerificationStatus.PENDING:
        return  # NOTE: a repeated message: answered already
    asked_about = payee.account_number
    result = verifier.verify_payee_account(asked_about, masks)
    with unit_of_work() as uow:
        if already_consumed(uow, "verify_payee_account", command.message_id, at=clock.now()):
            return
        payee = uow.payees.get(command.tenant_id, command.payee_id)
        if payee.account_number != asked_about:
            uow.commit()  # NOTE: this message is done; the newer number has its own
            return
        payee.record_verification(verified=result.verified, reason=result.reason, at=clock.now())
        uow.payees.save(payee)
        uow.commit()
