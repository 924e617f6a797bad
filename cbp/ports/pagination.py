"""Opaque cursors for keyset pagination, shared by every storage adapter."""

from __future__ import annotations

import base64
import json
from typing import Any

from cbp.domain.errors import InvalidInput


def encode_cursor(position: list[Any]) -> str:
    """Wrap the sort key of the last item of a page as an opaque string."""
    raw = json.dumps(position, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The sort key a cursor carries; InvalidInput for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("cursor is not valid") from None
    if not isinstance(value, list) or not all(_is_sort_key(item) for item in value):
        raise InvalidInput("cursor is not valid")
    return value


def _is_sort_key(item: Any) -> bool:
    """What a page's sort key holds: text a database stores, or a 64-bit whole number."""
    if isinstance(item, bool):
        return False
    if isinstance(item, int):
        return -(2**63) <= item < 2**63
    if isinstance(item, str):
        try:
            item.encode("utf-8")  # NOTE: a lone surrogate is no text a database takes
        except UnicodeEncodeError:
            return False
        return "\x00" not in item
    return False


def search_rank(name: str, aliases: tuple[str, ...], text: str) -> int | None:
    """How well a biller matches a search: 0 name prefix, 1 word or alias prefix, 2 inside.

    ``None`` means no match. Matching ignores case. A text of several words
    found where a word starts ("co c" in "Gas Co City") matches from that
    word, as a one-word text would.
    """
    needle = text.casefold()
    name_cf = name.casefold()
    names = [name_cf, *(alias.casefold() for alias in aliases)]
    if name_cf.startswith(needle):
        return 0
    if any(n.startswith(needle) or f" {needle}" in n for n in names):
        return 1
    if any(needle in n for n in names):
        return 2
    return None
