"""Tenants and their customers in memory."""

from __future__ import annotations

from collections.abc import Collection

from cbp.adapters.memory.database import ABSENT, Transaction
from cbp.adapters.memory.rows import owned
from cbp.domain.customer import Customer, StatusAlert, Tenant
from cbp.domain.errors import NotFound


class InMemoryTenantRepository:
    """Tenants in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, tenant: Tenant) -> None:
        self.tx.put("tenants", tenant.id, tenant, insert=True)

    def get(self, tenant_id: str) -> Tenant:
        tenant = self.tx.get("tenants", tenant_id)
        if tenant is None:
            raise NotFound("tenant", tenant_id)
        return tenant  # type: ignore[no-any-return]

    def save(self, tenant: Tenant) -> None:
        self.get(tenant.id)
        self.tx.put("tenants", tenant.id, tenant)

    def list(self) -> list[Tenant]:
        return sorted(self.tx.scan("tenants"), key=lambda t: (t.created_at, t.id))

    def any_exist(self) -> bool:
        return bool(self.tx.scan("tenants"))


class InMemoryCustomerRepository:
    """Customers in memory, external ids unique per tenant."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        tx.db.table("customers", external_id=lambda c: (c.tenant_id, c.external_id))

    def add(self, customer: Customer) -> None:
        if any(
            c.tenant_id == customer.tenant_id and c.external_id == customer.external_id
            for c in self.tx.scan("customers")
        ):
            from cbp.domain.errors import AlreadyExists

            raise AlreadyExists("a customer with this external_id already exists")
        self.tx.put("customers", customer.id, customer, insert=True)

    def get(self, tenant_id: str, customer_id: str) -> Customer:
        return owned(self.tx.get("customers", customer_id), tenant_id, "customer", customer_id)  # type: ignore[no-any-return]

    def save(self, customer: Customer) -> None:
        self.get(customer.tenant_id, customer.id)
        self.tx.put("customers", customer.id, customer)

    def notify_on_of(self, customer_ids: Collection[str]) -> dict[str, tuple[StatusAlert, ...]]:
        customers = (self.tx.get("customers", customer_id) for customer_id in set(customer_ids))
        return {c.id: c.notify_on for c in customers if c is not None and c.notify_on}

    def hold(self, tenant_id: str, customer_id: str) -> None:
        """Optimistic: a commit after another holder's commit conflicts, and is run again."""
        self.get(tenant_id, customer_id)
        row = self.tx.get("customer_holds", customer_id)
        seen = ABSENT if row is None else row["version"]
        self.tx.put("customer_holds", customer_id, {"version": seen + 1}, expect_version=seen)
