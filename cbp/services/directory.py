"""The biller directory: administration and cached search."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import asdict
from typing import Any

from cbp.domain import identifiers
from cbp.domain.banking import AccountMask
from cbp.domain.directory import Address, GlobalPayee, PayeeStatus, PaymentMethod
from cbp.domain.errors import InvalidInput
from cbp.ports.cache import Cache
from cbp.ports.errors import DependencyError
from cbp.ports.storage.pages import Page
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services.choices import one_of
from cbp.services.commands import (
    AddGlobalPayee,
    ForgetDirectorySearches,
    UpdateGlobalPayee,
)
from cbp.services.dependencies import Dependencies

logger = logging.getLogger("cbp.directory")
_GENERATION_KEY = "directory:generation"
MAX_SEARCH_LENGTH = 100


def _new_global_payee(command: AddGlobalPayee, *, ids: IdGenerator) -> GlobalPayee:
    return GlobalPayee(
        id=ids.new(identifiers.GLOBAL_PAYEE),
        name=command.name,
        category=command.category,
        address=command.address,
        payment_method=one_of(PaymentMethod, command.payment_method, "payment_method"),
        lead_days=command.lead_days,
        account_masks=tuple(AccountMask(mask) for mask in command.account_masks),
        aliases=command.aliases,
        popularity=command.popularity,
    )


def add_global_payee(
    command: AddGlobalPayee,
    *,
    uow: UnitOfWork,
    ids: IdGenerator,
    cache: Cache,
) -> str:
    """Add a biller to the directory; searches see it at once."""
    payee = _new_global_payee(command, ids=ids)
    uow.directory.add(payee)
    invalidate_directory_cache(cache, ids)
    return payee.id


def import_directory(
    deps: Dependencies,
    billers: Iterable[AddGlobalPayee],
    *,
    batch: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Add many billers, a batch per transaction; return how many were added.

    A bad row stops the import with its error and row number; the batches
    before it stay imported, so a fixed file can be imported from that row.
    """
    added = 0
    pending: list[GlobalPayee] = []

    def flush(command: AddGlobalPayee) -> None:
        nonlocal added
        with deps.unit_of_work() as uow:
            for payee in pending:
                uow.directory.add(payee)
            uow.commit()
        added += len(pending)
        pending.clear()
        if progress:
            progress(added)

    last: AddGlobalPayee | None = None
    for row, command in enumerate(billers, start=1):
        try:
            pending.append(_new_global_payee(command, ids=deps.ids))
        except InvalidInput as error:
            raise InvalidInput(f"row {row}: {error.detail}") from None
        last = command
        if len(pending) >= batch:
            flush(command)
    if pending and last is not None:
        flush(last)
    invalidate_directory_cache(deps.cache, deps.ids)
    return added


def update_global_payee(
    command: UpdateGlobalPayee,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
    cache: Cache,
) -> None:
    """Change a biller; a status change is announced on ``payee.events``."""
    payee = uow.directory.get(command.global_payee_id)
    payee.update(
        name=command.name,
        aliases=command.aliases,
        category=command.category,
        address=command.address,
        payment_method=None
        if command.payment_method is None
        else one_of(PaymentMethod, command.payment_method, "payment_method"),
        lead_days=command.lead_days,
        account_masks=None
        if command.account_masks is None
        else tuple(AccountMask(mask) for mask in command.account_masks),
        popularity=command.popularity,
        at=clock.now(),
    )
    if command.status is not None:
        payee.change_status(one_of(PayeeStatus, command.status, "status"), at=clock.now())
    uow.directory.save(payee)
    invalidate_directory_cache(cache, ids)


def search_directory(
    partial_name: str,
    *,
    cursor: str | None,
    limit: int,
    cache: Cache,
    reading: Callable[[], AbstractContextManager[UnitOfWork]],
    ttl_seconds: float,
) -> Page[GlobalPayee]:
    """Billers matching ``partial_name``, prefix matches first, cached.

    Cache entries are keyed by a generation number that every directory
    change bumps, so invalidation is one write however many searches exist.
    """
    text = partial_name.strip()
    if not text or len(text) > MAX_SEARCH_LENGTH:
        raise InvalidInput(f"search text must be 1 to {MAX_SEARCH_LENGTH} characters")
    key = f"directory:search:{_generation(cache)}:{limit}:{cursor or ''}:{text.casefold()}"
    if (cached := _cache_get(cache, key)) is not None:
        return _decode_page(cached)
    with reading() as uow:
        page = uow.directory.search(text, cursor=cursor, limit=limit)
    _cache_set(cache, key, _encode_page(page), ttl_seconds)
    return page


def forget_directory_searches(
    command: ForgetDirectorySearches, *, cache: Cache, ids: IdGenerator
) -> None:
    """Make every cached search stale: the directory changed in a process of its own."""
    invalidate_directory_cache(cache, ids)


def invalidate_directory_cache(cache: Cache, ids: IdGenerator) -> None:
    """Make every cached search stale (called on any directory change)."""
    _cache_set(cache, _GENERATION_KEY, ids.new("gen").encode(), 86400 * 365)


def _generation(cache: Cache) -> str:
    value = _cache_get(cache, _GENERATION_KEY)
    return value.decode() if value else "0"


def _cache_get(cache: Cache, key: str) -> bytes | None:
    """The cached value; a cache that is down is a miss, never an error."""
    try:
        return cache.get(key)
    except DependencyError:
        logger.warning("cache unavailable; serving the directory uncached")
        return None


def _cache_set(cache: Cache, key: str, value: bytes, ttl_seconds: float) -> None:
    try:
        cache.set(key, value, ttl_seconds=ttl_seconds)
    except DependencyError:
        logger.warning("cache unavailable; result not cached")


def _encode_page(page: Page[GlobalPayee]) -> bytes:
    return json.dumps(
        {"items": [_payee_to_dict(p) for p in page.items], "next_cursor": page.next_cursor}
    ).encode()


def _decode_page(raw: bytes) -> Page[GlobalPayee]:
    data = json.loads(raw)
    return Page([_payee_from_dict(item) for item in data["items"]], data["next_cursor"])


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
