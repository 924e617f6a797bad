"""What the in-memory repositories share: keyset pages, rows owned by a tenant."""

from __future__ import annotations

from typing import Any

from cbp.domain.errors import NotFound
from cbp.ports.pagination import decode_cursor, encode_cursor
from cbp.ports.storage.pages import Page


def keyset_page(
    rows: list[Any], key: Any, cursor: str | None, limit: int, *, newest_first: bool
) -> Page[Any]:
    """Keyset pagination over rows sorted by ``key``."""
    rows = sorted(rows, key=key, reverse=newest_first)
    if cursor is not None:
        after = tuple(decode_cursor(cursor))
        rows = [r for r in rows if (key(r) < after if newest_first else key(r) > after)]
    items = rows[:limit]
    more = len(rows) > limit
    return Page(items, encode_cursor(list(key(items[-1]))) if more and items else None)


def owned(row: Any, tenant_id: str, kind: str, record_id: str) -> Any:
    """``row`` if it belongs to ``tenant_id``; NotFound otherwise, as for a missing one."""
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(kind, record_id)
    return row
