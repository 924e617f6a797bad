"""The Falcon application factory: routes, middleware, error mapping."""

from __future__ import annotations

from typing import Any

import falcon

from cbp.adapters.falcon import problems
from cbp.adapters.falcon import resources as r
from cbp.adapters.falcon.http import ApiOptions, Guard, RequestContext
from cbp.services.bus import CommandBus
from cbp.services.dependencies import Dependencies
from cbp.services.queries import Queries


def create_app(
    *, bus: CommandBus, queries: Queries, deps: Dependencies, options: ApiOptions
) -> falcon.App[falcon.Request, falcon.Response]:
    """A WSGI app serving the use cases behind ``bus`` and ``queries``."""
    middleware: list[Any] = [RequestContext(), Guard(deps, options)]
    app = falcon.App(middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    problems.install(app)
    shared = (bus, queries, deps, options)

    customers = r.Customers(*shared)
    app.add_route("/customer", customers)
    app.add_route("/customer/{customer_id}", customers, suffix="one")

    directory = r.Directory(*shared)
    app.add_route("/payee/global-payee", directory)
    app.add_route("/payee/global-payee/name/{partial_name}", directory, suffix="search")
    app.add_route("/payee/global-payee/{global_payee_id}", directory, suffix="one")

    payees = r.Payees(*shared)
    app.add_route("/payee", payees)
    app.add_route("/payee/{payee_id}", payees, suffix="one")

    funding = r.FundingAccounts(*shared)
    app.add_route("/funding-account", funding)
    app.add_route("/funding-account/{account_id}", funding, suffix="one")

    payments = r.Payments(*shared)
    app.add_route("/payment", payments)
    app.add_route("/payment/one-time", payments, suffix="one_time")
    app.add_route("/payment/process", payments, suffix="process")
    app.add_route("/payment/process/{job_id}", payments, suffix="job")
    app.add_route("/payment/{payment_id}", payments, suffix="one")
    app.add_route("/payment/{payment_id}/events", payments, suffix="events")
    app.add_route("/payment/{payment_id}/cancel", payments, suffix="cancel")

    exceptions = r.Exceptions(*shared)
    app.add_route("/exception", exceptions)
    app.add_route("/exception/send-customer-notification", exceptions, suffix="notify")
    app.add_route("/exception/{exception_id}", exceptions, suffix="one")
    app.add_route("/exception/{exception_id}/resolve", exceptions, suffix="resolve")
    app.add_route("/notification/{notification_id}", exceptions, suffix="notification")

    health = r.Health(*shared)
    app.add_route("/health/live", health, suffix="live")
    app.add_route("/health/ready", health, suffix="ready")
    return app
