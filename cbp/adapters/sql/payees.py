"""The biller directory, payees and funding accounts in SQL; account numbers encrypted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Connection,
    case,
    literal,
    or_,
    select,
    text,
    update,
)

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.statements import (
    TRIGRAM,
    escape_glob,
    escape_like,
    insert_row,
    keyset_page,
    one_row,
    sortable,
)
from cbp.domain.directory import GlobalPayee
from cbp.domain.errors import (
    NotFound,
)
from cbp.domain.funding import FundingAccount
from cbp.domain.micro_deposits import VerificationMethod
from cbp.domain.payee import Payee
from cbp.domain.verification import VerificationStatus
from cbp.ports.storage.events import Changes
from cbp.ports.storage.pages import Page


class SqlDirectoryRepository:
    """The biller directory, searched through a trigram index."""

    def __init__(self, conn: Connection, changes: Changes) -> None:
        self.conn = conn
        self.changes = changes
        self.sqlite = conn.dialect.name == "sqlite"

    def add(self, payee: GlobalPayee) -> None:
        values = codecs.global_payee_values(payee)
        insert_row(self.conn, t.global_payees, values, "global payee")
        if self.sqlite:
            self.conn.execute(
                text("INSERT INTO directory_fts(id, search_text) VALUES (:id, :search_text)"),
                {"id": payee.id, "search_text": values["search_text"]},
            )
        self.changes.saw(payee)

    def get(self, payee_id: str) -> GlobalPayee:
        query = select(t.global_payees).where(t.global_payees.c.id == payee_id)
        return codecs.global_payee_from_row(one_row(self.conn, query, "global payee", payee_id))

    def save(self, payee: GlobalPayee) -> None:
        values = codecs.global_payee_values(payee)
        result = self.conn.execute(
            update(t.global_payees).where(t.global_payees.c.id == payee.id).values(**values)
        )
        if result.rowcount == 0:
            raise NotFound("global payee", payee.id)
        if self.sqlite:
            self.conn.execute(
                text("UPDATE directory_fts SET search_text = :search_text WHERE id = :id"),
                {"id": payee.id, "search_text": values["search_text"]},
            )
        self.changes.saw(payee)

    def search(self, partial_name: str, *, cursor: str | None, limit: int) -> Page[GlobalPayee]:
        needle = escape_like(partial_name.casefold().replace(codecs.SEPARATOR, ""))
        g = t.global_payees.c
        contains = f"%{needle}%"
        word_start = or_(
            g.search_text.like(f"%{codecs.SEPARATOR}{needle}%", escape="\\"),
            g.search_text.like(f"% {needle}%", escape="\\"),
        )
        rank = case(
            (g.name_folded.like(f"{needle}%", escape="\\"), literal(0)),
            (word_start, literal(1)),
            else_=literal(2),
        ).label("rank")
        if self.sqlite and len(partial_name) >= TRIGRAM:
            # NOTE: SQLite hands GLOB (never LIKE ... ESCAPE) to the FTS5 trigram index;
            # the text is case-folded, so GLOB's case sensitivity does no harm. Shorter
            # text has no trigram to look up, and a plain scan is faster than the probe.
            matching = g.id.in_(
                select(text("id"))
                .select_from(text("directory_fts"))
                .where(text("search_text GLOB :pattern"))
            )
        else:
            matching = g.search_text.like(contains, escape="\\")
        weight = (-g.popularity).label("weight")  # NOTE: the better known first
        ranked = select(t.global_payees, rank, weight).where(matching).subquery("ranked")
        r = ranked.c
        keys = [r.rank, r.weight, r.name_folded, r.id]
        query = sortable(select(ranked), keys).params(
            pattern=f"*{escape_glob(partial_name.casefold())}*"
        )
        rows, next_cursor = keyset_page(self.conn, query, keys, cursor, limit, newest_first=False)
        return Page([codecs.global_payee_from_row(row) for row in rows], next_cursor)


class SqlPayeeRepository:
    """Payees in SQL, account numbers encrypted."""

    def __init__(self, conn: Connection, cipher: FieldCipher, changes: Changes) -> None:
        self.conn = conn
        self.cipher = cipher
        self.changes = changes

    def _values(self, payee: Payee) -> dict[str, Any]:
        return codecs.payee_values(payee, self.cipher)

    def _from_row(self, row: Any) -> Payee:
        return codecs.payee_from_row(row, self.cipher.decrypt(row.account_number_enc))

    def add(self, payee: Payee) -> None:
        insert_row(self.conn, t.payees, self._values(payee), "payee")
        self.changes.saw(payee)

    def get(self, tenant_id: str, payee_id: str) -> Payee:
        c = t.payees.c
        query = select(t.payees).where(c.id == payee_id, c.tenant_id == tenant_id)
        return self._from_row(one_row(self.conn, query, "payee", payee_id))

    def save(self, payee: Payee) -> None:
        c = t.payees.c
        result = self.conn.execute(
            update(t.payees)
            .where(c.id == payee.id, c.tenant_id == payee.tenant_id)
            .values(**self._values(payee))
        )
        if result.rowcount == 0:
            raise NotFound("payee", payee.id)
        self.changes.saw(payee)

    def find(
        self, tenant_id: str, *, customer_id: str | None, cursor: str | None, limit: int
    ) -> Page[Payee]:
        c = t.payees.c
        query = select(t.payees).where(c.tenant_id == tenant_id)
        if customer_id is not None:
            query = query.where(c.customer_id == customer_id)
        keys = [c.id]
        rows, next_cursor = keyset_page(
            self.conn, sortable(query, keys), keys, cursor, limit, newest_first=False
        )
        return Page([self._from_row(row) for row in rows], next_cursor)

    def linked_to(
        self, global_payee_id: str, *, after: str | None = None, limit: int = 500
    ) -> list[Payee]:
        c = t.payees.c
        query = select(t.payees).where(c.global_payee_id == global_payee_id)
        if after is not None:
            query = query.where(c.id > after)
        rows = self.conn.execute(query.order_by(c.id).limit(limit))
        return [self._from_row(row) for row in rows]


class SqlFundingAccountRepository:
    """Funding accounts in SQL, numbers encrypted."""

    def __init__(self, conn: Connection, cipher: FieldCipher, changes: Changes) -> None:
        self.conn = conn
        self.cipher = cipher
        self.changes = changes

    def _values(self, account: FundingAccount) -> dict[str, Any]:
        return codecs.funding_account_values(account, self.cipher)

    def add(self, account: FundingAccount) -> None:
        insert_row(self.conn, t.funding_accounts, self._values(account), "funding account")
        self.changes.saw(account)

    def get(self, tenant_id: str, account_id: str) -> FundingAccount:
        c = t.funding_accounts.c
        query = select(t.funding_accounts).where(c.id == account_id, c.tenant_id == tenant_id)
        row = one_row(self.conn, query, "funding account", account_id)
        return codecs.funding_account_from_row(row, self.cipher.decrypt)

    def awaiting_micro_deposits(self, *, limit: int) -> list[FundingAccount]:
        c = t.funding_accounts.c
        query = (
            select(t.funding_accounts)
            .where(
                c.verification_method == VerificationMethod.MICRO_DEPOSITS.value,
                c.verification_status == VerificationStatus.PENDING.value,
            )
            .order_by(c.id)
            .limit(limit)
        )
        rows = self.conn.execute(query)
        return [codecs.funding_account_from_row(row, self.cipher.decrypt) for row in rows]

    def hold(self, tenant_id: str, account_id: str) -> None:
        """A row lock on PostgreSQL; SQLite has one writer at a time already."""
        c = t.funding_accounts.c
        query = select(c.id).where(c.id == account_id, c.tenant_id == tenant_id)
        one_row(self.conn, query.with_for_update(), "funding account", account_id)

    def save(self, account: FundingAccount) -> None:
        c = t.funding_accounts.c
        result = self.conn.execute(
            update(t.funding_accounts)
            .where(c.id == account.id, c.tenant_id == account.tenant_id)
            .values(**self._values(account))
        )
        if result.rowcount == 0:
            raise NotFound("funding account", account.id)
        self.changes.saw(account)
