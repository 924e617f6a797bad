"""Request context and guards: request id, API keys, scopes, limits, bodies."""

from __future__ import annotations

import json
import logging
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import unquote

import falcon
import structlog

from cbp.adapters.falcon.routes import DOCS_ASSETS, ROUTES, TRACE_CONTEXT_TEST
from cbp.adapters.falcon.schemas import DELIVERY_ID_PATTERN, ID_PATTERN, is_clean_text
from cbp.domain.access import Principal, Scope
from cbp.domain.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from cbp.ports.errors import DependencyError
from cbp.ports.rate_limits import RateLimiter

logger = logging.getLogger("cbp.api")


@dataclass(frozen=True, kw_only=True)
class ApiOptions:
    """Limits of the HTTP API, from settings."""

    max_body_bytes: int = 64 * 1024
    rate_limit: int = 600
    rate_window_seconds: float = 60.0
    auth_failure_limit: int = 100
    trace_context_test: bool = False
    processor_webhook_secrets: tuple[str, ...] = ()
    processor_webhook_tolerance_seconds: float = 300.0
    #: Signs page cursors; a process with its own random key accepts only its own.
    cursor_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))


def is_ascii_number(text: str) -> bool:
    """Whether ``text`` is a whole number in ASCII digits (``str.isdigit`` also takes ² and ①)."""
    return 0 < len(text) <= 18 and text.isascii() and text.isdigit()


#: Routes anyone may call.
PUBLIC = frozenset(route.path for route in ROUTES if route.public) | {
    DOCS_ASSETS,
    TRACE_CONTEXT_TEST,
}

#: The scope each (method, route) needs; a route missing here is refused.
SCOPES: dict[tuple[str, str], Scope] = {
    (route.method, route.path): route.scope for route in ROUTES if route.scope is not None
}

#: Operations any valid key may call, whatever its scopes.
ANY_KEY = frozenset(
    (route.method, route.path) for route in ROUTES if route.scope is None and not route.public
)


