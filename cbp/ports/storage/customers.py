"""Tenants, customers, the biller directory, payees and funding accounts."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from cbp.domain.customer import Customer, StatusAlert, Tenant
from cbp.domain.directory import GlobalPayee
from cbp.domain.funding import FundingAccount
from cbp.domain.payee import Payee
from cbp.ports.storage.pages import Page


class TenantRepository(Protocol):
    """The banks and fintechs using the engine."""

    def add(self, tenant: Tenant) -> None:
        """Store a new tenant."""
        ...

    def get(self, tenant_id: str) -> Tenant:
        """The tenant, or NotFound."""
        ...

    def save(self, tenant: Tenant) -> None:
        """Store a changed tenant."""
        ...

    def list(self) -> list[Tenant]:
        """Every tenant, oldest first."""
        ...

    def any_exist(self) -> bool:
        """Whether any tenant exists (a fresh install has none)."""
        ...


class CustomerRepository(Protocol):
    """A tenant's customers."""

    def add(self, customer: Customer) -> None:
        """Store a new customer; AlreadyExists if the external id is taken."""
        ...

    def get(self, tenant_id: str, customer_id: str) -> Customer:
        """The customer, or NotFound."""
        ...

    def save(self, customer: Customer) -> None:
        """Store the customer's changed notification preferences."""
        ...

    def notify_on_of(self, customer_ids: Collection[str]) -> dict[str, tuple[StatusAlert, ...]]:
        """The payment changes each of these customers opted into; those with none left out."""
        ...

    def hold(self, tenant_id: str, customer_id: str) -> None:
        """Hold the customer until this unit of work ends, or NotFound.

        Two units of work holding one customer do not overlap: the second
        waits for the first (or conflicts at commit and runs again), so a
        check of the customer's limits sees every payment made before it.
        """
        ...


class DirectoryRepository(Protocol):
    """The shared biller directory."""

    def add(self, *billers: GlobalPayee) -> None:
        """Store new billers: one, or an import's batch written together."""
        ...

    def get(self, payee_id: str) -> GlobalPayee:
        """The biller, or NotFound."""
        ...

    def save(self, payee: GlobalPayee) -> None:
        """Store the biller's changes."""
        ...

    def search(self, partial_name: str, *, cursor: str | None, limit: int) -> Page[GlobalPayee]:
        """Billers whose name or alias contains the text, prefix matches first."""
        ...


class PayeeRepository(Protocol):
    """Customers' payees."""

    def add(self, payee: Payee) -> None:
        """Store a new payee."""
        ...

    def get(self, tenant_id: str, payee_id: str) -> Payee:
        """The payee, or NotFound."""
        ...

    def save(self, payee: Payee) -> None:
        """Store the payee's changes."""
        ...

    def find(
        self, tenant_id: str, *, customer_id: str | None, cursor: str | None, limit: int
    ) -> Page[Payee]:
        """A tenant's payees, oldest first."""
        ...

    def linked_to(
        self, global_payee_id: str, *, after: str | None = None, limit: int = 500
    ) -> list[Payee]:
        """Up to ``limit`` of every tenant's payees of one directory biller, oldest first.

        ``after`` is the id the page before ended on: the page starts past it.
        """
        ...


class FundingAccountRepository(Protocol):
    """Customers' funding accounts."""

    def add(self, account: FundingAccount) -> None:
        """Store a new funding account."""
        ...

    def get(self, tenant_id: str, account_id: str) -> FundingAccount:
        """The account, or NotFound."""
        ...

    def save(self, account: FundingAccount) -> None:
        """Store the account's changes."""
        ...

    def awaiting_micro_deposits(self, *, limit: int) -> list[FundingAccount]:
        """Accounts of every tenant whose micro-deposits await confirmation, oldest first."""
        ...

    def hold(self, tenant_id: str, account_id: str) -> None:
        """Hold the account until this unit of work ends, or NotFound.

        Two units of work holding one account do not overlap (the second
        waits, or conflicts at commit and runs again), so answers to its
        micro-deposits are counted one at a time.
        """
        ...
