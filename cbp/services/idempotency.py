"""The upkeep of Idempotency-Keys: each is kept for its retention, then forgotten."""

from __future__ import annotations

import logging

from cbp.ports.storage.unit_of_work import UnitsOfWork
from cbp.ports.system import Clock
from cbp.services.commands import PurgeExpiredIdempotencyKeys

logger = logging.getLogger("cbp.idempotency")


def purge_expired_idempotency_keys(
    command: PurgeExpiredIdempotencyKeys, *, unit_of_work: UnitsOfWork, clock: Clock
) -> int:
    """Forget every key past its retention, one batch per transaction; return how many.

    A retry after the retention runs as a new request: it is past the window
    in which clients may retry. Without this, the table grows for ever.
    """
    now, purged = clock.now(), 0
    while True:
        with unit_of_work() as uow:
            batch = uow.idempotency.purge_expired(now, limit=command.batch)
            uow.commit()
        purged += batch
        if batch < command.batch:
            break
    if purged:
        logger.info("purged expired idempotency keys", extra={"rows": purged})
    return purged
