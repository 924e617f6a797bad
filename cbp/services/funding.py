"""Customers' funding accounts."""

from __future__ import annotations

from datetime import timedelta

from cbp.domain import identifiers
from cbp.domain.banking import check_routing_number, normalize_account_number
from cbp.domain.funding import AccountType, FundingAccount
from cbp.domain.micro_deposits import VerificationMethod
from cbp.domain.verification import VerificationStatus
from cbp.ports.errors import DependencyError
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.ports.verifier import AccountVerifier
from cbp.services.choices import one_of
from cbp.services.commands import AddFundingAccount, VerifyFundingAccount
from cbp.services.inbox import already_consumed
from cbp.services.micro_deposits import micro_deposit_amounts


def add_funding_account(
    command: AddFundingAccount,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
    verifier: AccountVerifier,
    micro_deposit_expiry_seconds: float,
) -> str:
    """Add a customer's bank account and verify it before it can fund payments.

    Instantly: the verifier is asked at once; when it cannot answer (down,
    or its breaker open) the account is kept ``pending`` and verified in the
    background, so a customer is never turned away by an outage. By
    micro-deposits: the account is ``pending`` until the customer confirms
    the two credits, sent in the background.
    """
    account_type = one_of(AccountType, command.account_type, "account_type")
    method = one_of(VerificationMethod, command.verification, "verification")
    account = FundingAccount(
        id=ids.new(identifiers.FUNDING_ACCOUNT),
        tenant_id=command.tenant_id,
        customer_id=command.customer_id,
        routing_number=check_routing_number(command.routing_number),
        account_number=normalize_account_number(command.account_number),
        account_type=account_type,
        holder_name=command.holder_name,
        created_at=clock.now(),
    )
    verified: bool | None = None
    if method is VerificationMethod.MICRO_DEPOSITS:
        expires_at = clock.now() + timedelta(seconds=micro_deposit_expiry_seconds)
        account.start_micro_deposits(micro_deposit_amounts(), expires_at=expires_at, at=clock.now())
    else:
        try:
            result = verifier.verify_funding_account(account.routing_number, account.account_number)
        except DependencyError:
            account.request_verification(at=clock.now())  # NOTE: verified when it is back
        else:
            verified = result.verified
            account.record_verification(verified=verified, reason=result.reason, at=clock.now())
    uow.customers.get(command.tenant_id, command.customer_id)
    uow.funding_accounts.add(account)
    return account.id


def verify_funding_account(
    command: VerifyFundingAccount,
    *,
    unit_of_work: UnitsOfWork,
    clock: Clock,
    verifier: AccountVerifier,
) -> None:
    """Ask the verifier about a pending funding account and record the answer.

    The answer is recorded only for the numbers it was asked about: a bank's
    correction made meanwhile is verified by its own message.
    """
    with unit_of_work(read_only=True) as uow:
        account = uow.funding_accounts.get(command.tenant_id, command.account_id)
    if account.verification_status is not VerificationStatus.PENDING:
        return  # NOTE: a repeated message: verified already
    asked_about = (account.routing_number, account.account_number)
    result = verifier.verify_funding_account(*asked_about)
    with unit_of_work() as uow:
        if already_consumed(uow, "verify_funding_account", command.message_id, at=clock.now()):
            return
        account = uow.funding_accounts.get(command.tenant_id, command.account_id)
        if (account.routing_number, account.account_number) != asked_about:
            uow.commit()  # NOTE: corrected meanwhile: the correction's verification answers
            return
        account.record_verification(verified=result.verified, reason=result.reason, at=clock.now())
        uow.funding_accounts.save(account)
        uow.commit()
