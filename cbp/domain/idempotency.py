"""Idempotency: one effect per client key, whatever the client retries."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cbp.domain.errors import IdempotencyKeyInFlight, IdempotencyKeyReused, InvalidInput

MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)


class IdempotencyState(enum.StrEnum):
    """Whether the first request with a key has finished."""

    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"


def fingerprint(method: str, path: str, body: bytes) -> str:
    """A digest of what the client asked, to tell a replay from a reuse."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> str:
    """An idempotency key is 1 to 255 visible ASCII characters."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise InvalidInput(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible characters")
    return key


@dataclass(kw_only=True)
class IdempotencyRecord:
    """The first request made with a key and, once done, its response."""

    tenant_id: str
    key: str
    fingerprint: str
    created_at: datetime
    state: IdempotencyState = IdempotencyState.IN_FLIGHT
    response_status: int | None = None
    response_body: bytes | None = None

    @property
    def expires_at(self) -> datetime:
        """When the key may be forgotten."""
        return self.created_at + RETENTION

    def expired(self, now: datetime) -> bool:
        """Whether the key is past its retention, free for a new request."""
        return self.expires_at <= now

    def replay_for(self, request_fingerprint: str) -> tuple[int, bytes]:
        """The stored response for a retry of the same request.

        A different request with the same key, or a retry while the first
        is still running, is refused with its own error.
        """
        if request_fingerprint != self.fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
        if (
            self.state is IdempotencyState.IN_FLIGHT
            or self.response_status is None
            or self.response_body is None
        ):
            raise IdempotencyKeyInFlight("a request with this Idempotency-Key is still running")
        return self.response_status, self.response_body

    def complete(self, *, status: int, body: bytes) -> None:
        """Keep the response so a retry gets the very same answer."""
        self.state = IdempotencyState.COMPLETED
        self.response_status = status
        self.response_body = body
