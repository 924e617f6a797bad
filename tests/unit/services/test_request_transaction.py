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


def request(app: Cbp, key: str = "k-1") -> RequestTransaction:
    return RequestTransaction(app.deps.unit_of_work, claim(app, key))


def tenant_names(app: Cbp) -> list[str]:
    return [t.name for t in app.queries.tenants()]


def test_the_work_and_its_answer_commit_together_and_a_repeat_replays(app: Cbp) -> None:
    first = request(app)
    tenant_id = app.bus.handle(c.CreateTenant(name="Acme"), uow=first.uow)
    assert [t.id for t in app.queries.within(first.uow).tenants()] == [tenant_id]
    first.finish(status=201, body=b'{"id": 1}', succeeded=True)
    assert tenant_names(app) == ["Acme"]
    with pytest.raises(KeyHeld) as held:
        app.bus.handle(c.CreateTenant(name="Acme"), uow=request(app).uow)
    assert held.value.holder.replay_for("f1") == (201, b'{"id": 1}')
    with pytest.raises(IdempotencyKeyReused):
        held.value.holder.replay_for("f2")
    assert tenant_names(app) == ["Acme"]


def test_a_request_that_never_finishes_leaves_neither_work_nor_key(app: Cbp) -> None:
    lost = request(app)
    app.bus.handle(c.CreateTenant(name="Lost"), uow=lost.uow)
    lost.close()  # NOTE: the process dies before the commit
    assert tenant_names(app) == []
    retried = request(app)
    app.bus.handle(c.CreateTenant(name="Retried"), uow=retried.uow)
    retried.finish(status=201, body=b"{}", succeeded=True)
    assert tenant_names(app) == ["Retried"]


def test_a_server_error_keeps_nothing_so_the_key_is_free(app: Cbp) -> None:
    failed = request(app)
    app.bus.handle(c.CreateTenant(name="Half done"), uow=failed.uow)
    failed.finish(status=500, body=b"", succeeded=False)
    assert tenant_names(app) == []
    done = request(app)
    app.bus.handle(c.CreateTenant(name="Done"), uow=done.uow)
    done.finish(status=201, body=b"{}", succeeded=True)
    assert tenant_names(app) == ["Done"]


def test_a_refused_command_keeps_its_answer_and_none_of_its_work(app: Cbp) -> None:
    refused = request(app)
    app.bus.handle(c.CreateTenant(name="Before the refusal"), uow=refused.uow)
    with pytest.raises(NotFound):
        app.bus.handle(
            c.SetTenantContact(tenant_id="ten_missing", contact_email=None), uow=refused.uow
        )
    refused.finish(status=404, body=b"not found", succeeded=False)
    assert tenant_names(app) == []
    with pytest.raises(KeyHeld) as held:
        app.bus.handle(c.CreateTenant(name="Again"), uow=request(app).uow)
    assert held.value.holder.replay_for("f1") == (404, b"not found")


def test_a_write_conflict_starts_the_request_over_with_its_key_claimed_again(app: Cbp) -> None:
    conflicting = request(app)
    attempts: list[str] = []

    def create_once_conflicting() -> str:
        tenant_id = app.bus.handle(c.CreateTenant(name="x"), uow=conflicting.uow)
        attempts.append(tenant_id)
        if len(attempts) == 1:
            conflicting.restart()
            raise ConcurrencyConflict("another writer won")
        return str(tenant_id)

    kept = retry_on_conflict(create_once_conflicting)
    conflicting.finish(status=201, body=b"{}", succeeded=True)
    assert len(attempts) == 2
    assert [t.id for t in app.queries.tenants()] == [kept]  # NOTE: the first try left nothing
    with pytest.raises(KeyHeld):
        app.bus.handle(c.CreateTenant(name="y"), uow=request(app).uow)


def test_events_published_in_a_request_carry_its_trace_and_correlation(world: World) -> None:
    app = world.app
    trace = f"00-{'a' * 32}-{'b' * 16}-01"
    paying = request(app)
    payment_id = app.bus.handle(
        c.CreateOneTimePayment(
            tenant_id=world.tenant_id,
            customer_id=world.customer_id,
            payee_id=world.payee_id,
            funding_account_id=world.funding_id,
            amount="12.00",
            traceparent=trace,
            correlation_id="req-42",
        ),
        uow=paying.uow,
    )
    paying.finish(status=201, body=b"{}", succeeded=True)
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
