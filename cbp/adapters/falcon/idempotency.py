"""Idempotency-Key as middleware: each POST runs once per key, in one transaction.

The command, the reads that answer it and the key's record commit together:
whatever the answer was, success or problem, is kept with the work. A 5xx
keeps nothing, so a client retrying after an outage is served rather than
locked out for a day, and a crash before the commit leaves the key free.
"""

from __future__ import annotations

import json
from typing import Any

import falcon

from cbp.adapters.falcon import problems
from cbp.adapters.falcon.http import ApiOptions, principal, raw_body
from cbp.adapters.falcon.routes import ROUTES
from cbp.domain.errors import ConcurrencyConflict, DomainError
from cbp.domain.idempotency import MAX_KEY_LENGTH, IdempotencyRecord, check_key, fingerprint
from cbp.ports.storage.unit_of_work import UnitsOfWork
from cbp.ports.system import Clock
from cbp.services.transaction import KeyHeld, RequestTransaction

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
    """Runs each POST in one transaction with its key's claim; replays a repeat.

    The key is claimed by the command's first statement, and the answer is
    stored before that transaction commits. A repeat of a finished request
    gets the stored answer; a repeat racing the first waits for its commit
    (PostgreSQL holds the second insert of a key until then) and replays it.
    """

    def __init__(self, units: UnitsOfWork, clock: Clock, options: ApiOptions) -> None:
        self.units = units
        self.clock = clock
        self.options = options

    def install(self, app: falcon.App[falcon.Request, falcon.Response]) -> None:
        """Answer a request whose key an earlier one holds with that one's answer."""
        app.add_error_handler(KeyHeld, self._on_key_held)

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        """Give the request its transaction, with a claim when a key was sent."""
        use = KEY_USE.get((req.method, req.uri_template or ""))
        if use is None:
            return
        claim = self._claim(req, use)
        req.context.request_transaction = RequestTransaction(self.units, claim)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        """Commit the work with its answer; keep nothing after a 5xx."""
        transaction: RequestTransaction | None = req.context.get("request_transaction")
        if transaction is None:
            return
        if req.context.get("idempotent_replay"):
            transaction.close()
            return
        status = falcon.http_status_to_code(resp.status)
        body = resp.data if resp.data is not None else (resp.text or "").encode()
        try:
            transaction.finish(status=status, body=body, succeeded=req_succeeded)
        except KeyHeld as held:
            self._on_key_held(req, resp, held, {})
        except ConcurrencyConflict as error:
            problems.on_client_error(req, resp, error, None)
        except Exception as error:
            problems.on_unexpected(req, resp, error, None)

    def _claim(self, req: falcon.Request, use: str) -> IdempotencyRecord | None:
        key = req.get_header("Idempotency-Key")
        if key is None:
            if use == "required":
                raise falcon.HTTPBadRequest(
                    title="Idempotency-Key required",
                    description="send an Idempotency-Key header with this request",
                )
            return None
        if len(key) > MAX_KEY_LENGTH:
            raise falcon.HTTPBadRequest(
                title="Idempotency-Key too long",
                description=f"an Idempotency-Key has at most {MAX_KEY_LENGTH} characters",
            )
        caller = principal(req)
        body = canonical_json(raw_body(req, self.options.max_body_bytes))
        return IdempotencyRecord(
            tenant_id=caller.tenant_id or caller.key_id,  # NOTE: an operator's keys are its own
            key=check_key(key),
            fingerprint=fingerprint(req.method, req.path, body),
            created_at=self.clock.now(),
        )

    def _on_key_held(
        self, req: falcon.Request, resp: falcon.Response, held: KeyHeld, _: Any
    ) -> None:
        req.context.idempotent_replay = True
        transaction: RequestTransaction = req.context.request_transaction
        assert transaction.claim is not None  # NOTE: only a claim can find its key held
        try:
            status, stored = held.holder.replay_for(transaction.claim.fingerprint)
        except DomainError as error:
            problems.on_client_error(req, resp, error, None)
            return
        resp.status = falcon.code_to_http_status(status)
        resp.data = stored
        resp.text = None
        resp.content_type = "application/problem+json" if status >= 400 else "application/json"
        resp.cache_control = ["no-store"]
        resp.set_header("Idempotent-Replayed", "true")
