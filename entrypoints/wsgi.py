"""The WSGI application for gunicorn: ``cbp.entrypoints.wsgi:create()``."""

from __future__ import annotations

import atexit
import logging

import falcon

from cbp.adapters.falcon.app import create_app
from cbp.adapters.falcon.http import ApiOptions
from cbp.adapters.falcon.metrics import (
    ApiMetrics,
    BreakerCollector,
    MessagingCollector,
    PaymentHealth,
    PaymentHealthCollector,
)
from cbp.adapters.falcon.operations import Probe
from cbp.bootstrap import Cbp, bootstrap
from cbp.domain.payment import PaymentStatus
from cbp.domain.policy import PaymentPolicy
from cbp.ports.messages import Backlog, DeliveryStatus
from cbp.settings import Settings

from .observability import configure_logging, configure_tracing


def readiness_probes(core: Cbp) -> dict[str, Probe]:
    """What must answer for this process to serve: database, broker, cache."""

    def database() -> None:
        with core.deps.unit_of_work() as uow:
            uow.tenants.any_exist()

    return {
        "database": database,
        "broker": lambda: core.container.adapters.broker().ping(),
        "cache": lambda: core.container.adapters.cache().get("health:probe"),
    }


def messaging_collector(core: Cbp) -> MessagingCollector:
    """Metrics of the outbox and deliveries, read from the database at scrape time."""

    def read() -> tuple[Backlog, dict[DeliveryStatus, int]]:
        with core.deps.unit_of_work() as uow:
            return uow.outbox.backlog(), uow.deliveries.counts()

    return MessagingCollector(read, core.deps.clock.now)


def payment_health_collector(core: Cbp) -> PaymentHealthCollector:
    """Stuck payments and paused webhook endpoints, read from the database at scrape time."""

    def read() -> PaymentHealth:
        today = PaymentPolicy().local_now(core.deps.clock.now()).date()
        with core.deps.unit_of_work() as uow:
            return PaymentHealth(
                overdue=uow.payments.overdue(today),
                oldest_processing=uow.payments.oldest_change(PaymentStatus.PROCESSING),
                paused_endpoints=uow.webhook_endpoints.paused(),
            )

    return PaymentHealthCollector(read, core.deps.clock.now)


def create(settings: Settings | None = None) -> falcon.App[falcon.Request, falcon.Response]:
    """Build the core from settings and serve it over HTTP (one per worker).

    For any WSGI server: the core is closed when the process exits.
    """
    app, core = create_with_core(settings or Settings())
    atexit.register(core.close)
    return app


def create_with_core(settings: Settings) -> tuple[falcon.App[falcon.Request, falcon.Response], Cbp]:
    """The app and the core behind it, for a server that closes the core itself."""
    configure_logging(getattr(logging, settings.log_level))
    configure_tracing(service_name="cbp-api", otlp_endpoint=settings.otlp_endpoint)
    core = bootstrap(settings)
    if settings.backend(settings.broker_url) == "memory":
        core.start_pump(
            settings.pump_interval_seconds,
            periodic_seconds=settings.reconcile_interval_seconds,
            retention_days=settings.message_retention_days,
        )
    return api_app(core, settings), core


def api_app(core: Cbp, settings: Settings) -> falcon.App[falcon.Request, falcon.Response]:
    """The Falcon app serving ``core`` as ``settings`` say: limits, probes, metrics."""
    return create_app(
        bus=core.bus,
        queries=core.queries,
        authenticate=core.authenticate,
        units=core.deps.unit_of_work,
        clock=core.deps.clock,
        rate_limiter=core.deps.rate_limiter,
        options=ApiOptions(
            max_body_bytes=settings.max_body_bytes,
            rate_limit=settings.rate_limit,
            rate_window_seconds=settings.rate_window_seconds,
            auth_failure_limit=settings.auth_failure_limit,
            trace_context_test=settings.trace_context_test_endpoint,
            processor_webhook_secrets=tuple(
                secret.strip()
                for secret in (settings.secret("processor_webhook_secrets") or "").split(",")
                if secret.strip()
            ),
            processor_webhook_tolerance_seconds=settings.processor_webhook_tolerance_seconds,
            cursor_key=core.container.gateways.secrets().cursor_key,
        ),
        probes=readiness_probes(core),
        metrics=ApiMetrics(
            (
                messaging_collector(core),
                payment_health_collector(core),
                BreakerCollector(core.container.gateways.breaker_store()),
            )
        ),
        breakers=core.container.gateways.breaker_store(),
    )
