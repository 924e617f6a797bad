"""Directory search, cached twice: shared by every process, and this process's recent pages.

A search page is kept in the shared cache (Redis in production) stamped
with the directory's generation, which every change bumps, so invalidation
is one write however many searches exist; the generation and the page are
read in one round trip. The pages this process served lately are also kept
in its own memory, and forgotten the moment any process announces a
directory change, so a repeated search costs no round trip at all.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar

from cbp.domain.banking import AccountMask
from cbp.domain.directory import Address, GlobalPayee, PayeeStatus, PaymentMethod
from cbp.domain.errors import InvalidInput
from cbp.ports.broadcasts import Broadcast
from cbp.ports.cache import Cache
from cbp.ports.errors import DependencyError
from cbp.ports.storage.pages import Page
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import IdGenerator

logger = logging.getLogger("cbp.directory")
T = TypeVar("T")

MAX_SEARCH_LENGTH = 100
_GENERATION_KEY = "directory:generation"
#: A generation outlives any page stamped with it.
_GENERATION_TTL_SECONDS = 366 * 86400.0


@dataclass(frozen=True)
class PageForm(Generic[T]):
    """How a page of search results is kept in the cache, and what a search returns.

    The core keeps domain pages; the HTTP API keeps its rendered response,
    so that a repeated search costs a cache read and the response. The
    name keeps one form's entries from being read as another's.
    """

    name: str
    encode: Callable[[Page[GlobalPayee]], bytes]
    decode: Callable[[bytes], T]


class DirectorySearches:
    """Search pages of the biller directory, cached; forgotten on any change to it."""

    #: Pages this process keeps in its own memory at most (a page is a few KiB).
    RECENT_LIMIT = 256

    def __init__(
        self,
        cache: Cache,
        changes: Broadcast,
        ids: IdGenerator,
        *,
        ttl_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cache = cache
        self.ttl_seconds = ttl_seconds
        self._changes = changes
        self._ids = ids
        self._monotonic = monotonic
        self._recent: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        #: Bumped whenever the recent pages are forgotten: a page read before is not kept.
        self._epoch = 0
        self._listening = False
        self._lock = threading.Lock()

    def search(
        self,
        partial_name: str,
        *,
        cursor: str | None,
        limit: int,
        reading: Callable[[], AbstractContextManager[UnitOfWork]],
        form: PageForm[T],
    ) -> T:
        """Billers matching ``partial_name``, prefix matches first, in ``form``."""
        text = partial_name.strip()
        if not text or len(text) > MAX_SEARCH_LENGTH:
            raise InvalidInput(f"search text must be 1 to {MAX_SEARCH_LENGTH} characters")
        key = "directory:search:" + json.dumps([form.name, limit, cursor, text.casefold()])
        if (recent := self._recall(key)) is not None:
            return form.decode(recent)
        epoch = self._listen()
        generation, entry = self._get_many([_GENERATION_KEY, key])
        stamp = (generation or b"0") + b"\n"
        if entry is not None and entry.startswith(stamp):
            encoded = entry[len(stamp) :]
        else:
            with reading() as uow:
                page = uow.directory.search(text, cursor=cursor, limit=limit)
            encoded = form.encode(page)
            self._set(key, stamp + encoded, self.ttl_seconds)
        self._keep(key, encoded, epoch)
        return form.decode(encoded)

    def forget_all(self) -> None:
        """Make every cached search stale, here and in every process (the directory changed)."""
        self._set(_GENERATION_KEY, self._ids.new("gen").encode(), _GENERATION_TTL_SECONDS)
        self._forget_recent(None)
        self._changes.announce("directory")

    def _listen(self) -> int:
        """Hear directory changes from the first search on; the epoch to keep a page under."""
        with self._lock:
            listen, self._listening = not self._listening, True
        if listen:
            self._changes.listen(self._forget_recent)
        with self._lock:
            return self._epoch

    def _recall(self, key: str) -> bytes | None:
        with self._lock:
            kept = self._recent.get(key)
            if kept is None:
                return None
            if self._monotonic() - kept[0] >= self.ttl_seconds:
                del self._recent[key]
                return None
            self._recent.move_to_end(key)
            return kept[1]

    def _keep(self, key: str, encoded: bytes, epoch: int) -> None:
        with self._lock:
            if epoch != self._epoch:
                return  # NOTE: the directory changed while the page was read: it may be stale
            self._recent[key] = (self._monotonic(), encoded)
            self._recent.move_to_end(key)
            while len(self._recent) > self.RECENT_LIMIT:
                self._recent.popitem(last=False)

    def _forget_recent(self, _subject: str | None) -> None:
        with self._lock:
            self._recent.clear()
            self._epoch += 1

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        """The shared cache's values; a cache that is down is a miss, never an error."""
        try:
            return self.cache.get_many(keys)
        except DependencyError:
            logger.warning("cache unavailable; serving the directory uncached")
            return [None] * len(keys)

    def _set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        try:
            self.cache.set(key, value, ttl_seconds=ttl_seconds)
        except DependencyError:
            logger.warning("cache unavailable; result not cached")


def _encode_page(page: Page[GlobalPayee]) -> bytes:
    return json.dumps(
        {"items": [_payee_to_dict(p) for p in page.items], "next_cursor": page.next_cursor}
    ).encode()


def _decode_page(raw: bytes) -> Page[GlobalPayee]:
    data = json.loads(raw)
    return Page([_payee_from_dict(item) for item in data["items"]], data["next_cursor"])


#: Search results as the core returns them: pages of billers.
DOMAIN_PAGES = PageForm("pages", _encode_page, _decode_page)


def _payee_to_dict(payee: GlobalPayee) -> dict[str, Any]:
    return {
        "id": payee.id,
        "name": payee.name,
        "category": payee.category,
        "address": asdict(payee.address),
        "payment_method": payee.payment_method.value,
        "lead_days": payee.lead_days,
        "account_masks": [mask.pattern for mask in payee.account_masks],
        "aliases": list(payee.aliases),
        "status": payee.status.value,
        "popularity": payee.popularity,
        "version": payee.version,
    }


def _payee_from_dict(data: dict[str, Any]) -> GlobalPayee:
    return GlobalPayee(
        id=data["id"],
        name=data["name"],
        category=data["category"],
        address=Address(**data["address"]),
        payment_method=PaymentMethod(data["payment_method"]),
        lead_days=data["lead_days"],
        account_masks=tuple(AccountMask(mask) for mask in data["account_masks"]),
        aliases=tuple(data["aliases"]),
        status=PayeeStatus(data["status"]),
        popularity=data.get("popularity", 0),
        version=data["version"],
    )
