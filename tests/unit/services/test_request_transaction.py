"""A request's command, its reads and its idempotency record commit as one transaction."""

from __future__ import annotations

import pytest

from cbp.bootstrap import Cbp
from cbp.domain.errors import ConcurrencyConflict, IdempotencyKeyReused, NotFound
from cbp.domain.idempotency import IdempotencyRecord
from cbp.services import commands as c
from cbp.services.bus import retry_on_conflict
from cbp.services.transaction import KeyHeld, RequestTransaction
from tests.unit.services.conftest import World


def claim(app: Cbp, key: str = "k-1", fingerprint: str = "f1") -> IdempotencyRecord:
    return IdempotencyRecord(
        tenant_id="ten_x", key=key, fingerprint=fingerprint, created_at=app.deps.clock.now()
    )


def tenant_names(app: Cbp) -> list[str]:
    return [t.name for t in app.queries.tenants()]


def test_the_work_and_its_answer_commit_together_and_a_repeat_replays(app: Cbp) -> None:
    with RequestTransaction(app.deps.unit_of_work, claim(app)) as request:
        tenant_id = app.handle(c.CreateTenant(name="Acme"))
        assert [t.id for t in app.queries.tenants()] == [tenant_id]  # NOTE: read in the request
        request.finish(status=201, body=b'{"id": 1}')
    assert tenant_names(app) == ["Acme"]
    with RequestTransaction(app.deps.unit_of_work, claim(app)), pytest.raises(KeyHeld) as held:
        app.handle(c.CreateTenant(name="Acme"))
    assert held.value.holder.replay_for("f1") == (201, b'{"id": 1}')
    with pytest.raises(IdempotencyKeyReused):
        held.value.holder.replay_for("f2")
    assert tenant_names(app) == ["Acme"]


def test_a_request_that_never_finishes_leaves_neither_work_nor_key(app: Cbp) -> None:
    with RequestTransaction(app.deps.unit_of_work, claim(app)) as request:
        app.handle(c.CreateTenant(name="Lost"))
        request.close()  # NOTE: the process dies before the commit
    assert tenant_names(app) == []
    with RequestTransaction(app.deps.unit_of_work, claim(app)) as request:
        app.handle(c.CreateTenant(name="Retried"))
        request.finish(status=201, body=b"{}")
    assert tenant_names(app) == ["Retried"]


def test_a_server_error_keeps_nothing_so_the_key_is_free(app: Cbp) -> None:
    with RequestTransaction(app.deps.unit_of_work, claim(app)) as request:
        app.handle(c.CreateTenant(name="Half done"))
        request.finish(status=500, body=b"")
    assert tenant_names(app) == []
    with RequestTransaction(app.deps.unit_of_work, claim(app)) as request:
        app.handle(c.CreateTenant(name="Done"))
        request.finish(status=201, body=b"{}")
    assert tenant_names(app) == ["Done"]


def test_a_refused_command_keeps_its_answer_and_none_of_its_work(app: Cbp) -> None:
    with RequestTransaction(app.deps.unit_of_work, claim(app)) as request:
        app.handle(c.CreateTenant(name="Before the refusal"))
        with pytest.raises(NotFound):
            app.handle(c.SetTenantContact(tenant_id="ten_missing", contact_email=None))
        request.finish(status=404, body=b"not found")
    assert tenant_names(app) == []
    with RequestTransaction(app.deps.unit_of_work, claim(app)), pytest.raises(KeyHeld) as held:
        app.handle(c.CreateTenant(name="Again"))
    assert held.value.holder.replay_for("f1") == (404, b"not found")


def test_a_write_conflict_retries_the_command_in_a_clean_transaction(app: Cbp) -> None:
    attempts = []

    def create_once_conflicting(command: c.CreateTenant, deps: object) -> None:
        with app.deps.unit_of_work() as uow:
            attempts.append(command.name)
            if len(attempts) == 1:
                raise ConcurrencyConflict("another writer won")
            uow.commit()

    with RequestTransaction(app.deps.unit_of_work, claim(app)) as request:
        retry_on_conflict(lambda: create_once_conflicting(c.CreateTenant(name="x"), None))
        request.finish(status=201, body=b"{}")
    assert attempts == ["x", "x"]
    with RequestTransaction(app.deps.unit_of_work, claim(app)), pytest.raises(KeyHeld):
        app.handle(c.CreateTenant(name="y"))


def test_events_published_at_the_requests_commit_carry_its_trace_and_correlation(
    world: World,
) -> None:
    app = world.app
    trace = f"00-{'a' * 32}-{'b' * 16}-01"
    with RequestTransaction(app.deps.unit_of_work, claim(app)) as request:
        payment_id = world.pay("12.00", traceparent=trace, correlation_id="req-42")
        request.finish(status=201, body=b"{}")
    with app.deps.unit_of_work() as uow:
        changed = [
            m
            for m in uow.outbox.pending(1000)
            if m.type == "payment.status.changed" and m.payload["payment_id"] == payment_id
        ]
    assert changed, "the payment's events were not published"
    assert {(m.headers.traceparent, m.headers.correlation_id) for m in changed} == {
        (trace, "req-42")
    }
