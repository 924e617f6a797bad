"""Tenants and their customers in SQL."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import (
    Connection,
    select,
    update,
)

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.statements import (
    batched,
    insert_row,
    one_row,
    row_by_id,
)
from cbp.domain.customer import Customer, StatusAlert, Tenant
from cbp.domain.errors import (
    NotFound,
)


class SqlTenantRepository:
    """Tenants in SQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, tenant: Tenant) -> None:
        insert_row(self.conn, t.tenants, codecs.tenant_values(tenant), "tenant")

    def save(self, tenant: Tenant) -> None:
        result = self.conn.execute(
            update(t.tenants)
            .where(t.tenants.c.id == tenant.id)
            .values(
                name=tenant.name,
                policy=codecs.policy_to_json(tenant.policy),
                contact_email=tenant.contact_email,
            )
        )
        if result.rowcount == 0:
            raise NotFound("tenant", tenant.id)

    def list(self) -> list[Tenant]:
        rows = self.conn.execute(select(t.tenants).order_by(t.tenants.c.created_at, t.tenants.c.id))
        return [codecs.tenant_from_row(row) for row in rows]

    def get(self, tenant_id: str) -> Tenant:
        return codecs.tenant_from_row(row_by_id(self.conn, t.tenants, "tenant", tenant_id))

    def any_exist(self) -> bool:
        return self.conn.execute(select(t.tenants.c.id).limit(1)).first() is not None


class SqlCustomerRepository:
    """Customers in SQL; external ids unique per tenant."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, customer: Customer) -> None:
        values = codecs.customer_values(customer)
        insert_row(self.conn, t.customers, values, "a customer with this external_id")

    def save(self, customer: Customer) -> None:
        c = t.customers.c
        values = codecs.customer_values(customer)
        self.conn.execute(
            update(t.customers)
            .where(c.id == customer.id, c.tenant_id == customer.tenant_id)
            .values(channels=values["channels"], notify_on=values["notify_on"])
        )

    def get(self, tenant_id: str, customer_id: str) -> Customer:
        row = row_by_id(self.conn, t.customers, "customer", customer_id, tenant_id=tenant_id)
        return codecs.customer_from_row(row)

    def notify_on_of(self, customer_ids: Collection[str]) -> dict[str, tuple[StatusAlert, ...]]:
        c = t.customers.c
        found: dict[str, tuple[StatusAlert, ...]] = {}
        for batch in batched(sorted(set(customer_ids)), 1000):
            for row in self.conn.execute(select(c.id, c.notify_on).where(c.id.in_(batch))):
                if row.notify_on:
                    found[row.id] = tuple(StatusAlert(a) for a in row.notify_on)
        return found

    def hold(self, tenant_id: str, customer_id: str) -> None:
        """A row lock on PostgreSQL; SQLite has one writer at a time already."""
        c = t.customers.c
        query = select(c.id).where(c.id == customer_id, c.tenant_id == tenant_id)
        one_row(self.conn, query.with_for_update(), "customer", customer_id)
