"""The records a payment command needs, from the in-memory repositories."""

from __future__ import annotations

from cbp.adapters.memory.customers import InMemoryCustomerRepository, InMemoryTenantRepository
from cbp.adapters.memory.payees import (
    InMemoryDirectoryRepository,
    InMemoryFundingAccountRepository,
    InMemoryPayeeRepository,
)
from cbp.ports.storage.payments import PaymentParties


class InMemoryPartyLookup:
    """Each record from its own repository: in memory, a read costs nothing."""

    def __init__(
        self,
        tenants: InMemoryTenantRepository,
        customers: InMemoryCustomerRepository,
        payees: InMemoryPayeeRepository,
        funding_accounts: InMemoryFundingAccountRepository,
        directory: InMemoryDirectoryRepository,
    ) -> None:
        self.tenants = tenants
        self.customers = customers
        self.payees = payees
        self.funding_accounts = funding_accounts
        self.directory = directory

    def for_payment(
        self, tenant_id: str, customer_id: str, payee_id: str, funding_account_id: str
    ) -> PaymentParties:
        tenant = self.tenants.get(tenant_id)
        customer = self.customers.get(tenant_id, customer_id)
        payee = self.payees.get(tenant_id, payee_id)
        account = self.funding_accounts.get(tenant_id, funding_account_id)
        biller = None
        if payee.global_payee_id is not None:
            biller = self.directory.get(payee.global_payee_id)
        return PaymentParties(
            tenant=tenant, customer=customer, payee=payee, funding_account=account, biller=biller
        )
