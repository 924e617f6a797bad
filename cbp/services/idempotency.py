"""Running a request at most once per idempotency key."""

from __future__ import annotations

from cbp.domain.errors import AlreadyExists, ConcurrencyConflict, IdempotencyKeyInFlight
from cbp.domain.idempotency import IdempotencyRecord, check_key
from cbp.services.dependencies import Dependencies


def begin(
    deps: Dependencies, *, tenant_id: str, key: str, fingerprint: str
) -> tuple[int, bytes] | None:
    """Claim ``key`` for this request; or the stored response to replay.

    Raises IdempotencyKeyReused for the same key with another request, and
    IdempotencyKeyInFlight while the first request with it still runs. A
    first request that never answered (its process was killed) gives its key
    up once its lease runs out, so a retry can run.
    """
    record = IdempotencyRecord(
        tenant_id=tenant_id,
        key=check_key(key),
        fingerprint=fingerprint,
        created_at=deps.clock.now(),
    )
    try:
        with deps.uow() as uow:
            holder = uow.idempotency.claim(record)
            uow.commit()
    except (ConcurrencyConflict, AlreadyExists):
        raise IdempotencyKeyInFlight(
            "a request with this Idempotency-Key is still running"
        ) from None
    if holder is None:
        return None
    if holder.abandoned(deps.clock.now()):
        with deps.uow() as uow:
            uow.idempotency.release(tenant_id, key)
            uow.commit()
        return begin(deps, tenant_id=tenant_id, key=key, fingerprint=fingerprint)
    return holder.replay_for(fingerprint)


def finish(
    deps: Dependencies, *, tenant_id: str, key: str, fingerprint: str, status: int, body: bytes
) -> None:
    """Keep the response for replays; forget the key if the server failed.

    A 5xx is never stored, so a client retrying after an outage is served,
    not locked out of its key for a day.
    """
    with deps.uow() as uow:
        if status >= 500:
            uow.idempotency.release(tenant_id, key)
        else:
            record = IdempotencyRecord(
                tenant_id=tenant_id, key=key, fingerprint=fingerprint, created_at=deps.clock.now()
            )
            record.complete(status=status, body=body)
            uow.idempotency.save(record)
        uow.commit()
