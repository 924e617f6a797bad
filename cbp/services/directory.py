"""The biller directory: administration (its search is ``directory_searches``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cbp.domain import identifiers
from cbp.domain.banking import AccountMask
from cbp.domain.directory import GlobalPayee, PayeeStatus, PaymentMethod
from cbp.domain.errors import InvalidInput
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services.choices import one_of
from cbp.services.commands import (
    AddGlobalPayee,
    ForgetDirectorySearches,
    UpdateGlobalPayee,
)
from cbp.services.dependencies import Dependencies
from cbp.services.directory_searches import DirectorySearches


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
    directory_searches: DirectorySearches,
) -> str:
    """Add a biller to the directory; searches see it at once."""
    payee = _new_global_payee(command, ids=ids)
    uow.directory.add(payee)
    directory_searches.forget_all()
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
            uow.directory.add(*pending)
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
    deps.directory_searches.forget_all()
    return added


def update_global_payee(
    command: UpdateGlobalPayee,
    *,
    uow: UnitOfWork,
    clock: Clock,
    directory_searches: DirectorySearches,
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
    directory_searches.forget_all()


def forget_directory_searches(
    command: ForgetDirectorySearches, *, directory_searches: DirectorySearches
) -> None:
    """Make every cached search stale: the directory changed in a process of its own."""
    directory_searches.forget_all()
