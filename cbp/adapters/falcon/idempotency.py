"""Idempotency-Key as middleware: each POST runs at most once per key, its answer replayed.

Before the responder, the key is claimed (or its stored answer replayed and
the responder skipped); after it, whatever the answer was, success or
problem, is kept. A 5xx is never kept: the key is freed, so a client
retrying after an outage is served rather than locked out for a day.
"""

from __future__ import annotations

import json
from typing import Any

import falcon

from cbp.adapters.falcon.http import ApiOptions, principal, raw_body
from cbp.adapters.falcon.routes import ROUTES
from cbp.domain.idempotency import MAX_KEY_LENGTH, fingerprint
from cbp.services import idempotency
from cbp.services.dependencies import Dependencies

#: How each (method, route) treats the header: "required", "accepted", or absent.
KEY_USE: dict[tuple[str, str], str] = {
    (r.method, r.path): r.idempotency for r in ROUTES if r.idempotency is not None
}


def canonical_json(raw: bytes) -> bytes:
    """The body with key order and spacing normalised: a reformatted retry is the same request."""
    try:
        return json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        return raw


class IdempotencyKeys:
    """Claims the key before a POST runs, keeps its answer after; replays a repeat."""

    def __init__(self, deps: Dependencies, options: ApiOptions) -> None:
        self.deps = deps
        self.options = options

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        """Claim the key, or answer with the first request's response."""
        use = KEY_USE.get((req.method, req.uri_template or ""))
        if use is None:
            return
        key = req.get_header("Idempotency-Key")
        if key is None:
            if use == "required":
                raise falcon.HTTPBadRequest(
                    title="Idempotency-Key required",
                    description="send an Idempotency-Key header with this request",
                )
            return
        if len(key) > MAX_KEY_LENGTH:
            raise falcon.HTTPBadRequest(
                title="Idempotency-Key too long",
                description=f"an Idempotency-Key has at most {MAX_KEY_LENGTH} characters",
            )
        caller = principal(req)
        scope = caller.tenant_id or caller.key_id  # NOTE: an operator's keys are its own
        body = canonical_json(raw_body(req, self.options.max_body_bytes))
        claim = {
            "tenant_id": scope,
            "key": key,
            "fingerprint": fingerprint(req.method, req.path, body),
        }
        replay = idempotency.begin(self.deps, **claim)
        if replay is not None:
            status, stored = replay
            resp.status = falcon.code_to_http_status(status)
            resp.data = stored
            resp.content_type = "application/problem+json" if status >= 400 else "application/json"
            resp.cache_control = ["no-store"]
            resp.set_header("Idempotent-Replayed", "true")
            resp.complete = True
            return
        req.context.idempotency_claim = claim

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        """Keep the answer for replays; free the key after a 5xx."""
        claim = req.context.get("idempotency_claim")
        if claim is None:
            return
        status = falcon.http_status_to_code(resp.status)
        body = resp.data if resp.data is not None else (resp.text or "").encode()
        idempotency.finish(self.deps, status=status, body=body if status < 500 else b"", **claim)
