"""The biller directory, customers' payees and funding accounts in memory."""

from __future__ import annotations

from cbp.adapters.memory.database import ABSENT, Transaction
from cbp.adapters.memory.rows import keyset_page, owned
from cbp.domain.directory import GlobalPayee
from cbp.domain.errors import NotFound
from cbp.domain.funding import FundingAccount
from cbp.domain.micro_deposits import VerificationMethod
from cbp.domain.payee import Payee
from cbp.domain.verification import VerificationStatus
from cbp.ports.pagination import search_rank
from cbp.ports.storage.pages import Page


class InMemoryDirectoryRepository:
    """The biller directory in memory, searched by a full scan."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, *billers: GlobalPayee) -> None:
        for biller in billers:
            self.tx.put("directory", biller.id, biller, insert=True)
            self.tx.changes.saw(biller)

    def get(self, payee_id: str) -> GlobalPayee:
        payee = self.tx.get("directory", payee_id)
        if payee is None:
            raise NotFound("global payee", payee_id)
        return payee  # type: ignore[no-any-return]

    def save(self, payee: GlobalPayee) -> None:
        self.get(payee.id)
        self.tx.put("directory", payee.id, payee)
        self.tx.changes.saw(payee)

    def search(self, partial_name: str, *, cursor: str | None, limit: int) -> Page[GlobalPayee]:
        ranked = [
            (rank, p)
            for p in self.tx.scan("directory")
            if (rank := search_rank(p.name, p.aliases, partial_name)) is not None
        ]
        page = keyset_page(
            ranked,
            lambda rp: (rp[0], -rp[1].popularity, rp[1].name.casefold(), rp[1].id),
            cursor,
            limit,
            newest_first=False,
        )
        return Page([p for _, p in page.items], page.next_cursor)


class InMemoryPayeeRepository:
    """Customers' payees in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, payee: Payee) -> None:
        self.tx.put("payees", payee.id, payee, insert=True)
        self.tx.changes.saw(payee)

    def get(self, tenant_id: str, payee_id: str) -> Payee:
        return owned(self.tx.get("payees", payee_id), tenant_id, "payee", payee_id)  # type: ignore[no-any-return]

    def save(self, payee: Payee) -> None:
        self.get(payee.tenant_id, payee.id)
        self.tx.put("payees", payee.id, payee)
        self.tx.changes.saw(payee)

    def find(
        self, tenant_id: str, *, customer_id: str | None, cursor: str | None, limit: int
    ) -> Page[Payee]:
        rows = [
            p
            for p in self.tx.scan("payees")
            if p.tenant_id == tenant_id and customer_id in (None, p.customer_id)
        ]
        return keyset_page(rows, lambda p: (p.id,), cursor, limit, newest_first=False)

    def linked_to(
        self, global_payee_id: str, *, after: str | None = None, limit: int = 500
    ) -> list[Payee]:
        linked = (
            p
            for p in self.tx.scan("payees")
            if p.global_payee_id == global_payee_id and (after is None or p.id > after)
        )
        return sorted(linked, key=lambda p: p.id)[:limit]


class InMemoryFundingAccountRepository:
    """Funding accounts in memory."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def add(self, account: FundingAccount) -> None:
        self.tx.put("funding_accounts", account.id, account, insert=True)
        self.tx.changes.saw(account)

    def get(self, tenant_id: str, account_id: str) -> FundingAccount:
        row = self.tx.get("funding_accounts", account_id)
        return owned(row, tenant_id, "funding account", account_id)  # type: ignore[no-any-return]

    def save(self, account: FundingAccount) -> None:
        self.get(account.tenant_id, account.id)
        self.tx.put("funding_accounts", account.id, account)
        self.tx.changes.saw(account)

    def awaiting_micro_deposits(self, *, limit: int) -> list[FundingAccount]:
        awaiting = [
            account
            for account in self.tx.scan("funding_accounts")
            if account.verification_method is VerificationMethod.MICRO_DEPOSITS
            and account.verification_status is VerificationStatus.PENDING
        ]
        return sorted(awaiting, key=lambda account: account.id)[:limit]

    def hold(self, tenant_id: str, account_id: str) -> None:
        """Optimistic: a commit after another holder's commit conflicts, and is run again."""
        self.get(tenant_id, account_id)
        row = self.tx.get("funding_holds", account_id)
        seen = ABSENT if row is None else row["version"]
        self.tx.put("funding_holds", account_id, {"version": seen + 1}, expect_version=seen)
