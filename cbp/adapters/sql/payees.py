"""The biller directory, payees and funding accounts in SQL; account numbers encrypted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Connection,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)

from cbp.adapters.sql import codecs
from cbp.adapters.sql import schema as t
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.statements import (
    TRIGRAM,
    dialect_insert,
    escape_glob,
    escape_like,
    insert_row,
    keyset_page,
    one_row,
    sortable,
)
from cbp.domain.directory import GlobalPayee
from cbp.domain.errors import (
    InvalidInput,
    NotFound,
)
from cbp.domain.funding import FundingAccount
from cbp.domain.micro_deposits import VerificationMethod
from cbp.domain.payee import Payee
from cbp.domain.verification import VerificationStatus
from cbp.ports.pagination import decode_cursor, encode_cursor
from cbp.ports.storage.events import Changes
from cbp.ports.storage.pages import Page


class SqlDirectoryRepository:
    """The biller directory, searched tier by tier, each from an index in search order.

    A search ranks name prefixes first, then word and alias prefixes, then any
    other match, the better known first within each. The first two tiers are
    read off ``directory_prefixes`` in that order and stop at the page's end,
    however many billers match; the last is read only when they do not fill
    the page, through a trigram index (pg_trgm on PostgreSQL, FTS5 on SQLite).
    """

    def __init__(self, conn: Connection, changes: Changes) -> None:
        self.conn = conn
        self.changes = changes
        self.sqlite = conn.dialect.name == "sqlite"
        #: Characters this unit of work has noted as held already.
        self._characters_noted: set[str] = set()

    def add(self, *billers: GlobalPayee) -> None:
        if not billers:
            return
        values = [codecs.global_payee_values(biller) for biller in billers]
        insert_row(self.conn, t.global_payees, values, "global payee")
        if self.sqlite:
            self.conn.execute(
                text("INSERT INTO directory_fts(id, search_text) VALUES (:id, :search_text)"),
                [{"id": row["id"], "search_text": row["search_text"]} for row in values],
            )
        self._index_word_starts(*billers)
        for biller in billers:
            self.changes.saw(biller)

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
        prefixes = t.directory_prefixes
        self.conn.execute(delete(prefixes).where(prefixes.c.global_payee_id == payee.id))
        self._index_word_starts(payee)
        self.changes.saw(payee)

    def _index_word_starts(self, *billers: GlobalPayee) -> None:
        rows = [
            row
            for b in billers
            for row in codecs.directory_prefix_rows(b.id, b.name, b.aliases, b.popularity)
        ]
        self.conn.execute(insert(t.directory_prefixes), rows)
        held = set[str]().union(*(codecs.directory_characters(b.name, b.aliases) for b in billers))
        held -= self._characters_noted
        if held:  # NOTE: an import's later batches hold no character not already noted
            self.conn.execute(
                dialect_insert(self.conn)(t.directory_characters).on_conflict_do_nothing(),
                [{"character": character} for character in sorted(held)],
            )
            self._characters_noted |= held

    def search(self, partial_name: str, *, cursor: str | None, limit: int) -> Page[GlobalPayee]:
        needle = partial_name.casefold().replace(codecs.SEPARATOR, "")
        after = _search_position(cursor)
        found: list[tuple[SearchKey, Any]] = []
        if after is None or after[0] < ANYWHERE:
            found += self._word_starts(needle, after, limit + 1)
        if len(found) <= limit:
            later = after if after is not None and after[0] == ANYWHERE else None
            found += self._anywhere(needle, later, limit + 1 - len(found))
        page, more = found[:limit], len(found) > limit
        missing = [key[3] for key, row in page if row is None]
        fetched = (
            {
                row.id: row
                for row in self.conn.execute(
                    select(t.global_payees).where(t.global_payees.c.id.in_(missing))
                )
            }
            if missing
            else {}
        )
        items = [codecs.global_payee_from_row(row or fetched[key[3]]) for key, row in page]
        return Page(items, encode_cursor(list(page[-1][0])) if more and page else None)

    def _word_starts(
        self, needle: str, after: SearchKey | None, wanted: int
    ) -> list[tuple[SearchKey, Any]]:
        """Billers a word or alias of which starts with ``needle``, in search order."""
        p = t.directory_prefixes.c
        pattern = f"{escape_like(needle)}%"
        starts = [p.prefix == needle[: codecs.PREFIX_LENGTH]]
        if len(needle) > codecs.PREFIX_LENGTH:
            starts.append(p.rest.like(pattern, escape="\\"))
        # NOTE: a biller whose name starts with the text is found there, not again later
        in_name_first = p.name_folded.like(pattern, escape="\\")
        keys = (p.tier, p.weight, p.name_folded, p.global_payee_id)
        query = (
            select(*keys)
            .where(*starts, or_(p.tier == 0, ~in_name_first))
            .order_by(*keys)
            .limit(wanted * 2)
        )
        found: list[tuple[SearchKey, Any]] = []
        while len(found) < wanted:
            bound = after if not found else found[-1][0]
            page = query if bound is None else query.where(tuple_(*keys) > tuple_(*bound))
            rows = [tuple(row) for row in self.conn.execute(page)]
            for key in rows:  # NOTE: one biller's several word starts come together
                if not found or found[-1][0][3] != key[3]:
                    found.append(((int(key[0]), int(key[1]), str(key[2]), str(key[3])), None))
            if len(rows) < wanted * 2:
                break
        return found[:wanted]

    def _anywhere(
        self, needle: str, after: SearchKey | None, wanted: int
    ) -> list[tuple[SearchKey, Any]]:
        """Billers with ``needle`` elsewhere in a name or alias, in search order."""
        g = t.global_payees.c
        escaped = escape_like(needle)
        if len(needle) < TRIGRAM and not self._all_held(needle):
            return []  # NOTE: no trigram to look that text up by, and no biller holds it
        if self.sqlite and len(needle) >= TRIGRAM:
            # NOTE: SQLite hands GLOB (never LIKE ... ESCAPE) to the FTS5 trigram index;
            # the text is case-folded, so GLOB's case sensitivity does no harm. Shorter
            # text has no trigram to look up, and a plain scan is faster than the probe.
            matching = g.id.in_(
                select(text("id"))
                .select_from(text("directory_fts"))
                .where(text("search_text GLOB :pattern"))
            )
        else:
            matching = g.search_text.like(f"%{escaped}%", escape="\\")
        starts_a_word = or_(
            g.name_folded.like(f"{escaped}%", escape="\\"),
            g.search_text.like(f"%{codecs.SEPARATOR}{escaped}%", escape="\\"),
            g.search_text.like(f"% {escaped}%", escape="\\"),
        )
        keys = ((-g.popularity), g.name_folded, g.id)
        query = select(t.global_payees).where(matching, ~starts_a_word)
        if after is not None:
            query = query.where(tuple_(*keys) > tuple_(*after[1:]))
        query = query.order_by(*keys).limit(wanted).params(pattern=f"*{escape_glob(needle)}*")
        return [
            ((ANYWHERE, -row.popularity, row.name_folded, row.id), row)
            for row in self.conn.execute(query)
        ]

    def _all_held(self, needle: str) -> bool:
        """Whether some biller holds each character of ``needle`` (not necessarily together)."""
        characters = set(needle)
        c = t.directory_characters.c
        query = select(func.count()).where(c.character.in_(characters))
        return bool(self.conn.execute(query).scalar_one() == len(characters))


#: A search's sort key: tier, weight (the better known first), folded name, id.
SearchKey = tuple[int, int, str, str]
#: The tier of billers that match neither where their name nor where a word starts.
ANYWHERE = 2


def _search_position(cursor: str | None) -> SearchKey | None:
    """The sort key a search cursor holds; InvalidInput unless it is one."""
    if cursor is None:
        return None
    position = decode_cursor(cursor)
    if (
        len(position) != 4
        or position[0] not in (0, 1, ANYWHERE)
        or not isinstance(position[1], int)
        or not all(isinstance(part, str) for part in position[2:])
    ):
        raise InvalidInput("cursor is not valid")
    return (position[0], position[1], position[2], position[3])


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
