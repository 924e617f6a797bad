"""The records a payment command needs, in one SQL read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, Table, and_, bindparam, select

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.prepared import Prepared
from cbp.adapters.sql.statements import Prefixed
from cbp.domain.errors import NotFound
from cbp.ports.storage.payments import PaymentParties


def _labelled(table: Table, prefix: str) -> list[Any]:
    return [column.label(prefix + column.name) for column in table.c]


def _parties_query() -> Select[Any]:
    tenants, customers, payees = t.tenants, t.customers, t.payees
    accounts, billers = t.funding_accounts, t.global_payees
    joined = (
        tenants.outerjoin(
            customers,
            and_(customers.c.id == bindparam("customer_id"), customers.c.tenant_id == tenants.c.id),
        )
        .outerjoin(
            payees, and_(payees.c.id == bindparam("payee_id"), payees.c.tenant_id == tenants.c.id)
        )
        .outerjoin(
            accounts,
            and_(accounts.c.id == bindparam("account_id"), accounts.c.tenant_id == tenants.c.id),
        )
        .outerjoin(billers, billers.c.id == payees.c.global_payee_id)
    )
    return (
        select(
            *_labelled(tenants, "t_"),
            *_labelled(customers, "c_"),
            *_labelled(payees, "p_"),
            *_labelled(accounts, "f_"),
            *_labelled(billers, "b_"),
        )
        .select_from(joined)
        .where(tenants.c.id == bindparam("tenant_id"))
    )


#: Built once: a payment's every look-up is this one statement.
_PARTIES = Prepared(_parties_query())


class SqlPartyLookup:
    """Tenant, customer, payee, funding account and biller in one outer-joined read."""

    def __init__(self, conn: Connection, cipher: FieldCipher) -> None:
        self.conn = conn
        self.cipher = cipher

    def for_payment(
        self, tenant_id: str, customer_id: str, payee_id: str, funding_account_id: str
    ) -> PaymentParties:
        row = _PARTIES.first(
            self.conn,
            {
                "tenant_id": tenant_id,
                "customer_id": customer_id,
                "payee_id": payee_id,
                "account_id": funding_account_id,
            },
        )
        if row is None:
            raise NotFound("tenant", tenant_id)
        for prefix, kind, record_id in (
            ("c_", "customer", customer_id),
            ("p_", "payee", payee_id),
            ("f_", "funding account", funding_account_id),
        ):
            if getattr(row, prefix + "id") is None:
                raise NotFound(kind, record_id)
        payee, account = Prefixed(row, "p_"), Prefixed(row, "f_")
        return PaymentParties(
            tenant=codecs.tenant_from_row(Prefixed(row, "t_")),
            customer=codecs.customer_from_row(Prefixed(row, "c_")),
            payee=codecs.payee_from_row(payee, self.cipher.decrypt(payee.account_number_enc)),
            funding_account=codecs.funding_account_from_row(account, self.cipher.decrypt),
            biller=None if row.b_id is None else codecs.global_payee_from_row(Prefixed(row, "b_")),
        )
