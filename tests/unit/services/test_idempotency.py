"""A key held by a request whose process died is given back once its lease runs out."""

from __future__ import annotations

import pytest

from cbp.adapters.memory.outside import InMemoryClock
from cbp.bootstrap import Cbp
from cbp.domain.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from cbp.domain.idempotency import IN_FLIGHT_LEASE
from cbp.services import idempotency


def test_a_key_left_in_flight_by_a_dead_request_can_be_retried_after_its_lease(
    app: Cbp, clock: InMemoryClock
) -> None:
    claim = {"tenant_id": "ten_1", "key": "k-1", "fingerprint": "f1"}
    assert idempotency.begin(app.deps, **claim) is None  # NOTE: then the process is killed
    with pytest.raises(IdempotencyKeyInFlight):
        idempotency.begin(app.deps, **claim)
    clock.advance(seconds=IN_FLIGHT_LEASE.total_seconds() - 1)
    with pytest.raises(IdempotencyKeyInFlight):
        idempotency.begin(app.deps, **claim)
    clock.advance(seconds=1)
    assert idempotency.begin(app.deps, **claim) is None  # NOTE: the retry runs
    idempotency.finish(app.deps, status=201, body=b"{}", **claim)
    clock.advance(hours=1)
    assert idempotency.begin(app.deps, **claim) == (201, b"{}")  # NOTE: a finished one replays
    with pytest.raises(IdempotencyKeyReused):
        idempotency.begin(app.deps, **{**claim, "fingerprint": "f2"})
