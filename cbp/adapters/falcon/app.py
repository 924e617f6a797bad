"""The Falcon application factory: routes, middleware, error mapping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import falcon

from cbp.adapters.falcon import operations as ops
from cbp.adapters.falcon import problems
from cbp.adapters.falcon import resources as r
from cbp.adapters.falcon.http import ApiOptions, EncodedSlashes, Guard, RequestContext
from cbp.adapters.falcon.idempotency import IdempotencyKeys
from cbp.adapters.falcon.metrics import ApiMetrics
from cbp.adapters.falcon.routes import DOCS_ASSETS, ROUTES, TRACE_CONTEXT_TEST
from cbp.adapters.falcon.telemetry import Telemetry
from cbp.domain.access import Principal
from cbp.ports.rate_limits import RateLimiter
from cbp.ports.resilience import BreakerStore
from cbp.ports.storage.unit_of_work import UnitsOfWork
from cbp.ports.system import Clock
from cbp.services.bus import CommandBus
from cbp.services.queries import Queries


def create_app(
    *,
    bus: CommandBus,
    queries: Queries,
    authenticate: Callable[[str], Principal],
    units: UnitsOfWork,
    clock: Clock,
    rate_limiter: RateLimiter,
    options: ApiOptions,
    probes: Mapping[str, ops.Probe],
    metrics: ApiMetrics | None = None,
    breakers: BreakerStore | None = None,
) -> falcon.App[falcon.Request, falcon.Response]:
    """A WSGI app serving the use cases behind ``bus`` and ``queries``.

    ``probes`` are the readiness checks by component name (database, broker,
    cache); ``metrics`` the registry served on /metrics.
    """
    metrics = metrics or ApiMetrics()
    idempotency = IdempotencyKeys(units, clock, options)
    middleware: list[Any] = [
        EncodedSlashes(),
        RequestContext(),
        Telemetry(metrics),
        Guard(authenticate, rate_limiter, options),
        idempotency,
    ]
    app = falcon.App(middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    problems.install(app)
    idempotency.install(app)
    shared = (bus, queries, clock, options)

    resources: dict[str, object] = {
        "customers": r.Customers(*shared),
        "directory": r.Directory(*shared),
        "payees": r.Payees(*shared),
        "funding": r.FundingAccounts(*shared),
        "payments": r.Payments(*shared),
        "recurring": r.RecurringPayments(*shared),
        "bills": r.Bills(*shared),
        "autopay": r.Autopay(*shared),
        "exceptions": r.Exceptions(*shared),
        "dead_letters": r.DeadLetters(*shared),
        "webhooks": r.WebhookEndpoints(*shared),
        "processor_events": r.ProcessorEvents(*shared),
        "health": ops.Health(probes, breakers),
        "metrics": ops.Metrics(metrics),
        "docs": ops.Docs(),
    }
    registered: dict[str, tuple[str, str | None]] = {}
    for route in ROUTES:
        target = (route.resource, route.suffix)
        if registered.setdefault(route.path, target) != target:
            raise ValueError(f"{route.path} is served by two resources")
    for path, (resource, suffix) in registered.items():
        app.add_route(path, resources[resource], suffix=suffix)
    app.add_route(DOCS_ASSETS, resources["docs"], suffix="asset")
    if options.trace_context_test:
        app.add_route(
            TRACE_CONTEXT_TEST, ops.TraceContextTest(max_body_bytes=options.max_body_bytes)
        )
    return app
