"""Customers' funding accounts."""

from __future__ import annotations

from cbp.domain import identifiers
from cbp.domain.banking import check_routing_number, normalize_account_number
from cbp.domain.errors import InvalidInput
from cbp.domain.funding import AccountType, FundingAccount
from cbp.services import auditing
from cbp.services.commands import AddFundingAccount
from cbp.services.dependencies import Dependencies
from cbp.services.outbox import headers_for, publish_payee_events


def add_funding_account(command: AddFundingAccount, deps: Dependencies) -> str:
    """Add a customer's bank account and verify it before it can fund payments."""
    try:
        account_type = AccountType(command.account_type)
    except ValueError:
        raise InvalidInput("account_type must be checking or savings") from None
    account = FundingAccount(
        id=deps.ids.new(identifiers.FUNDING_ACCOUNT),
        tenant_id=command.tenant_id,
        customer_id=command.customer_id,
        routing_number=check_routing_number(command.routing_number),
        account_number=normalize_account_number(command.account_number),
        account_type=account_type,
        holder_name=command.holder_name,
        created_at=deps.clock.now(),
    )
    result = deps.verifier.verify_funding_account(account.routing_number, account.account_number)
    account.record_verification(verified=result.verified, reason=result.reason, at=deps.clock.now())
    with deps.uow() as uow:
        uow.customers.get(command.tenant_id, command.customer_id)
        uow.funding_accounts.add(account)
        publish_payee_events(
            uow, deps, account.pull_events(), headers_for(command, account.tenant_id)
        )
        auditing.record(
            uow,
            deps,
            command,
            tenant_id=account.tenant_id,
            subject_id=account.id,
            data={
                "account_number": account.account_number_masked,
                "verified": result.verified,
            },
        )
        uow.commit()
    return account.id
