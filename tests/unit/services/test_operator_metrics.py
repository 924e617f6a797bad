"""What operators are alerted on, read from every storage: overdue payments, paused webhooks."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.core import Metric

from cbp.adapters.memory.clock import InMemoryClock
from cbp.domain.payment import PaymentStatus
from cbp.entrypoints.wsgi import payment_health_collector
from cbp.services import commands as c
from tests.unit.services.conftest import World


def gauges(world: World) -> dict[str, float]:
    collected: list[Metric] = list(payment_health_collector(world.app).collect())
    return {metric.name: metric.samples[0].value for metric in collected}


def test_a_payment_its_day_passed_by_is_overdue_and_a_paused_endpoint_is_counted(
    world: World, clock: InMemoryClock
) -> None:
    assert gauges(world) == {
        "cbp_payments_overdue": 0,
        "cbp_payments_processing_oldest_seconds": 0,
        "cbp_webhook_endpoints_paused": 0,
    }
    payment_id = world.pay("25.00")  # NOTE: for today, Monday 2026-03-02, not yet sent
    assert world.status(payment_id) == "scheduled"
    assert gauges(world)["cbp_payments_overdue"] == 0
    clock.advance(days=1)
    assert gauges(world)["cbp_payments_overdue"] == 1

    with world.app.deps.unit_of_work() as uow:
        scheduled_since = uow.payments.oldest_change(PaymentStatus.SCHEDULED)
        assert uow.payments.oldest_change(PaymentStatus.PROCESSING) is None
    assert scheduled_since is not None and scheduled_since <= clock.now() - timedelta(days=1)

    world.app.handle(
        c.RegisterWebhookEndpoint(tenant_id=world.tenant_id, url="https://hooks.example.com/x")
    )
    with world.app.deps.unit_of_work() as uow:
        endpoint = uow.webhook_endpoints.for_tenant(world.tenant_id)
        assert endpoint is not None
        endpoint.record_failed(at=clock.now() - timedelta(days=6), pause_after=timedelta(days=5))
        assert endpoint.record_failed(at=clock.now(), pause_after=timedelta(days=5))
        uow.webhook_endpoints.save_health(endpoint)
        uow.commit()
    assert gauges(world)["cbp_webhook_endpoints_paused"] == 1