def bearer_token(req: falcon.Request) -> str:
    """The API key from ``Authorization: Bearer`` or ``X-API-Key`` (or empty)."""
    header = req.get_header("Authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return (req.get_header("X-API-Key") or "").strip()


#: The directory search whose name is one path segment, which may hold an encoded ``/``.
SEARCH_BY_PATH = "/payee/global-payee/name/"


class EncodedSlashes:
    """Routes a directory search on the raw path, so ``%2F`` in a name is a ``/`` of it.

    A WSGI server decodes the path before routing, and "AT&T%20%2F%20DirecTV"
    then reads as two segments (a 404). When the server passes the raw path
    (gunicorn's ``RAW_URI``, uWSGI's ``REQUEST_URI``), a search whose name
    holds an encoded slash is answered as ``?partial_name=`` with that name.
    """

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Rewrite an encoded-slash search before it is routed."""
        raw = req.env.get("RAW_URI") or req.env.get("REQUEST_URI") or ""
        raw_path = raw.partition("?")[0]
        if not raw_path.startswith(SEARCH_BY_PATH):
            return
        segment = raw_path[len(SEARCH_BY_PATH) :]
        if "/" in segment or "%2f" not in segment.lower():
            return
        req.path = SEARCH_BY_PATH.rstrip("/")
        cast(dict[str, Any], req.params)["partial_name"] = unquote(segment)


class RequestContext:
    """Gives every request an id, echoed on its response."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Take the caller's X-Request-ID if sane, else make one."""
        given = req.get_header("X-Request-ID") or ""
        ok = 0 < len(given) <= 128 and given.isascii() and given.isprintable()
        req.context.request_id = given if ok else f"req_{uuid.uuid4().hex}"
        resp.set_header("X-Request-ID", req.context.request_id)
        resp.set_header("X-Content-Type-Options", "nosniff")
        if req.scheme == "https":
            resp.set_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


class Guard:
    """Authenticates, checks the route's scope, counts the key's rate, bounds bodies."""

    def __init__(
        self,
        authenticate: Callable[[str], Principal],
        rate_limiter: RateLimiter,
        options: ApiOptions,
    ) -> None:
        self.authenticate = authenticate
        self.rate_limiter = rate_limiter
        self.options = options

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        """Run before the responder, once the route is known."""
        route = req.uri_template or ""
        _check_params(req, params)
        if route in PUBLIC:
            return
        principal = self._authenticate(req)
        req.context.principal = principal
        structlog.contextvars.bind_contextvars(
            tenant_id=principal.tenant_id, key_id=principal.key_id
        )
        scope = SCOPES.get((req.method, route))
        if scope is not None:
            principal.require(scope)
        elif (req.method, route) not in ANY_KEY:
            if any(known == route for _, known in (*SCOPES, *ANY_KEY)):
                return  # NOTE: a method the route lacks: Falcon answers 405 with Allow
            raise Forbidden("no API key may call this route")
        self._count(principal, resp)
        self._check_body(req)

    def _authenticate(self, req: falcon.Request) -> Principal:
        """The caller; an address that keeps failing gets 429 instead of 401.

        A valid key always passes: keys are 256-bit secrets that no one
        guesses, so the limit is there to stop floods of bad keys, and it must
        not lock out the good clients behind the same address (a proxy's).
        """
        try:
            return self.authenticate(bearer_token(req))
        except Unauthenticated:
            wait = self._failure_wait(req.remote_addr or "unknown")
            if wait is not None:
                raise falcon.HTTPTooManyRequests(
                    title="Too many failed authentications",
                    description="this address sent too many bad keys; wait and retry",
                    retry_after=wait,
                ) from None
            raise

    def _failure_wait(self, address: str) -> int | None:
        """Count a failed authentication; the seconds to wait once over the limit."""
        try:
            decision = self.rate_limiter.hit(
                f"auth-failures:{address}",
                limit=self.options.auth_failure_limit,
                window_seconds=self.options.rate_window_seconds,
            )
        except DependencyError:
            return None  # NOTE: the limiter is down: the caller still gets its 401
        return None if decision.allowed else max(1, int(decision.reset_seconds))

    def _count(self, principal: Principal, resp: falcon.Response) -> None:
        limit, window = self.options.rate_limit, self.options.rate_window_seconds
        try:
            decision = self.rate_limiter.hit(
                f"rate:{principal.key_id}", limit=limit, window_seconds=window
            )
        except DependencyError:
            logger.warning("rate limiter unavailable; the request is let through")
            return  # NOTE: failing open: an outage of the limiter is not an outage of the API
        reset = max(0, int(decision.reset_seconds))
        resp.set_header("RateLimit-Policy", f"{limit};w={int(window)}")
        resp.set_header(
            "RateLimit", f"limit={limit}, remaining={decision.remaining}, reset={reset}"
        )
        if not decision.allowed:
            raise falcon.HTTPTooManyRequests(
                title="Too many requests",
                description=f"more than {limit} requests in {int(window)} seconds",
                retry_after=max(1, reset),
            )

    def _check_body(self, req: falcon.Request) -> None:
        if req.method not in ("POST", "PATCH", "PUT"):
            return
        length = req.content_length or 0
        if length > self.options.max_body_bytes:
            raise falcon.HTTPContentTooLarge(
                title="Request body too large",
                description=f"the body may be at most {self.options.max_body_bytes} bytes",
            )
        media_type = (req.content_type or "").split(";")[0].strip().lower()
        if length and media_type != "application/json":
            raise falcon.HTTPUnsupportedMediaType(
                title="Unsupported media type", description="send the body as application/json"
            )


def _check_params(req: falcon.Request, params: dict[str, Any]) -> None:
    """Path and query values, checked before any query runs.

    An id that cannot be one is not found, like a missing one; text with
    control characters (a NUL, which PostgreSQL cannot store) is refused.
    """
    for name, value in params.items():
        if name.endswith("_id") and not re.fullmatch(id_pattern(name), value):
            raise NotFound(name.removesuffix("_id").replace("_", " "), "with that id")
        if not is_clean_text(value) or len(value) > 200:
            raise InvalidInput(f"{name} must be at most 200 characters, none of them control")
    for name, value in req.params.items():
        values = value if isinstance(value, list) else [value]
        if not all(is_clean_text(v) and len(v) <= 500 for v in values):
            raise InvalidInput(f"query parameter {name} is too long or holds control characters")
        if name.endswith("_id") and not all(re.fullmatch(ID_PATTERN, v) for v in values):
            raise InvalidInput(f"{name} is not an id")


def id_pattern(parameter: str) -> str:
    """The pattern a path parameter ending in ``_id`` must match."""
    return DELIVERY_ID_PATTERN if parameter == "delivery_id" else ID_PATTERN


def principal(req: falcon.Request) -> Principal:
    """The authenticated caller of this request."""
    return req.context.principal  # type: ignore[no-any-return]


def raw_body(req: falcon.Request, limit: int) -> bytes:
    """The request body as sent (read once, kept for the idempotency check)."""
    if "raw_body" not in req.context:
        req.context.raw_body = req.bounded_stream.read(limit + 1)
        if len(req.context.raw_body) > limit:
            raise falcon.HTTPContentTooLarge(
                title="Request body too large", description=f"the body may be at most {limit} bytes"
            )
    return req.context.raw_body  # type: ignore[no-any-return]


#: The only characters JSON counts as white space (``bytes.strip`` also takes \x0b, \x0c).
JSON_WHITESPACE = b" \t\n\r"


def is_blank(raw: bytes) -> bool:
    """Whether a body holds nothing but JSON's white space: it then stands for ``{}``."""
    return not raw.strip(JSON_WHITESPACE)


def parse_json(raw: bytes) -> Any:
    """The JSON document in ``raw``; 400 for anything that is not JSON, or repeats a key."""
    if is_blank(raw):
        return {}
    try:
        return json.loads(raw, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except DuplicateKey as duplicate:
        raise falcon.HTTPBadRequest(
            title="Malformed JSON", description=f"the key {duplicate} appears more than once"
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise falcon.HTTPBadRequest(
            title="Malformed JSON", description="the request body is not valid JSON"
        ) from None
    except RecursionError:
        raise falcon.HTTPBadRequest(
            title="Malformed JSON", description="the request body is nested too deeply"
        ) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class DuplicateKey(ValueError):
    """A JSON object names one key twice: which value was meant cannot be known."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(json.dumps(key[:100]))
        found[key] = value
    return found


Responder = Callable[..., None]
