"""Every route of the API, once: the router, the scope check and OpenAPI read it."""

from __future__ import annotations

from cbp.adapters.falcon.routes.bills import BILLS
from cbp.adapters.falcon.routes.notices import NOTICES
from cbp.adapters.falcon.routes.operations import OPERATIONS
from cbp.adapters.falcon.routes.parties import PARTIES
from cbp.adapters.falcon.routes.payments import PAYMENTS
from cbp.adapters.falcon.routes.route import PAGE, Route

__all__ = ["DOCS_ASSETS", "PAGE", "ROUTES", "TRACE_CONTEXT_TEST", "Route"]

ROUTES: tuple[Route, ...] = (*PARTIES, *PAYMENTS, *BILLS, *NOTICES, *OPERATIONS)

#: Static assets of the docs page (served from the installed package).
DOCS_ASSETS = "/docs/assets/{name}"
#: The W3C Trace Context conformance endpoint: off unless a setting turns it on,
#: never documented, exempt from keys and rate limits.
TRACE_CONTEXT_TEST = "/_test/trace-context"
